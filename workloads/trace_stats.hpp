#pragma once
/// @file trace_stats.hpp
/// @brief The numbers a user checks first about a trace (`kvsim trace stats`): size, span, rate, length and gap
/// distributions, and the prefix hit ratio an infinite cache would reach.

#include <cstdint>
#include <vector>

#include "workloads/trace.hpp"

namespace kvsim {

/// @brief Mean, percentiles and extremes of one quantity.
struct Summary {
  double count = 0, mean = 0, min = 0, p50 = 0, p90 = 0, p99 = 0, max = 0;
  /// @brief The summary of `values` (percentiles as in docs/outputs.md; all 0 when empty).
  static Summary of(const std::vector<double>& values);
};

/// @brief What `kvsim trace stats` reports.
struct TraceStats {
  double requests = 0;
  double sessions = 0;
  double span_s = 0;      ///< last recorded arrival minus the first
  double rate_per_s = 0;  ///< requests / span_s (0 when the span is 0)
  Summary input_tokens, output_tokens;
  Summary rounds_per_session;
  Summary gap_s;                      ///< between consecutive rounds of a session: arrival difference, or think time
  double prompt_tokens = 0;           ///< sum of input tokens
  double ideal_cached_tokens = 0;     ///< prompt tokens an infinite prefix cache would hold already
  double ideal_prefix_hit_ratio = 0;  ///< ideal_cached_tokens / prompt_tokens
};

/// @brief The gaps between consecutive rounds of each session, in trace order: the arrival difference, or the
/// recorded think time when either round has no arrival time.
std::vector<double> round_gaps_s(const Trace& trace);

/// @brief Computes the statistics of `trace`.
TraceStats trace_stats(const Trace& trace);

/// @brief Keys of a prompt's block chain: key i names blocks 0..i of the prompt together, so two prompts share
/// key i only when they share their first i + 1 blocks.
std::vector<std::uint64_t> chain_keys(const std::vector<std::uint64_t>& blocks);

}  // namespace kvsim
