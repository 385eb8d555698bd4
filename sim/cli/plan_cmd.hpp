#pragma once
/// @file plan_cmd.hpp
/// @brief `kvsim plan SCENARIO --gpus TYPE:N[,TYPE:N] --slo ...`: searches deployments of a GPU budget (tensor
/// parallelism per pool, replica counts, mixed replicas or a prefill/decode split and its ratio, router, KV offload
/// policy), prunes with `kvsim analyze`'s bounds, runs the rest as child processes (in parallel, resumable, as
/// `kvsim sweep` does), and reports the Pareto frontier of sessions per hour per GPU against TTFT p90 among the
/// candidates that meet the SLOs, with the winner written out as a runnable scenario. docs/plan.md describes it.

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

namespace kvsim::cli {

/// @brief Options of `kvsim plan`.
struct PlanOptions {
  std::string scenario;
  std::string gpus;            ///< TYPE:N[,TYPE:N]
  std::string slo;             ///< as `kvsim capacity --slo`
  std::string tp;              ///< tensor parallelism per pool, e.g. 1,2,4,8 (default: powers of two up to the budget)
  std::string layouts;         ///< mixed,pd (default: both when the scenario format has cluster.pools)
  std::string pd_tp = "same";  ///< same: both P/D pools of one type share a TP; any: every pair
  std::string routers;         ///< default: session-affinity,least-loaded (those registered)
  std::string policies = "swap,recompute";
  std::vector<std::string> sets;
  int replicates = 1;  ///< runs per candidate; replicate r runs seed + r x 1000003
  int jobs = 0;        ///< 0: the number of cores
  std::string out_dir;
  std::string write_scenario;  ///< also write the winner's scenario here
  std::optional<long> seed;
  std::string platforms;
  bool no_prune = false;       ///< simulate every candidate that can run (only fit and invalid ones are skipped)
  bool no_early_stop = false;  ///< run every candidate to its end, even once it has surely missed a TTFT objective
  std::string log_level = "warn";
};

/// @brief Registers the subcommand on `app`.
void add_plan_command(CLI::App& app, PlanOptions& opt);
/// @brief Runs it: 0 when every candidate it simulated ran, 1 when some failed, InputError (exit 2) on bad input.
int run_plan(const PlanOptions& opt);

}  // namespace kvsim::cli
