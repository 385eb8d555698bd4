#pragma once
/// @file commands.hpp
/// @brief The subcommands other than analyze: schema, validate, run.

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

namespace kvsim::cli {

/// @brief Options of every subcommand registered by add_commands.
struct Commands {
  std::string schema_format = "markdown";
  std::string scenario;
  std::vector<std::string> sets;
  std::string out_dir;
  std::string trace_events;  ///< run: the trace-event JSON to write ("" for none)
  std::string max_events;    ///< run, validate: --max-events ("" for the default)
  std::string max_memory;    ///< run, validate: --max-memory ("" for the default)
  std::optional<long> seed;
  std::string platforms;
  bool quiet = false;
  std::optional<bool> audit;
  std::string early_stop;  ///< run: --early-stop objectives ("" for none)
};

/// @brief Registers schema, validate and run on `app`.
void add_commands(CLI::App& app, Commands& c);
/// @brief Runs whichever of them was parsed.
int run_commands(const CLI::App& app, const Commands& c);

}  // namespace kvsim::cli
