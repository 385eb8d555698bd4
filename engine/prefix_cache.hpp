#pragma once
/// @file prefix_cache.hpp
/// @brief A block-level prefix cache for one replica: KV of full prompt blocks, keyed by the blocks' hash ids,
/// shared by every session of the replica, in an HBM tier and a DDR tier.
///
/// A prompt reuses the longest run of its leading blocks that the cache holds (the chain must match from the first
/// block; hash ids alone identify blocks, so an id already encodes the prefix before it, as in Mooncake's traces).
/// Blocks used by running rounds are pinned. Unpinned blocks at rest are evictable, least recently used first:
/// from HBM to DDR (offload) or out of the cache (drop), and from DDR out of the cache. A block moving between the
/// tiers is neither matched nor evicted. The cache only keeps the books; the scheduler charges its HBM blocks and
/// DDR bytes to the replica's ledgers and starts the transfers (engine/sched/fcfs_reserve_prefix.cpp).

#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <unordered_map>
#include <utility>

namespace kvsim {

/// @brief Where a cached block's KV is.
enum class BlockTier : std::uint8_t { kHbm, kDdr, kOffloading, kLoading };

/// @brief The result of looking a prompt up.
struct PrefixMatch {
  std::int64_t looked_up = 0;  ///< full blocks of the prompt (the ones a cache can hold)
  std::int64_t hbm = 0;        ///< leading blocks found in HBM
  std::int64_t ddr = 0;        ///< leading blocks found in DDR (interleaved with the HBM ones along the chain)
  /// @brief Leading blocks matched in either tier.
  std::int64_t matched() const { return hbm + ddr; }
};

/// @brief The prefix cache's books: blocks, tiers, pins and LRU order.
class PrefixCache {
 public:
  /// @brief A cache of blocks of `block_tokens` tokens, each taking `hbm_blocks_per_block` blocks of the HBM
  /// ledger while in HBM and `bytes_per_block` bytes of DDR while in DDR.
  PrefixCache(std::int64_t block_tokens, std::int64_t hbm_blocks_per_block, double bytes_per_block)
      : block_tokens_(block_tokens), hbm_per_block_(hbm_blocks_per_block), bytes_per_block_(bytes_per_block) {}

  /// @brief Tokens per cached block.
  std::int64_t block_tokens() const { return block_tokens_; }
  /// @brief HBM ledger blocks one cached block occupies in HBM.
  std::int64_t hbm_blocks_per_block() const { return hbm_per_block_; }
  /// @brief Bytes of one cached block (block_tokens x KV bytes per token).
  double bytes_per_block() const { return bytes_per_block_; }

  /// @brief Full blocks of a prompt of `prompt_tokens` tokens whose ids are `ids` (an id past the prompt, or a
  /// partial last block, covers no full block).
  std::int64_t full_blocks(std::span<const std::uint64_t> ids, std::int64_t prompt_tokens) const;
  /// @brief The leading blocks of `ids` at rest in the cache, at most all but the last prompt token (one token is
  /// always prefilled to produce the first output token). Changes nothing.
  PrefixMatch lookup(std::span<const std::uint64_t> ids, std::int64_t prompt_tokens) const;
  /// @brief Pins each block of `ids` (all must be cached): pinned blocks are never evicted.
  void pin(std::span<const std::uint64_t> ids);
  /// @brief Unpins each block of `ids`. With `touch`, they become the most recently used, the first id the most
  /// recent of all (so the tail of a chain is evicted before its head); otherwise they keep their old rank.
  void unpin(std::span<const std::uint64_t> ids, bool touch);
  /// @brief Starts loading the (pinned) DDR blocks among `ids` into HBM; returns how many.
  std::int64_t begin_load(std::span<const std::uint64_t> ids);
  /// @brief The loading blocks among `ids` are now in HBM.
  void end_load(std::span<const std::uint64_t> ids);
  /// @brief The least recently used unpinned block at rest in HBM, if any.
  std::optional<std::uint64_t> oldest_in_hbm() const;
  /// @brief The least recently used block at rest in DDR, if any (DDR blocks are pinned only while loading).
  std::optional<std::uint64_t> oldest_in_ddr() const;
  /// @brief An unpinned HBM block at rest starts moving to DDR.
  void begin_offload(std::uint64_t id);
  /// @brief An offloading block is now in DDR, the most recently used there.
  void end_offload(std::uint64_t id);
  /// @brief Removes an unpinned block at rest (HBM or DDR) from the cache.
  void drop(std::uint64_t id);
  /// @brief Adds block `id` in HBM, unpinned and most recently used; nullopt (and no change) if it is cached.
  std::optional<std::uint64_t> insert(std::uint64_t id);

  /// @brief Blocks holding HBM: at rest there, offloading (until the copy lands) or loading (HBM reserved).
  std::int64_t hbm_blocks() const { return hbm_; }
  /// @brief Blocks holding DDR: at rest there, offloading (DDR reserved) or loading (until the copy lands).
  std::int64_t ddr_blocks() const { return ddr_; }
  /// @brief HBM ledger blocks the cache holds.
  std::int64_t hbm_ledger_blocks() const { return hbm_ * hbm_per_block_; }
  /// @brief DDR bytes the cache holds.
  double ddr_bytes() const { return double(ddr_) * bytes_per_block_; }
  /// @brief DDR bytes of blocks at rest there, which the cache gives up when DDR is needed.
  double ddr_evictable_bytes() const { return double(ddr_lru_.size()) * bytes_per_block_; }
  /// @brief Blocks in the cache, every tier.
  std::size_t size() const { return blocks_.size(); }
  /// @brief The tier of block `id`, if cached.
  std::optional<BlockTier> tier(std::uint64_t id) const;
  /// @brief Pins on block `id` (0 if not cached).
  int pins(std::uint64_t id) const;
  /// @brief Recounts HBM and DDR blocks block by block (for the auditor's end-of-run check).
  std::pair<std::int64_t, std::int64_t> recount() const;

 private:
  struct Block {
    BlockTier tier = BlockTier::kHbm;
    int pins = 0;
    std::uint64_t stamp = 0;  ///< last use, on the cache's own clock
  };
  using Lru = std::set<std::pair<std::uint64_t, std::uint64_t>>;  ///< (stamp, id): oldest first
  Lru* lru_of(const Block& b);
  Block& at(std::uint64_t id);

  std::int64_t block_tokens_;
  std::int64_t hbm_per_block_;
  double bytes_per_block_;
  std::unordered_map<std::uint64_t, Block> blocks_;  ///< looked up by id only; order never observed
  Lru hbm_lru_;                                      ///< unpinned blocks at rest in HBM
  Lru ddr_lru_;                                      ///< unpinned blocks at rest in DDR
  std::uint64_t clock_ = 0;
  std::int64_t hbm_ = 0;
  std::int64_t ddr_ = 0;
};

}  // namespace kvsim
