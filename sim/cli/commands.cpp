#include "sim/cli/commands.hpp"

#include <fmt/format.h>

#include <chrono>
#include <iostream>

#include "sim/cli/slo.hpp"
#include "sim/diagnostics.hpp"
#include "sim/output.hpp"
#include "sim/run.hpp"
#include "sim/run_size.hpp"
#include "sim/safe_output.hpp"
#include "sim/scenario.hpp"
#include "sim/schema_doc.hpp"
#include "sim/trace_file.hpp"

namespace kvsim::cli {
namespace {

Catalog load_catalog(const Commands& c) {
  return Catalog::load(c.platforms.empty() ? Catalog::default_dir() : std::filesystem::path(c.platforms));
}

RunLimits run_limits(const Commands& c) {
  return parse_run_limits(c.max_events, c.max_memory);
}

// Checks everything run checks before simulating, the run's estimated size against the limits included, and
// prints the estimate.
int run_validate(const Commands& c) {
  const RunLimits limits = run_limits(c);
  const Catalog cat = load_catalog(c);
  const Scenario s = load_scenario(c.scenario, c.sets, cat);
  check_deployment(s);
  const RunSize size = estimate_run_size(s);
  check_run_size(size, limits);
  std::cout << fmt::format("{}: valid ({} on {} x {}, tp {}, policy {})\n", c.scenario, s.model.name, s.gpu_count,
                           s.deployment.gpu.name, s.deployment.tensor_parallel, s.scheduler.offload_policy);
  std::cout << describe_run_size(size, limits);
  return 0;
}

std::filesystem::path out_dir(const Commands& c) {
  return c.out_dir.empty() ? std::filesystem::path("out") / std::filesystem::path(c.scenario).stem()
                           : std::filesystem::path(c.out_dir);
}

// Refuses a bad --out or --trace-events before anything is loaded or simulated (exit 2, nothing written).
void check_outputs(const Commands& c, const std::filesystem::path& out) {
  check_output_dir(out, c.out_dir.empty() ? "output directory" : "--out", run_output_names());
  if (c.trace_events.empty()) return;
  check_output_file(c.trace_events, "--trace-events", {c.scenario});
  const auto events = std::filesystem::absolute(c.trace_events).lexically_normal();
  if (events.parent_path() == std::filesystem::absolute(out).lexically_normal()) {
    throw InputError(std::vector<Diagnostic>{
        {"", "--trace-events", 0, 0, c.trace_events,
         "is inside the --out directory, which kvsim replaces as a whole; write it elsewhere"}});
  }
}

// --early-stop: capacity's objectives, of which the TTFT percentiles can stop a run.
EarlyStop early_stop_option(const std::string& text) {
  if (text.empty()) return {};
  std::vector<Slo> slos;
  try {
    slos = parse_slos(text);
  } catch (const InputError& e) {  // the same syntax as --slo, reported at this flag
    std::vector<Diagnostic> items = e.items();
    for (auto& d : items) d.key = "--early-stop";
    throw InputError(std::move(items));
  }
  EarlyStop e = early_stop_for(slos);
  if (!e.enabled()) {
    throw InputError(std::vector<Diagnostic>{
        {"", "--early-stop", 0, 0, text, "stops only on a TTFT percentile: give ttft_p50, ttft_p90 or ttft_p99"}});
  }
  return e;
}

int run_run(const Commands& c) {
  const std::filesystem::path out = out_dir(c);
  check_outputs(c, out);
  RunOptions options;
  options.limits = run_limits(c);
  options.early_stop = early_stop_option(c.early_stop);
  note_stale_staging(remove_stale_staging_beside(out), std::cerr);
  const Catalog cat = load_catalog(c);
  std::vector<std::string> sets = c.sets;
  if (c.seed) sets.push_back(fmt::format("seed={}", *c.seed));
  const Scenario s = load_scenario(c.scenario, sets, cat);
  const auto wall_start = std::chrono::steady_clock::now();
  if (c.audit) options.audit = *c.audit;
  std::optional<TraceFile> trace;  // opened before the run: a bad path fails fast, with nothing written
  if (!c.trace_events.empty()) options.trace = &trace.emplace(c.trace_events, s, std::vector{s.file}).writer();
  const RunResult r = run_scenario(s, options);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  write_run_outputs(out, s, r);
  if (trace) trace->commit();
  if (!c.quiet) {
    print_report(std::cout, s, r);
    std::cout << fmt::format(
        "\n  outputs in {}/ (summary.json, sessions.csv, rounds.csv, timeline.csv, transfers.csv); {:.2f} s wall\n",
        out.string(), wall);
    if (trace) std::cout << fmt::format("  trace events in {} (open in https://ui.perfetto.dev)\n", c.trace_events);
  }
  return 0;
}

void add_limit_flags(CLI::App& cmd, Commands& c) {
  cmd.add_option("--max-events", c.max_events,
                 "Refuse or stop a run over this many forward steps and KV transfers (default 1e9)");
  cmd.add_option("--max-memory", c.max_memory, "Refuse or stop a run needing more memory than this (default 16GiB)");
}

}  // namespace

void add_commands(CLI::App& app, Commands& c) {
  auto* schema = app.add_subcommand("schema", "Print every scenario key: type, unit, default, range, description");
  schema->add_option("--format", c.schema_format, "markdown")->check(CLI::IsMember({"markdown"}));

  auto* validate = app.add_subcommand("validate", "Check a scenario and report every problem (exit 2 if any)");
  validate->add_option("scenario", c.scenario, "Scenario YAML")->required();
  validate->add_option("--set", c.sets, "Override a key: key.path=value (repeatable)");
  validate->add_option("--platforms", c.platforms, "Catalog directory");
  add_limit_flags(*validate, c);

  auto* run = app.add_subcommand("run", "Simulate a scenario and write its report and outputs");
  run->add_option("scenario", c.scenario, "Scenario YAML")->required();
  run->add_option("--out", c.out_dir, "Output directory (default: out/<scenario name>)");
  run->add_option("--set", c.sets, "Override a key: key.path=value (repeatable)");
  run->add_option("--trace-events", c.trace_events, "Also write a Chrome trace-event JSON timeline (Perfetto) to FILE");
  run->add_option("--seed", c.seed, "Random seed (overrides the scenario's)");
  run->add_option("--platforms", c.platforms, "Catalog directory");
  run->add_flag("--quiet", c.quiet, "Print nothing on success");
  add_limit_flags(*run, c);
  run->add_flag("--audit,!--no-audit", c.audit, "Check invariants after every event (default: on in debug builds)");
  run->add_option("--early-stop", c.early_stop,
                  "End the run once one of these objectives (as capacity's --slo, e.g. ttft_p90=30s) is certainly "
                  "missed, or its queue grows without bound; summary.json says why (docs/sweeps.md)");
}

int run_commands(const CLI::App& app, const Commands& c) {
  if (app.got_subcommand("schema")) {
    std::cout << scenario_markdown();
    return 0;
  }
  if (app.got_subcommand("validate")) return run_validate(c);
  if (app.got_subcommand("run")) return run_run(c);
  return 2;
}

}  // namespace kvsim::cli
