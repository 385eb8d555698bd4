#pragma once
/// @file compression_sim.hpp
/// @brief `kvsim analyze --compare-compression --simulate`: each Table 2 row's session throughput from runs.
///
/// Every (method, context) pair, its baseline and an uncompressed 4K reference run as `kvsim run` children of the
/// scenario, as a saturated closed loop: enough users that the GPU never waits for work, long enough for the
/// completion rate to settle. The figure is the run's `session_completion_rate_per_hour`.

#include <filesystem>
#include <string>
#include <vector>

#include "engine/compression_methods.hpp"
#include "sim/scenario.hpp"

namespace kvsim::cli {

/// @brief One simulated figure, or why there is none.
struct SimulatedThroughput {
  bool ok = false;
  double per_hour = 0;   ///< session_completion_rate_per_hour of the run
  double idle = 0;       ///< time_breakdown.idle of the run: near 0 when the closed loop saturates the GPU
  int users = 0;         ///< closed-loop users
  double duration_s = 0;  ///< workload.duration of the run
  std::string run_dir;   ///< where its outputs are
  std::string error;     ///< why there is no figure (e.g. the session can never fit)
  bool what_if = false;  ///< the run raised model.max_context: its sessions are longer than the model's context
};

/// @brief A method at a context: its baseline's throughput and its own.
struct SimulatedRow {
  SimulatedThroughput baseline;
  SimulatedThroughput method;
};

/// @brief The whole simulated column, aligned with the rows of the analytic table.
struct CompressionSimulation {
  std::vector<SimulatedRow> rows;
  SimulatedThroughput reference;  ///< the uncompressed model at a 4K document
  double reference_tokens = 4000;
};

/// @brief What to simulate: the scenario, the rows' methods and contexts, and how to run the children.
struct CompressionSimRequest {
  const Scenario* scenario = nullptr;
  std::string scenario_path;
  ModelSpec base;  ///< the scenario's model without compression
  std::vector<const CompressionMethod*> methods;
  std::vector<double> contexts;
  double answer_tokens = 250;
  std::filesystem::path out;
  std::string platforms;
  int jobs = 1;
};

/// @brief Closed-loop users and duration that saturate one run: with T the session's time alone (prefill, then
/// rounds x (think + decode)) and p its prefill, users = clamp(ceil(4 T / p), 8, 512); duration = max(the scenario's,
/// 20 x users x p); warmup = duration / 6.
struct SaturatingLoad {
  int users = 0;
  double duration_s = 0;
  double warmup_s = 0;
};
SaturatingLoad saturating_load(double prefill_s, double decode_s, double rounds, double think_s,
                               double scenario_duration_s);
/// @brief The duration and warmup of the same rule for a given number of users.
SaturatingLoad load_for_users(int users, double prefill_s, double scenario_duration_s);

/// @brief Runs every row (methods x contexts, in that order) and the reference; prints progress on stderr. A run
/// whose GPU idled more than 2% of the window runs again with twice the users (up to 512) while that raises its
/// completion rate; the best run counts.
CompressionSimulation simulate_compression(const CompressionSimRequest& req);

}  // namespace kvsim::cli
