#pragma once
/// @file kv_fit.hpp
/// @brief The one place that decides whether a round can ever fit a replica's KV pool: the checks before a run
/// (sim/run.cpp) and the schedulers during it ask the same question, in blocks, so a scenario that passes the
/// first is never refused by the second.

#include <cstdint>
#include <string>

#include "engine/cost_model.hpp"
#include "engine/kv_ledger.hpp"

namespace kvsim {

/// @brief The replica's KV pool, empty: blocks of `block_tokens` ledger tokens in the HBM left for KV
/// (CostModel::kv_capacity_bytes); no blocks if none is left.
HbmLedger kv_pool(const CostModel& cost, std::int64_t block_tokens);

/// @brief A round's KV at its peak against the pool.
struct KvFit {
  std::int64_t peak_tokens = 0;  ///< ledger tokens at the peak (CostModel::peak_ledger_tokens)
  double peak_bytes = 0;
  std::int64_t blocks = 0;       ///< blocks the peak takes
  std::int64_t pool_blocks = 0;  ///< blocks of the pool
  std::int64_t block_tokens = 0;
  bool fits() const { return blocks <= pool_blocks; }
  /// @brief "= 37.29 GB of KV > KV room 17.9 GB (2345 > 1123 blocks of 16 tokens)".
  std::string arithmetic(const CostModel& cost) const;
};

/// @brief The fit of a round alone on the replica whose prefill, recomputing everything, ends at `prefill_end`
/// tokens of context and whose answer ends at `end`.
KvFit kv_fit(const CostModel& cost, std::int64_t block_tokens, std::int64_t prefill_end, std::int64_t end);

}  // namespace kvsim
