// KV capacity for the scheduler: growing a session's blocks, making room by evicting idle sessions through the
// offload policy, and starting and finishing transfers.
#include <algorithm>
#include <stdexcept>

#include "engine/log.hpp"
#include "engine/sched/fcfs_reserve.hpp"

namespace kvsim {

void FcfsReserveScheduler::grow(Session& s, std::int64_t tokens) {
  const std::int64_t need = kv_blocks(s, tokens, s.extra) - s.blocks;
  if (need <= 0) return;
  if (!hbm_.allocate(need)) {
    throw std::logic_error("scheduler invariant broken: an admitted round found no reserved KV block");
  }
  set_blocks(s, s.blocks + need);
}

// A prefill that prunes once done (heads, tokens) held its KV as written; now it keeps the pruned KV and its next
// token, which add_to_batch reserved.
void FcfsReserveScheduler::shrink_after_prefill(Session& s) {
  s.extra = 0;
  const std::int64_t keep = kv_blocks(s, s.kv + (s.decoded == 0 ? 1 : 0));
  if (s.blocks <= keep) return;
  hbm_.release(s.blocks - keep);
  set_blocks(s, keep);
}

// Candidates to leave HBM: idle sessions between rounds (first tier), then rounds still waiting for admission
// whose KV sits in HBM (second tier, used only when the first is not enough).
void FcfsReserveScheduler::collect_victims(bool waiting_tier, const Session* exclude) {
  candidates_.clear();
  for (const auto& [id, s] : sessions_) {
    const bool idle = !s.has_round;
    const bool waiting = s.has_round && !s.admitted;
    if (&s == exclude || s.pinned || s.where != Where::kHbm || s.blocks == 0 || (waiting_tier ? !waiting : !idle))
      continue;
    candidates_.push_back(victim_info(s));
  }
  victims_->order(candidates_);
}

bool FcfsReserveScheduler::ensure_free(std::int64_t blocks, double now, const Session* exclude) {
  if (hbm_.free_blocks() >= blocks) return true;
  std::int64_t deficit = blocks - hbm_.free_blocks() - pending_free_blocks_;
  if (deficit > 0) deficit -= evict_cache(deficit, now);  // unpinned prefix cache blocks go first
  for (bool tier : {false, true}) {
    if (deficit <= 0) break;
    collect_victims(tier, exclude);
    for (const auto& v : candidates_) {
      if (deficit <= 0) break;
      Session& s = sessions_.at(v.session);
      deficit -= s.blocks;
      evict(s, now);
    }
  }
  return hbm_.free_blocks() >= blocks;
}

void FcfsReserveScheduler::evict(Session& s, double now) {
  const double bytes = cost_.ledger_bytes(s.kv);
  const PolicyContext ctx = policy_context(s, now);
  const VictimInfo info = victim_info(s);
  static spdlog::logger& logger = log("scheduler");
  if (s.kv > 0 && policy_->on_evict(info, ctx) == EvictAction::kSwapOut && reserve_copy(s, bytes)) {
    logger.debug("t={:.6f} evict session {} ({} tokens): swap out {:.0f} B to {}", now, s.id, s.kv, bytes,
                 s.tier == Tier::kDdr ? "DDR" : "NVMe");
    pending_free_blocks_ += s.blocks;
    start_transfer(s, true, now);
    return;
  }
  logger.debug("t={:.6f} evict session {} ({} tokens): drop", now, s.id, s.kv);
  sink_.on_kv_dropped(s.id, s.kv, bytes, now);
  hbm_.release(s.blocks);
  set_blocks(s, 0);
  s.kv = 0;
  s.where = Where::kNone;
}

void FcfsReserveScheduler::start_transfer(Session& s, bool to_host, double now) {
  const std::uint64_t id = next_transfer_++;
  transfers_.emplace(id, InFlight{s.id, to_host, s.ddr_bytes, s.tier, false});
  orders_.push_back(TransferOrder::swap(id, s.id, to_host, s.ddr_bytes, s.tier));  // handed out by the next plan
  s.where = to_host ? Where::kSwappingOut : Where::kSwappingIn;
  if (!to_host && s.has_round) ++stalled_;
  sink_.on_swap_start(s.id, to_host, s.ddr_bytes, now);
}

void FcfsReserveScheduler::on_transfer_done(std::uint64_t id, double now) {
  const auto it = transfers_.find(id);
  const InFlight t = std::move(it->second);
  transfers_.erase(it);
  if (t.prefix) {
    prefix_transfer_done(t, now);
    report(now);
    return;
  }
  Session& s = sessions_.at(t.session);
  if (t.remote >= 0) {
    pull_done(s, t, now);
  } else if (t.demotion) {
    ddr_.release(s.ddr_bytes);
    s.tier = Tier::kNvme;
    s.where = Where::kOffloaded;
    sink_.on_demotion_done(s.id, t.bytes, now);
  } else if (t.to_host) {
    pending_free_blocks_ -= s.blocks;
    hbm_.release(s.blocks);
    set_blocks(s, 0);
    s.where = Where::kOffloaded;
    sink_.on_swap_done(s.id, t.to_host, t.bytes, now);
    if (policy_->tiered() && s.tier == Tier::kDdr) demote_lru(s.ddr_bytes, now);
  } else {
    ledger(s.tier).release(s.ddr_bytes);
    s.ddr_bytes = 0;
    s.where = Where::kHbm;
    if (s.has_round && s.admitted) --stalled_;
    sink_.on_swap_done(s.id, t.to_host, t.bytes, now);
  }
  if (s.release_pending) return forget(s, s.kv, now);
  report(now);
}

// Reserves room for an offloaded copy: DDR first, then NVMe under the tiered policy.
bool FcfsReserveScheduler::reserve_copy(Session& s, double bytes) {
  for (Tier t : {Tier::kDdr, Tier::kNvme}) {
    if (t == Tier::kNvme && !policy_->tiered()) break;
    if (t == Tier::kDdr) make_ddr_room(bytes);  // the prefix cache's DDR blocks yield to sessions' KV
    if (ledger(t).reserve(bytes)) {
      s.tier = t;
      s.ddr_bytes = bytes;
      return true;
    }
  }
  return false;
}

// Keeps room in DDR for the next swap-out by moving the least recently used idle copies from DDR to NVMe.
void FcfsReserveScheduler::demote_lru(double keep_free, double now) {
  while (ddr_.free_bytes() < keep_free) {
    Session* oldest = nullptr;
    for (auto& [id, s] : sessions_) {
      const bool idle_in_ddr =
          !s.has_round && !s.pinned && s.remote < 0 && s.where == Where::kOffloaded && s.tier == Tier::kDdr;
      if (idle_in_ddr &&
          (!oldest || s.last_used < oldest->last_used || (s.last_used == oldest->last_used && s.id < oldest->id))) {
        oldest = &s;
      }
    }
    if (!oldest || !nvme_.reserve(oldest->ddr_bytes)) return;
    const std::uint64_t id = next_transfer_++;
    transfers_.emplace(id, InFlight{oldest->id, true, oldest->ddr_bytes, Tier::kNvme, true});
    orders_.push_back(TransferOrder::demote(id, oldest->id, oldest->ddr_bytes));
    oldest->where = Where::kDemoting;
    sink_.on_demotion_start(oldest->id, oldest->ddr_bytes, now);
    keep_free -= oldest->ddr_bytes;  // counted as free once the demotion lands
  }
}

void FcfsReserveScheduler::set_blocks(Session& s, std::int64_t blocks) {
  if (s.blocks == 0 && blocks > 0) {
    ++resident_;
    if (s.where == Where::kNone) s.where = Where::kHbm;
  } else if (s.blocks > 0 && blocks == 0) {
    --resident_;
  }
  s.blocks = blocks;
}

KvCensus FcfsReserveScheduler::census() const {
  KvCensus c;
  for (const auto& [id, s] : sessions_) {
    if (s.remote >= 0 && s.where == Where::kOffloaded) continue;  // its KV is still the other replica's
    const bool offloaded = s.where == Where::kOffloaded || s.where == Where::kDemoting;
    (offloaded ? c.kv_tokens_ddr : c.kv_tokens_hbm) += s.kv - s.shared;
    c.blocks += s.blocks;
    if (s.remote >= 0) continue;  // pulling: the bytes in flight are held at the source
    if (s.ddr_bytes > 0 && (s.tier == Tier::kDdr || s.where == Where::kDemoting)) c.ddr_bytes += s.ddr_bytes;
    if (s.ddr_bytes > 0 && (s.tier == Tier::kNvme || s.where == Where::kDemoting)) c.nvme_bytes += s.ddr_bytes;
  }
  c.prefix_blocks = prefix_.hbm_ledger_blocks();
  c.prefix_ddr_bytes = prefix_.ddr_bytes();
  return c;
}

}  // namespace kvsim
