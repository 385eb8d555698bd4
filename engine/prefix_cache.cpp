// The prefix cache's books: lookups along a chain of block ids, pins, tier moves and LRU order.
#include "engine/prefix_cache.hpp"

#include <algorithm>
#include <stdexcept>

namespace kvsim {

PrefixCache::Lru* PrefixCache::lru_of(const Block& b) {
  if (b.pins > 0) return nullptr;
  if (b.tier == BlockTier::kHbm) return &hbm_lru_;
  if (b.tier == BlockTier::kDdr) return &ddr_lru_;
  return nullptr;
}

PrefixCache::Block& PrefixCache::at(std::uint64_t id) {
  const auto it = blocks_.find(id);
  if (it == blocks_.end()) throw std::logic_error("prefix cache: block not cached");
  return it->second;
}

std::int64_t PrefixCache::full_blocks(std::span<const std::uint64_t> ids, std::int64_t prompt_tokens) const {
  return std::min<std::int64_t>(static_cast<std::int64_t>(ids.size()), prompt_tokens / block_tokens_);
}

PrefixMatch PrefixCache::lookup(std::span<const std::uint64_t> ids, std::int64_t prompt_tokens) const {
  PrefixMatch m;
  m.looked_up = full_blocks(ids, prompt_tokens);
  const std::int64_t usable = std::min(m.looked_up, std::max<std::int64_t>(0, prompt_tokens - 1) / block_tokens_);
  for (std::int64_t i = 0; i < usable; ++i) {
    const auto it = blocks_.find(ids[static_cast<std::size_t>(i)]);
    if (it == blocks_.end()) break;
    if (it->second.tier == BlockTier::kHbm) {
      ++m.hbm;
    } else if (it->second.tier == BlockTier::kDdr) {
      ++m.ddr;
    } else {
      break;  // moving between the tiers
    }
  }
  return m;
}

void PrefixCache::pin(std::span<const std::uint64_t> ids) {
  for (std::uint64_t id : ids) {
    Block& b = at(id);
    if (Lru* lru = lru_of(b)) lru->erase({b.stamp, id});
    ++b.pins;
  }
}

void PrefixCache::unpin(std::span<const std::uint64_t> ids, bool touch) {
  for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
    Block& b = at(*it);
    if (b.pins <= 0) throw std::logic_error("prefix cache: unpinning a block that is not pinned");
    if (--b.pins > 0) {
      if (touch) b.stamp = ++clock_;
      continue;
    }
    if (touch) b.stamp = ++clock_;
    if (Lru* lru = lru_of(b)) lru->insert({b.stamp, *it});
  }
}

std::int64_t PrefixCache::begin_load(std::span<const std::uint64_t> ids) {
  std::int64_t n = 0;
  for (std::uint64_t id : ids) {
    Block& b = at(id);
    if (b.tier != BlockTier::kDdr) continue;
    if (b.pins == 0) throw std::logic_error("prefix cache: loading an unpinned block");
    b.tier = BlockTier::kLoading;
    ++hbm_;
    ++n;
  }
  return n;
}

void PrefixCache::end_load(std::span<const std::uint64_t> ids) {
  for (std::uint64_t id : ids) {
    Block& b = at(id);
    if (b.tier != BlockTier::kLoading) continue;
    b.tier = BlockTier::kHbm;
    --ddr_;
    if (Lru* lru = lru_of(b)) lru->insert({b.stamp, id});
  }
}

std::optional<std::uint64_t> PrefixCache::oldest_in_hbm() const {
  if (hbm_lru_.empty()) return std::nullopt;
  return hbm_lru_.begin()->second;
}

std::optional<std::uint64_t> PrefixCache::oldest_in_ddr() const {
  if (ddr_lru_.empty()) return std::nullopt;
  return ddr_lru_.begin()->second;
}

void PrefixCache::begin_offload(std::uint64_t id) {
  Block& b = at(id);
  if (b.tier != BlockTier::kHbm || b.pins > 0) throw std::logic_error("prefix cache: offloading a busy block");
  hbm_lru_.erase({b.stamp, id});
  b.tier = BlockTier::kOffloading;
  ++ddr_;
}

void PrefixCache::end_offload(std::uint64_t id) {
  Block& b = at(id);
  if (b.tier != BlockTier::kOffloading) throw std::logic_error("prefix cache: no offload of this block");
  b.tier = BlockTier::kDdr;
  b.stamp = ++clock_;
  --hbm_;
  ddr_lru_.insert({b.stamp, id});
}

void PrefixCache::drop(std::uint64_t id) {
  Block& b = at(id);
  Lru* lru = lru_of(b);
  if (!lru) throw std::logic_error("prefix cache: dropping a pinned or moving block");
  lru->erase({b.stamp, id});
  (b.tier == BlockTier::kHbm ? hbm_ : ddr_) -= 1;
  blocks_.erase(id);
}

std::optional<std::uint64_t> PrefixCache::insert(std::uint64_t id) {
  const auto [it, added] = blocks_.try_emplace(id);
  if (!added) return std::nullopt;
  it->second.stamp = ++clock_;
  hbm_lru_.insert({it->second.stamp, id});
  ++hbm_;
  return id;
}

std::optional<BlockTier> PrefixCache::tier(std::uint64_t id) const {
  const auto it = blocks_.find(id);
  if (it == blocks_.end()) return std::nullopt;
  return it->second.tier;
}

int PrefixCache::pins(std::uint64_t id) const {
  const auto it = blocks_.find(id);
  return it == blocks_.end() ? 0 : it->second.pins;
}

std::pair<std::int64_t, std::int64_t> PrefixCache::recount() const {
  std::int64_t hbm = 0, ddr = 0;
  for (const auto& [id, b] : blocks_) {
    hbm += b.tier != BlockTier::kDdr ? 1 : 0;  // HBM, offloading, loading
    ddr += b.tier != BlockTier::kHbm ? 1 : 0;  // DDR, offloading, loading
  }
  return {hbm, ddr};
}

}  // namespace kvsim
