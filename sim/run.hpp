#pragma once
/// @file run.hpp
/// @brief One simulation of a scenario: checks that the deployment is possible, builds the platform and the
/// actors, runs SimGrid, and returns the metrics. SimGrid allows one engine per process: call it once.

#include <memory>

#include "engine/early_stop.hpp"
#include "engine/metrics.hpp"
#include "engine/trace_events.hpp"
#include "sim/run_size.hpp"
#include "sim/scenario.hpp"

namespace kvsim {

/// @brief What a run produced.
struct RunResult {
  std::unique_ptr<RunMetrics> metrics;
  double end_s = 0;
  std::uint64_t sessions_started = 0;
  std::int64_t kv_pool_blocks = 0;  ///< KV blocks of each replica's pool (vllm-v1: num_gpu_blocks - 1, the null block)
  std::int64_t kv_block_tokens = 0;
  double kv_pool_bytes = 0;  ///< bytes of that pool, in the units of ReplicaState::hbm_kv_bytes
  /// Why RunOptions::early_stop ended the run before its sessions finished (empty: it ran to the end). A stopped
  /// run's metrics cover what was simulated up to stopped_at_s; its verdict is the reason, not its summary.
  std::string stopped_early;
  double stopped_at_s = 0;
};

/// @brief Refuses deployments that can never work, with the arithmetic: a session longer than the model's context
/// (check_context), weights that do not fit the HBM at the chosen tensor parallelism, and a session whose context
/// can never fit even alone. Throws InputError.
void check_deployment(const Scenario& s);

/// @brief What the offload policy may know of the scenario's workload: its think-time quantiles, or on trace
/// replay the quantiles of the trace's gaps between a session's rounds (divided by the speedup).
PolicyEnv policy_env(const Scenario& s);
/// @brief The scenario's offload policy with its parameters, knowing the workload as `env` (policy_env(s));
/// InputError at scheduler.kv_offload.policy if it cannot work with this workload.
std::unique_ptr<OffloadPolicy> make_policy(const Scenario& s, const PolicyEnv& env);

/// @brief How to run.
struct RunOptions {
  /// Check invariants after every event (engine/auditor.hpp); on by default in debug builds.
#ifdef NDEBUG
  bool audit = false;
#else
  bool audit = true;
#endif
  /// Also feed every replica's events to this trace-event writer (`kvsim run --trace-events`); none if null.
  TraceEventWriter* trace = nullptr;
  /// Refuse a run estimated over these before it starts, and stop one that goes over them (exit code 2).
  RunLimits limits;
  /// End the run as soon as one of these SLO targets is certainly missed (engine/early_stop.hpp; a daemon actor
  /// checks at regular simulated times); off when it has no target. RunResult::stopped_early says why.
  EarlyStop early_stop;
};

/// @brief Runs the scenario to completion, or until options.early_stop stops it. Throws InputError for a run estimated
/// over options.limits (before it starts) or stopped by the watchdog, for an impossible round found during the run, and
/// std::runtime_error for an internal failure (such as sessions left unfinished).
RunResult run_scenario(const Scenario& s, const RunOptions& options = {});

}  // namespace kvsim
