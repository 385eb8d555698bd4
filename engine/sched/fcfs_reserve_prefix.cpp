// The scheduler's side of the prefix cache (engine/prefix_cache.hpp): looking a round's prompt up and pinning its
// cached prefix at admission, loading the DDR part of it, giving the round's full prompt blocks to the cache when
// it ends, and evicting unpinned cache blocks when HBM is short, through the offload policy.
#include <algorithm>
#include <stdexcept>

#include "engine/log.hpp"
#include "engine/sched/fcfs_reserve.hpp"

namespace kvsim {

// The only round of a one-round session, with block ids. A session that keeps its context across rounds keeps its
// own KV, so its blocks are not shared.
bool FcfsReserveScheduler::prefix_eligible(const Session& s) const {
  return config_.prefix_cache && s.round.round == 0 && s.round.last && !s.round.prefix_blocks.empty();
}

// Looks the round up and pins the matched prefix: its tokens count as computed context that the session does not
// hold. Returns the HBM blocks that loading the DDR part will take.
std::int64_t FcfsReserveScheduler::prefix_acquire(Session& s) {
  s.prefix_match = PrefixMatch{};
  if (!prefix_eligible(s) || s.context != 0 || s.kv != 0) return 0;
  s.prefix_match = prefix_.lookup(s.round.prefix_blocks, s.round.prompt_tokens);
  s.prefix_n = s.prefix_match.matched();
  prefix_.pin(s.round.prefix_blocks.first(static_cast<std::size_t>(s.prefix_n)));
  s.shared = s.prefix_n * prefix_.block_tokens();
  s.context = s.kv = s.prompt_done = s.shared;
  return s.prefix_match.ddr * prefix_.hbm_blocks_per_block();
}

// Admission failed: the pins go, the blocks keep their LRU rank.
void FcfsReserveScheduler::prefix_abandon(Session& s) {
  if (s.prefix_n == 0) return;
  prefix_.unpin(s.round.prefix_blocks.first(static_cast<std::size_t>(s.prefix_n)), false);
  s.prefix_n = s.shared = 0;
  s.context = s.kv = s.prompt_done = 0;
  s.prefix_match = PrefixMatch{};
}

// Makes HBM room for everything a waiting round will need, its cached prefix pinned first (and loaded from DDR
// into HBM it must also find room for); false, and no pin left, if there is not enough yet.
bool FcfsReserveScheduler::make_room_for(Session& s, double now) {
  const std::int64_t load = prefix_acquire(s);
  if (ensure_free(reserved_blocks() + remaining_need(s) + load, now, &s)) return true;
  prefix_abandon(s);
  return false;
}

// Admitted: reports the lookup and loads the matched blocks that are in DDR, stalling the round until they land.
void FcfsReserveScheduler::prefix_start(Session& s, double now) {
  const PrefixMatch& m = s.prefix_match;
  if (m.looked_up == 0) return;
  sink_.on_prefix_lookup(s.id, m.looked_up, m.hbm, m.ddr, s.shared, now);
  if (m.ddr == 0) return;
  const auto ids = s.round.prefix_blocks.first(static_cast<std::size_t>(s.prefix_n));
  const std::int64_t n = prefix_.begin_load(ids);
  if (!hbm_.allocate(n * prefix_.hbm_blocks_per_block())) {
    throw std::logic_error("scheduler invariant broken: no HBM reserved for a prefix load");
  }
  const double bytes = double(n) * prefix_.bytes_per_block();
  const std::uint64_t id = next_transfer_++;
  InFlight t{s.id, false, bytes, Tier::kDdr, false, true, std::vector<std::uint64_t>(ids.begin(), ids.end()), now};
  transfers_.emplace(id, std::move(t));
  orders_.push_back(TransferOrder::swap(id, s.id, false, bytes, Tier::kDdr));
  s.where = Where::kSwappingIn;
  ++stalled_;
  sink_.on_swap_start(s.id, false, bytes, now);
}

// The round ended: its full prompt blocks past the shared prefix go to the cache with the HBM blocks that hold
// them (blocks the cache already has are freed with the session), then the prefix is unpinned. The chain's tail
// is the least recently used, so it is evicted before its head.
void FcfsReserveScheduler::prefix_release(Session& s) {
  if (!prefix_eligible(s)) return;
  const auto ids = s.round.prefix_blocks;
  const std::int64_t per = prefix_.hbm_blocks_per_block();
  const std::int64_t full = prefix_.full_blocks(ids, s.round.prompt_tokens);
  const std::int64_t give = std::clamp<std::int64_t>(std::min(full - s.prefix_n, s.blocks / per), 0, full);
  std::int64_t given = 0;
  for (std::int64_t i = s.prefix_n + give - 1; i >= s.prefix_n; --i) {
    if (prefix_.insert(ids[static_cast<std::size_t>(i)])) given += per;
  }
  set_blocks(s, s.blocks - given);
  prefix_.unpin(ids.first(static_cast<std::size_t>(s.prefix_n)), true);
  s.prefix_n = 0;
}

// Whether the offload policy would keep an evicted cache block in DDR rather than drop it.
bool FcfsReserveScheduler::cache_should_offload(double now) {
  const double bytes = prefix_.bytes_per_block();
  const VictimInfo info{0, bytes, double(prefix_.block_tokens()), now, now};
  const PolicyContext ctx{now,
                          ddr_.free_bytes() + prefix_.ddr_evictable_bytes(),
                          cost_.deployment().kv_transfer_bandwidth(),
                          static_cast<int>(transfers_.size()),
                          steps_.prefill(double(prefix_.block_tokens()), 0).seconds,
                          static_cast<int>(running_.size() + waiting_.size())};
  return policy_->on_evict(info, ctx) == EvictAction::kSwapOut && make_ddr_room(bytes);
}

// Makes room for `bytes` in DDR by dropping the cache's least recently used DDR blocks; false (and nothing
// dropped) if even all of them would not make enough.
bool FcfsReserveScheduler::make_ddr_room(double bytes) {
  if (ddr_.free_bytes() >= bytes) return true;
  if (ddr_.free_bytes() + prefix_.ddr_evictable_bytes() < bytes) return false;
  while (ddr_.free_bytes() < bytes) {
    const auto oldest = prefix_.oldest_in_ddr();
    prefix_.drop(*oldest);
    ddr_.release(prefix_.bytes_per_block());
  }
  return true;
}

// Frees up to `deficit` HBM blocks (or more, by whole cache blocks) from unpinned cache blocks, least recently
// used first: offloaded to DDR in one transfer, or dropped. Returns the blocks freed or being freed.
std::int64_t FcfsReserveScheduler::evict_cache(std::int64_t deficit, double now) {
  const std::int64_t per = prefix_.hbm_blocks_per_block();
  std::vector<std::uint64_t> out;
  std::int64_t freed = 0;
  for (auto id = prefix_.oldest_in_hbm(); id && freed < deficit; id = prefix_.oldest_in_hbm()) {
    if (cache_should_offload(now) && ddr_.reserve(prefix_.bytes_per_block())) {
      prefix_.begin_offload(*id);
      out.push_back(*id);
      pending_free_blocks_ += per;
    } else {
      prefix_.drop(*id);
      hbm_.release(per);
    }
    freed += per;
  }
  if (out.empty()) return freed;
  const double bytes = double(out.size()) * prefix_.bytes_per_block();
  const std::uint64_t tid = next_transfer_++;
  static spdlog::logger& logger = log("scheduler");
  logger.debug("t={:.6f} prefix cache offloads {} blocks ({:.0f} B)", now, out.size(), bytes);
  transfers_.emplace(tid, InFlight{0, true, bytes, Tier::kDdr, false, true, std::move(out), now});
  orders_.push_back(TransferOrder::swap(tid, 0, true, bytes, Tier::kDdr));
  return freed;
}

void FcfsReserveScheduler::prefix_transfer_done(const InFlight& t, double now) {
  const std::int64_t per = prefix_.hbm_blocks_per_block();
  if (t.to_host) {
    for (std::uint64_t id : t.blocks) prefix_.end_offload(id);
    const auto n = static_cast<std::int64_t>(t.blocks.size()) * per;
    pending_free_blocks_ -= n;
    hbm_.release(n);
    sink_.on_prefix_offload(t.bytes, t.start_s, now);
    return;
  }
  prefix_.end_load(t.blocks);
  ddr_.release(t.bytes);
  Session& s = sessions_.at(t.session);
  s.where = s.blocks > 0 ? Where::kHbm : Where::kNone;
  if (s.has_round && s.admitted) --stalled_;
  sink_.on_swap_done(s.id, false, t.bytes, now);
}

}  // namespace kvsim
