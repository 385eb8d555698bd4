#include "engine/kv_fit.hpp"

#include <fmt/format.h>

#include <cmath>

#include "engine/units.hpp"

namespace kvsim {

HbmLedger kv_pool(const CostModel& cost, std::int64_t block_tokens) {
  const double block_bytes = double(block_tokens) * cost.kv_bytes_per_token();
  const double room = cost.kv_capacity_bytes();
  return HbmLedger(room > 0 ? static_cast<std::int64_t>(std::floor(room / block_bytes)) : 0, block_tokens, block_bytes);
}

KvFit kv_fit(const CostModel& cost, std::int64_t block_tokens, std::int64_t prefill_end, std::int64_t end) {
  KvFit f;
  f.peak_tokens = cost.peak_ledger_tokens(prefill_end, end);
  f.peak_bytes = double(f.peak_tokens) * cost.kv_bytes_per_token();
  const HbmLedger pool = kv_pool(cost, block_tokens);
  f.blocks = pool.blocks_for(f.peak_tokens);
  f.pool_blocks = pool.total_blocks();
  f.block_tokens = block_tokens;
  return f;
}

std::string KvFit::arithmetic(const CostModel& cost) const {
  return fmt::format("= {} of KV > KV room {} ({} > {} blocks of {} tokens)", format_bytes(peak_bytes),
                     format_bytes(cost.kv_capacity_bytes()), blocks, pool_blocks, block_tokens);
}

}  // namespace kvsim
