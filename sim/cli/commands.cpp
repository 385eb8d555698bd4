#include "sim/cli/commands.hpp"

#include <fmt/format.h>

#include <iostream>

#include "sim/scenario.hpp"
#include "sim/schema_doc.hpp"

namespace kvsim::cli {
namespace {

Catalog load_catalog(const Commands& c) {
  return Catalog::load(c.platforms.empty() ? Catalog::default_dir() : std::filesystem::path(c.platforms));
}

int run_validate(const Commands& c) {
  const Catalog cat = load_catalog(c);
  const Scenario s = load_scenario(c.scenario, c.sets, cat);
  std::cout << fmt::format("{}: valid ({} on {} x {}, tp {}, policy {})\n", c.scenario, s.model.name, s.gpu_count,
                           s.deployment.gpu.name, s.deployment.tensor_parallel, s.scheduler.offload_policy);
  return 0;
}

}  // namespace

void add_commands(CLI::App& app, Commands& c) {
  auto* schema = app.add_subcommand("schema", "Print every scenario key: type, unit, default, range, description");
  schema->add_option("--format", c.schema_format, "markdown")->check(CLI::IsMember({"markdown"}));

  auto* validate = app.add_subcommand("validate", "Check a scenario and report every problem (exit 2 if any)");
  validate->add_option("scenario", c.scenario, "Scenario YAML")->required();
  validate->add_option("--set", c.sets, "Override a key: key.path=value (repeatable)");
  validate->add_option("--platforms", c.platforms, "Catalog directory");
}

int run_commands(const CLI::App& app, const Commands& c) {
  if (app.got_subcommand("schema")) {
    std::cout << scenario_markdown();
    return 0;
  }
  if (app.got_subcommand("validate")) return run_validate(c);
  return 2;
}

}  // namespace kvsim::cli
