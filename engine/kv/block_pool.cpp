#include "engine/kv/block_pool.hpp"

namespace kvsim {

BlockPool::BlockPool(std::int64_t num_blocks, std::int64_t block_tokens, double bytes_per_block)
    : ledger_(num_blocks, block_tokens, bytes_per_block) {
  const auto n = static_cast<std::size_t>(num_blocks);
  ref_.assign(n, 0);
  prev_.assign(n, kNone);
  next_.assign(n, kNone);
  hash_.assign(n, 0);
  hashed_.assign(n, false);
  for (BlockId b = 0; b < static_cast<BlockId>(num_blocks); ++b) push_back(b);
}

void BlockPool::unlink(BlockId b) {
  const auto i = static_cast<std::size_t>(b);
  (prev_[i] == kNone ? head_ : next_[static_cast<std::size_t>(prev_[i])]) = next_[i];
  (next_[i] == kNone ? tail_ : prev_[static_cast<std::size_t>(next_[i])]) = prev_[i];
  prev_[i] = next_[i] = kNone;
  --free_count_;
}

void BlockPool::push_back(BlockId b) {
  const auto i = static_cast<std::size_t>(b);
  prev_[i] = tail_;
  next_[i] = kNone;
  (tail_ == kNone ? head_ : next_[static_cast<std::size_t>(tail_)]) = b;
  tail_ = b;
  ++free_count_;
}

void BlockPool::reference(BlockId b) {
  if (ref_[static_cast<std::size_t>(b)]++ == 0) {
    unlink(b);
    ledger_.allocate(1);
  }
}

std::optional<std::vector<BlockId>> BlockPool::allocate(std::int64_t n) {
  if (n > free_count_) return std::nullopt;
  std::vector<BlockId> out;
  out.reserve(static_cast<std::size_t>(n));
  for (std::int64_t k = 0; k < n; ++k) {
    const BlockId b = head_;
    const auto i = static_cast<std::size_t>(b);
    if (hashed_[i]) {  // evicted from the prefix cache
      by_hash_.erase(hash_[i]);
      hashed_[i] = false;
    }
    reference(b);
    out.push_back(b);
  }
  return out;
}

std::optional<BlockId> BlockPool::lookup(std::uint64_t hash) const {
  const auto it = by_hash_.find(hash);
  if (it == by_hash_.end()) return std::nullopt;
  return it->second;
}

void BlockPool::touch(std::span<const BlockId> blocks) {
  for (const BlockId b : blocks) reference(b);
}

void BlockPool::free(std::span<const BlockId> blocks) {
  for (const BlockId b : blocks) {
    if (--ref_[static_cast<std::size_t>(b)] > 0) continue;
    push_back(b);
    ledger_.release(1);
  }
}

void BlockPool::cache(BlockId b, std::uint64_t hash) {
  const auto i = static_cast<std::size_t>(b);
  if (hashed_[i] || by_hash_.count(hash)) return;
  by_hash_.emplace(hash, b);
  hash_[i] = hash;
  hashed_[i] = true;
}

}  // namespace kvsim
