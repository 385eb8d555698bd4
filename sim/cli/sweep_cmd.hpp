#pragma once
/// @file sweep_cmd.hpp
/// @brief `kvsim sweep`: runs a scenario at every point of a parameter grid, R seeds each, one child `kvsim run`
/// per run (SimGrid allows one engine per process), N at once, or shared among MPI ranks. Resumable: a sweep
/// started again with the same command runs only what its directory does not record yet (docs/sweeps.md).

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

namespace kvsim::cli {

/// @brief Options of `kvsim sweep`.
struct SweepOptions {
  std::string scenario;
  std::vector<std::string> params;  ///< --param key=SPEC
  std::vector<std::string> sets;
  int replicates = 1;
  int jobs = 0;  ///< 0: the number of cores
  std::string out_dir;
  std::optional<long> seed;
  std::string platforms;
  std::optional<bool> audit;
  bool retry_failed = false;
  bool plot = false;
  std::string log_level = "warn";
};

/// @brief Registers the subcommand and its options on `app`.
void add_sweep_command(CLI::App& app, SweepOptions& opt);
/// @brief Runs it: 0 when every run succeeded, 1 when some failed (recorded with their errors), InputError
/// (exit 2, nothing run) when the input is bad for every point or the directory holds another sweep.
int run_sweep(const SweepOptions& opt);

}  // namespace kvsim::cli
