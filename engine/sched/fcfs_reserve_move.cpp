// Sessions moving between replicas (clusters): a session whose round is routed away departs, its KV pinned where it
// is (or dropped, as the offload policy decides); the replica its round goes to pulls the KV over the network on
// admission, and the source lets go of it once it has landed. Until then the KV holds memory at both ends.
#include <fmt/format.h>

#include "engine/log.hpp"
#include "engine/sched/fcfs_reserve.hpp"

namespace kvsim {

// A round of a session this replica does not hold: its context came from elsewhere. The KV to pull is at rest on the
// other replica (counted there, not here, until the pull starts).
void FcfsReserveScheduler::arrive_from_elsewhere(Session& s, const RoundRequest& r) {
  s.context = r.context_tokens;
  if (r.remote_kv_tokens <= 0) return;  // dropped there: recomputed here as part of the prefill
  s.kv = r.remote_kv_tokens;
  s.remote = r.remote.replica;
  s.remote_tier = r.remote.tier;
  s.ddr_bytes = cost_.ledger_bytes(s.kv);
  s.where = Where::kOffloaded;
}

void FcfsReserveScheduler::start_pull(Session& s, double now) {
  const std::uint64_t id = next_transfer_++;
  InFlight t{s.id, false, s.ddr_bytes, s.remote_tier, false};
  t.remote = s.remote;
  t.start_s = now;
  transfers_.emplace(id, t);
  const KvPlace from{s.remote, s.remote_tier}, to{KvPlace::kThisReplica, Tier::kHbm};
  orders_.push_back(TransferOrder{id, s.id, s.ddr_bytes, from, to});
  s.where = Where::kSwappingIn;
  if (s.has_round) ++stalled_;
  sink_.on_kv_import_start(s.id, s.remote, s.kv, s.ddr_bytes, now);
}

void FcfsReserveScheduler::pull_done(Session& s, const InFlight& t, double now) {
  s.ddr_bytes = 0;
  s.remote = -1;
  s.where = Where::kHbm;
  if (s.has_round && s.admitted) --stalled_;
  sink_.on_kv_import_done(s.id, t.remote, s.kv, t.bytes, s.round.leg == Leg::kDecode, now);
}

Departure FcfsReserveScheduler::depart(SessionId id, bool move, double now) {
  Session& s = sessions_.at(id);
  if (s.has_round) throw std::logic_error(fmt::format("session {} departs with a round in progress", id));
  set_prefetch(s, -1);
  const bool at_rest = s.where == Where::kHbm || s.where == Where::kOffloaded;
  if (!move && at_rest && s.kv > 0 && s.shared == 0) {  // a move in flight, or a shared prefix, always goes whole
    move = policy_->on_evict(victim_info(s), policy_context(s, now)) == EvictAction::kSwapOut;
  }
  Departure d{s.context, s.kv, s.where == Where::kHbm || s.where == Where::kSwappingOut ? Tier::kHbm : s.tier};
  if (s.kv == 0 || (!move && at_rest)) {
    if (s.kv > 0) sink_.on_kv_dropped(s.id, s.kv - s.shared, cost_.ledger_bytes(s.kv), now);
    d.kv_tokens = 0;
    s.kv = s.shared;
    forget(s, 0, now);
    return d;
  }
  static spdlog::logger& logger = log("scheduler");
  logger.debug("t={:.6f} session {} departs with {} KV tokens in {}", now, id, s.kv,
               d.tier == Tier::kHbm ? "HBM" : "DDR");
  s.pinned = true;
  return d;
}

void FcfsReserveScheduler::release(SessionId id, double now) {
  Session& s = sessions_.at(id);
  if (s.where == Where::kSwappingOut || s.where == Where::kSwappingIn || s.where == Where::kDemoting) {
    s.release_pending = true;  // freed when its own transfer lands (on_transfer_done)
    return;
  }
  forget(s, s.kv, now);
}

// Frees what the session holds here and forgets it; `moved_tokens` of its KV went to another replica.
void FcfsReserveScheduler::forget(Session& s, std::int64_t moved_tokens, double now) {
  prefix_release(s);
  hbm_.release(s.blocks);
  set_blocks(s, 0);
  if (s.where == Where::kOffloaded && s.ddr_bytes > 0) ledger(s.tier).release(s.ddr_bytes);
  const SessionId id = s.id;
  const std::int64_t freed = s.kv - s.shared;
  sessions_.erase(id);
  sink_.on_kv_export(id, moved_tokens, moved_tokens > 0 ? freed : 0, now);
  report(now);
}

}  // namespace kvsim
