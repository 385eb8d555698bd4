#pragma once
/// @file capacity_cmd.hpp
/// @brief `kvsim capacity`: the highest Poisson session arrival rate (sessions per hour) at which a scenario still
/// meets its SLOs, with a 95% confidence interval, for every point of the other `--param`s (per policy, per GPU,
/// ...). Every probe runs `--replicates` seeds over `--horizon` of simulated time; capacity_search.hpp has the
/// statistics and docs/sweeps.md the search.

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

namespace kvsim::cli {

/// @brief Options of `kvsim capacity`.
struct CapacityOptions {
  std::string scenario;
  std::string slo;
  std::vector<std::string> params;
  std::vector<std::string> sets;
  std::string from = "10/h";    ///< the first rate probed
  double precision = 0.05;      ///< stop when each bracket's (high - low) / high is at most this
  int max_runs = 30;            ///< probes per point at most
  int replicates = 4;           ///< runs per probe; replicate r runs seed + r x 1000003
  std::string horizon = "20h";  ///< workload.duration of every run (the scenario's warmup is kept)
  int jobs = 0;                 ///< 0: the number of cores
  std::string out_dir;
  std::optional<long> seed;
  std::string platforms;
  std::string log_level = "warn";
  bool no_early_stop = false;  ///< run every probe to the end, even once its verdict is certain
};

/// @brief Registers the subcommand on `app`.
void add_capacity_command(CLI::App& app, CapacityOptions& opt);
/// @brief Runs it: 0 when every point's search ended, 1 when a probe failed to run, InputError (exit 2) on
/// bad input.
int run_capacity(const CapacityOptions& opt);

}  // namespace kvsim::cli
