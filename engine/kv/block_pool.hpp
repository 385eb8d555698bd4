#pragma once
/// @file block_pool.hpp
/// @brief A paged KV block pool with a prefix cache, as vLLM v1's BlockPool (vllm/v1/core/block_pool.py) keeps
/// it: blocks carry a reference count; a block no request holds sits in the free queue, oldest freed first, and
/// keeps its hash until the queue hands it out again, so a later request can still hit it. Allocation takes from
/// the queue's head and evicts the hashes of what it takes. Failed calls change nothing.
///
/// The ledger counts the blocks some request holds (reference count > 0): vLLM's "KV cache usage".

#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "engine/kv_ledger.hpp"

namespace kvsim {

using BlockId = std::int32_t;

/// @brief KV blocks with reference counts, an LRU free queue and a hash -> block map of cached full blocks.
class BlockPool {
 public:
  /// `num_blocks` usable blocks of `block_tokens` tokens and `bytes_per_block` bytes.
  BlockPool(std::int64_t num_blocks, std::int64_t block_tokens, double bytes_per_block);

  /// @brief Blocks in the free queue: unreferenced, cached or not (vLLM's get_num_free_blocks).
  std::int64_t num_free() const { return free_count_; }
  /// @brief Takes `n` blocks from the free queue's head (referenced once each), evicting their cached hashes;
  /// nullopt and no change if fewer than `n` are free.
  std::optional<std::vector<BlockId>> allocate(std::int64_t n);
  /// @brief The cached block holding `hash`, if any.
  std::optional<BlockId> lookup(std::uint64_t hash) const;
  /// @brief Adds a reference to each block (a prefix hit); a free one leaves the free queue.
  void touch(std::span<const BlockId> blocks);
  /// @brief Drops a reference from each block, in order; a block left unreferenced joins the free queue's tail.
  void free(std::span<const BlockId> blocks);
  /// @brief Records that full block `b` holds `hash`; a hash cached already keeps its first block.
  void cache(BlockId b, std::uint64_t hash);
  int ref_count(BlockId b) const { return ref_[static_cast<std::size_t>(b)]; }
  /// @brief Blocks whose hash is in the map.
  std::int64_t cached_blocks() const { return static_cast<std::int64_t>(by_hash_.size()); }
  /// @brief Referenced blocks, in the pool's ledger (allocated - released == used).
  const HbmLedger& ledger() const { return ledger_; }
  std::int64_t total_blocks() const { return ledger_.total_blocks(); }
  std::int64_t block_tokens() const { return ledger_.block_tokens(); }

 private:
  void unlink(BlockId b);
  void push_back(BlockId b);
  void reference(BlockId b);

  HbmLedger ledger_;
  std::vector<int> ref_;
  std::vector<BlockId> prev_, next_;  ///< free queue links; kNone at the ends
  std::vector<std::uint64_t> hash_;
  std::vector<bool> hashed_;
  BlockId head_ = kNone, tail_ = kNone;
  std::int64_t free_count_ = 0;
  std::unordered_map<std::uint64_t, BlockId> by_hash_;  // looked up only, never iterated into outputs
  static constexpr BlockId kNone = -1;
};

}  // namespace kvsim
