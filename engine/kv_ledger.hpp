#pragma once
/// @file kv_ledger.hpp
/// @brief Capacity ledgers for one replica: paged KV blocks in HBM and bytes of swapped KV in CPU DDR.
/// Allocation returns std::nullopt and changes nothing when it cannot fit; the caller decides what to evict.

#include <cstdint>
#include <optional>

namespace kvsim {

/// @brief HBM KV blocks of one replica (the pool left after weights and the activation reserve).
class HbmLedger {
 public:
  HbmLedger(std::int64_t total_blocks, std::int64_t block_tokens, double bytes_per_block)
      : total_(total_blocks), block_tokens_(block_tokens), bytes_per_block_(bytes_per_block) {}

  /// @brief Blocks needed to hold `tokens` tokens.
  std::int64_t blocks_for(std::int64_t tokens) const { return (tokens + block_tokens_ - 1) / block_tokens_; }
  /// @brief Takes `n` blocks; nullopt (and no change) if fewer than `n` are free.
  std::optional<std::int64_t> allocate(std::int64_t n) {
    if (n > free_blocks()) return std::nullopt;
    used_ += n;
    allocated_total_ += n;
    return n;
  }
  /// @brief Returns `n` blocks to the pool.
  void release(std::int64_t n) {
    used_ -= n;
    released_total_ += n;
  }
  std::int64_t free_blocks() const { return total_ - used_; }
  std::int64_t used_blocks() const { return used_; }
  std::int64_t total_blocks() const { return total_; }
  std::int64_t block_tokens() const { return block_tokens_; }
  double bytes_per_block() const { return bytes_per_block_; }
  double used_bytes() const { return double(used_) * bytes_per_block_; }
  /// @brief Blocks ever allocated and released; allocated - released == used at all times.
  std::int64_t allocated_total() const { return allocated_total_; }
  std::int64_t released_total() const { return released_total_; }

 private:
  std::int64_t total_;
  std::int64_t block_tokens_;
  double bytes_per_block_;
  std::int64_t used_ = 0;
  std::int64_t allocated_total_ = 0;
  std::int64_t released_total_ = 0;
};

/// @brief CPU DDR bytes of one replica holding swapped-out KV.
class DdrLedger {
 public:
  explicit DdrLedger(double capacity_bytes) : capacity_(capacity_bytes) {}
  /// @brief Reserves `bytes`; false (and no change) if they do not fit.
  bool reserve(double bytes) {
    if (bytes > free_bytes()) return false;
    used_ += bytes;
    return true;
  }
  void release(double bytes) { used_ -= bytes; }
  double free_bytes() const { return capacity_ - used_; }
  double used_bytes() const { return used_; }
  double capacity() const { return capacity_; }

 private:
  double capacity_;
  double used_ = 0;
};

}  // namespace kvsim
