#pragma once
/// @file replay_compare.hpp
/// @brief The comparison `kvsim replay` makes between a recorded vLLM run and its simulation: per-request
/// distributions (TTFT, TPOT, latency: mean and percentiles), the queue and KV timelines (RMSE per second), and the
/// counts. docs/replay.md and docs/outputs.md describe every field of comparison.json.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "engine/metrics.hpp"
#include "workloads/vllm_run.hpp"

namespace kvsim::cli {

/// @brief Per-request figures of one side (measured or simulated), in seconds.
struct RequestFigures {
  std::vector<double> ttft, tpot, latency;  ///< tpot only for requests of more than one output token
  std::size_t requests = 0;
  std::int64_t preemptions =
      0;  ///< simulated only: KV dropped for recompute plus swaps out (vLLM's count is not recorded)
  std::size_t preempted_requests = 0;  ///< simulated only: requests that were preempted at least once
};

/// @brief What vLLM measured: TTFT = first_token_ts - queued_ts, TPOT = (last_token_ts - first_token_ts) /
/// (output_toks - 1) for output_toks > 1, latency = last_token_ts - queued_ts.
RequestFigures measured_figures(const VllmRun& run);
/// @brief What kvsim simulated, from its rounds: TTFT = ttft_s, TPOT = decode_s / (answer_tokens - 1) for
/// answer_tokens > 1, latency = end_s - arrival_s.
RequestFigures simulated_figures(const RunMetrics& m);

/// @brief One simulated timeline sample, in the units of timeseries.csv.
struct QueueSample {
  double t = 0;
  double running = 0, waiting = 0, kv_use_pct = 0;
};

/// @brief The simulated queue at each measured row's time: the last timeline row at or before t (zero running and
/// waiting after the run's end); kv_use_pct = hbm_kv_bytes / `kv_pool_bytes` x 100.
std::vector<QueueSample> simulated_queue(const RunMetrics& m, const std::vector<VllmSample>& measured,
                                         double kv_pool_bytes, double end_s);

/// @brief comparison.json: metrics (ttft_s, tpot_s, latency_s, each of mean, p50, p90, p95, p99 as
/// {measured, simulated, error}), timeseries (RMSE of running, waiting, kv_use_pct), counts.
nlohmann::ordered_json comparison_json(const RequestFigures& measured, const RequestFigures& simulated,
                                       const std::vector<VllmSample>& timeseries,
                                       const std::vector<QueueSample>& queue);

/// @brief replay_timeseries.csv: t, measured and simulated running, waiting and KV use, one row per measured row.
std::string replay_timeseries_csv(const std::vector<VllmSample>& timeseries, const std::vector<QueueSample>& queue);
/// @brief replay_requests.csv: metric,side,value,cdf: every request's TTFT, TPOT and latency of both sides, sorted
/// within each (metric, side), with the empirical CDF (rank / count) for plots.
std::string replay_requests_csv(const RequestFigures& measured, const RequestFigures& simulated);

/// @brief The gnuplot script drawing a replay directory `dir`: measured vs simulated CDFs of TTFT, TPOT and
/// latency (replay_ttft_cdf, replay_tpot_cdf, replay_latency_cdf) and the running/waiting timelines (replay_queue);
/// "" when `dir` holds no replay files. Used by `kvsim plot`.
std::string replay_plot_script(const std::filesystem::path& dir);

/// @brief The comparison as a table: one row per metric and statistic with measured, simulated and error.
void print_comparison(std::ostream& out, const nlohmann::ordered_json& comparison);

}  // namespace kvsim::cli
