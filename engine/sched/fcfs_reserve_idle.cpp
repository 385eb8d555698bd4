// What happens to a session between its rounds: offloading its KV as soon as a round ends (offload-idle,
// prefetch), bringing it back before the user returns (prefetch), and KV loaded during a step (layerwise).
#include <algorithm>
#include <limits>

#include "engine/sched/fcfs_reserve.hpp"

namespace kvsim {

VictimInfo FcfsReserveScheduler::victim_info(const Session& s) const {
  return VictimInfo{s.id, cost_.ledger_bytes(s.kv), double(s.kv), s.last_used, s.expected_return};
}

PolicyContext FcfsReserveScheduler::policy_context(const Session& s, double now) const {
  const double ddr_free = ddr_.free_bytes() + prefix_.ddr_evictable_bytes();  // cache blocks yield to sessions
  return PolicyContext{now,
                       ddr_free,
                       cost_.deployment().kv_transfer_bandwidth(),
                       static_cast<int>(transfers_.size()),
                       steps_.prefill(double(s.kv), 0).seconds,
                       static_cast<int>(running_.size() + waiting_.size())};
}

void FcfsReserveScheduler::offload_idle(Session& s, double now) {
  set_prefetch(s, -1);  // a previous round's prefetch time never carries over
  if (!policy_->offload_when_idle() || s.kv == 0) return;
  const VictimInfo info = victim_info(s);
  if (!reserve_copy(s, info.kv_bytes)) return;  // no room: the KV stays in HBM until pressure evicts it
  pending_free_blocks_ += s.blocks;
  start_transfer(s, true, now);
  const double at = policy_->prefetch_at_s(info, policy_context(s, now));
  set_prefetch(s, at >= 0 ? std::max(at, now) : -1);
}

// Due prefetches bring the KV back while the session is still idle, using only HBM that no admitted round needs;
// a prefetch that finds no room is given up (the next round swaps in on demand).
void FcfsReserveScheduler::set_prefetch(Session& s, double at) {
  prefetches_ += (at >= 0 ? 1 : 0) - (s.prefetch_at >= 0 ? 1 : 0);
  s.prefetch_at = at;
}

void FcfsReserveScheduler::run_prefetches(double now) {
  if (prefetches_ == 0) return;  // most policies never prefetch: no scan of every session per step
  for (auto& [id, s] : sessions_) {
    if (s.prefetch_at < 0 || s.prefetch_at > now || s.where == Where::kSwappingOut) continue;
    set_prefetch(s, -1);
    if (s.has_round || s.where != Where::kOffloaded) continue;
    const std::int64_t need = kv_blocks(s, s.kv);
    if (hbm_.free_blocks() - reserved_blocks() < need) continue;
    hbm_.allocate(need);
    set_blocks(s, need);
    start_transfer(s, false, now);
  }
}

double FcfsReserveScheduler::next_wake(double now) const {
  double at = std::numeric_limits<double>::infinity();
  if (prefetches_ == 0) return at;
  for (const auto& [id, s] : sessions_) {
    if (s.prefetch_at > now && s.where != Where::kSwappingOut) at = std::min(at, s.prefetch_at);
  }
  return at;
}

// The step that carried layerwise loads has ended: their KV is in HBM. The stall is what the step took beyond its
// own compute and HBM time.
void FcfsReserveScheduler::finish_loads(double now) {
  const double stall = std::max(0.0, (now - step_start_) - inflight_cost_.seconds);
  for (SessionId id : inflight_loads_) {
    Session& s = sessions_.at(id);
    ddr_.release(s.ddr_bytes);
    sink_.on_kv_loaded_in_step(id, s.ddr_bytes, step_start_, now, stall);
    s.ddr_bytes = 0;
    s.where = Where::kHbm;
    s.load_in_step = false;
  }
  inflight_loads_.clear();
}

}  // namespace kvsim
