#include "sim/frontend.hpp"

#include <algorithm>

#include "sim/replica_actor.hpp"

namespace kvsim {

Frontend::Frontend(const Topology& topology, std::vector<Scheduler*> replicas,
                   const std::function<std::unique_ptr<Router>()>& make_router, std::int64_t prefix_block_tokens)
    : topology_(topology),
      replicas_(std::move(replicas)),
      candidates_(3),
      sessions_(replicas_.size(), 0),
      prefix_block_tokens_(prefix_block_tokens) {
  for (int r = 0; r < static_cast<int>(replicas_.size()); ++r) {
    const PoolRole role = topology.pool_of(r).role;
    candidates_[role == PoolRole::kMixed ? kMixed : role == PoolRole::kPrefill ? kPrefill : kDecode].push_back(r);
  }
  for (int c = 0; c < 3; ++c) routers_.push_back(make_router());
}

int Frontend::route(Choice c, const SessionPlace& p, const RoundRequest& req) {
  const auto& cands = candidates_[static_cast<std::size_t>(c)];
  loads_.clear();
  for (int r : cands) {
    const HbmLedger& hbm = replicas_[static_cast<std::size_t>(r)]->hbm();
    loads_.push_back(ReplicaLoad{r, sessions_[static_cast<std::size_t>(r)],
                                 replicas_[static_cast<std::size_t>(r)]->state(), hbm.total_blocks(),
                                 hbm.free_blocks()});
  }
  const RouteRequest route{p.id,
                           req.round,
                           p.home >= 0 ? p.home : p.hint,
                           p.context,
                           req.prompt_tokens,
                           req.prefix_blocks,
                           req.prefix_blocks.empty() ? 0 : prefix_block_tokens_};
  const std::size_t i = routers_[static_cast<std::size_t>(c)]->route(route, loads_);
  return cands.at(i);
}

// The session's KV goes from its home to `to`: the home departs it (kept for `to` to pull, or dropped), and the
// home plans again, since a drop freed memory there.
void Frontend::move(SessionPlace& p, int to, RoundRequest& req, bool always_move, double now) {
  if (p.home == to) return;
  req.context_tokens = p.context;
  if (p.home >= 0) {
    const Departure d = replicas_[static_cast<std::size_t>(p.home)]->depart(p.id, always_move, now);
    req.context_tokens = d.context_tokens;
    req.remote_kv_tokens = d.kv_tokens;
    req.remote = KvPlace{p.home, d.tier};
    req.prestreamed_bytes = d.streamed_bytes;
    --sessions_[static_cast<std::size_t>(p.home)];
    send_wake(p.home);
  }
  ++sessions_[static_cast<std::size_t>(to)];
  p.home = to;
}

int Frontend::place(SessionPlace& p, RoundRequest& req, double now) {
  p.prefill_replica = -1;
  if (!topology_.disaggregated()) {
    const int r = route(kMixed, p, req);
    move(p, r, req, false, now);
    return r;
  }
  if (p.home >= 0 && topology_.pd.later_rounds_on_decode) {  // the question is prefilled where the KV is
    const int r = route(kDecode, p, req);
    move(p, r, req, false, now);
    return r;
  }
  const int r = route(kPrefill, p, req);
  move(p, r, req, false, now);
  if (topology_.pd.layerwise) {  // the KV streams to its decode replica during the prefill: choose it now
    SessionPlace fresh = p;
    fresh.home = -1;
    p.decode_target = route(kDecode, fresh, req);
    req.stream_to = p.decode_target;
  }
  req.leg = Leg::kPrefill;  // keeps `last`: a one-round session's prompt may go to the prefill replica's cache
  req.answer_tokens = 1;
  p.prefill_replica = r;
  return r;
}

int Frontend::handoff(SessionPlace& p, const RoundRequest& round, RoundRequest& req, double now) {
  req = round;
  req.leg = Leg::kDecode;
  req.prompt_tokens = 0;
  req.prefix_blocks = {};
  req.stream_to = -1;
  // The prefill made the first token; a one-token answer still decodes one token here (docs/cluster.md).
  req.answer_tokens = std::max<std::int64_t>(1, round.answer_tokens - 1);
  SessionPlace fresh = p;
  fresh.home = -1;
  const int d = p.decode_target >= 0 ? p.decode_target : route(kDecode, fresh, req);
  p.prefill_replica = -1;
  p.decode_target = -1;
  move(p, d, req, true, now);
  return d;
}

void Frontend::round_done(SessionPlace& p, const RoundRequest& round) {
  p.context += round.prompt_tokens + round.answer_tokens;
}

void Frontend::session_done(const SessionPlace& p) {
  if (p.home >= 0) --sessions_[static_cast<std::size_t>(p.home)];
}

}  // namespace kvsim
