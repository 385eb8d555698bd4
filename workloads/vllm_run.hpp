#pragma once
/// @file vllm_run.hpp
/// @brief A recorded vLLM serving run, as kept in runs/<GPU>/<model>/ (see /work/shared/vllm-runs/SOURCES.txt and
/// docs/replay.md): meta.json (engine settings, the KV pool vLLM chose, the GPU), requests.jsonl (one line per
/// request with monotonic-clock timestamps) and timeseries.csv (running/waiting/KV use once a second).
///
/// The reader is pure C++: bad input throws TraceError with a TraceProblem naming the file, the line, the field,
/// the bad value and what was expected (sim/trace_input.hpp turns it into an InputError, exit code 2).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "workloads/trace.hpp"

namespace kvsim {

/// @brief meta.json of a run; optional members are absent when the run did not record them.
struct VllmMeta {
  std::string model;  ///< Hugging Face name, e.g. "meta-llama/Llama-3.1-8B"
  int tensor_parallel_size = 1;
  long max_num_seqs = 0;
  long max_num_batched_tokens = 0;
  std::optional<long> max_model_len;  ///< null in meta.json: vLLM took the model's own
  // kv_cache section (absent in older runs)
  std::optional<long> num_gpu_blocks;
  std::optional<long> block_size;
  std::optional<double> gpu_memory_utilization;
  std::optional<bool> enable_prefix_caching;
  // hardware section (absent in older runs)
  std::optional<std::string> device_name;  ///< as torch reports it, e.g. "NVIDIA GeForce RTX 4090"
  std::optional<double> device_total_memory_bytes;
};

/// @brief One request of requests.jsonl. Timestamps are seconds on one monotonic clock; arrival_time is wall clock.
struct VllmRequest {
  std::string id;
  std::int64_t input_toks = 0;
  std::int64_t output_toks = 0;
  double arrival_time = 0;
  double queued_ts = 0;
  double scheduled_ts = 0;
  double first_token_ts = 0;
  double last_token_ts = 0;
  int line = 0;  ///< line of requests.jsonl

  /// @brief Time to first token: first_token_ts - queued_ts.
  double ttft() const { return first_token_ts - queued_ts; }
  /// @brief Time per output token after the first: (last_token_ts - first_token_ts) / (output_toks - 1);
  /// only defined for output_toks > 1.
  double tpot() const { return (last_token_ts - first_token_ts) / double(output_toks - 1); }
  /// @brief End-to-end latency: last_token_ts - queued_ts.
  double latency() const { return last_token_ts - queued_ts; }
};

/// @brief One row of timeseries.csv.
struct VllmSample {
  double t = 0;  ///< seconds from the start of the run
  double prompt_throughput = 0;
  double gen_throughput = 0;
  double running = 0;
  double waiting = 0;
  double kv_cache_pct = 0;
};

/// @brief A whole run.
struct VllmRun {
  std::string dir;
  std::string gpu_folder;  ///< the run directory's parent folder name (runs/<GPU>/<model>), e.g. "RTX4090"
  VllmMeta meta;
  std::vector<VllmRequest> requests;  ///< in file order
  std::vector<VllmSample> timeseries;
};

/// @brief The most requests, and timeseries rows, a run may hold (a 10-million-request benchmark is absurd).
inline constexpr std::size_t kMaxVllmRequests = 10'000'000;

/// @brief Reads `dir`/meta.json, requests.jsonl and timeseries.csv. Throws TraceError at the first problem: a
/// missing file, a malformed JSON line, a missing field, a negative or absurd value, timestamps of one request out
/// of order (queued <= scheduled <= first token <= last token), a run without requests.
VllmRun read_vllm_run(const std::string& dir);

}  // namespace kvsim
