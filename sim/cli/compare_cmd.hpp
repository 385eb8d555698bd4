#pragma once
/// @file compare_cmd.hpp
/// @brief `kvsim compare`: runs one scenario under several KV offload policies, each `kvsim run` in its own
/// process (SimGrid allows one engine per process), and tabulates their summaries (docs/outputs.md).

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

namespace kvsim::cli {

/// @brief Options of `kvsim compare`.
struct CompareOptions {
  std::string scenario;
  std::string policies;  ///< comma-separated offload policy names
  std::vector<std::string> sets;
  std::string out_dir;
  std::optional<long> seed;
  std::string platforms;
  std::optional<bool> audit;
  int jobs = 1;
  std::string log_level = "warn";  ///< kvsim's --log-level, passed on to each run
};

/// @brief Registers the subcommand and its options on `app`.
void add_compare_command(CLI::App& app, CompareOptions& opt);
/// @brief Runs it: 0 when every policy ran, 1 when one failed (the others' results are still written), and
/// InputError (exit 2, nothing written) on bad input common to all runs.
int run_compare(const CompareOptions& opt);

}  // namespace kvsim::cli
