#pragma once
/// @file frontend.hpp
/// @brief The cluster's frontend: for each round, asks the router of the pool that serves it where it goes, and
/// moves the session there. A session whose round goes away from its KV departs from its replica (its KV is pulled
/// over the network by the new replica, or dropped and recomputed, as the offload policy decides). Under
/// prefill/decode disaggregation a round runs in two legs: its prefill on a prefill replica, then its decode on a
/// decode replica, which pulls the KV. The frontend only decides and posts messages; replicas execute.

#include <simgrid/s4u.hpp>

#include <functional>
#include <memory>
#include <vector>

#include "engine/cluster/router.hpp"
#include "engine/cluster/topology.hpp"
#include "engine/sched/scheduler.hpp"

namespace kvsim {

/// @brief Where a session is, as the frontend knows it.
struct SessionPlace {
  SessionId id = 0;
  int home = -1;             ///< the replica holding its KV; -1 before its first round
  std::int64_t context = 0;  ///< tokens of its conversation so far
  int prefill_replica = -1;  ///< a round in its prefill leg: the replica running it
  int decode_target = -1;    ///< layer-by-layer transfer: the decode replica chosen when the prefill started
  int hint = -1;  ///< a trace's stateless request: the replica of the trace session's previous request, for affinity
};

/// @brief Routers and replica loads of a run.
class Frontend {
 public:
  /// `make_router` makes one router per choice the frontend makes (mixed, prefill, decode).
  Frontend(const Topology& topology, std::vector<Scheduler*> replicas,
           const std::function<std::unique_ptr<Router>()>& make_router, std::int64_t prefix_block_tokens);
  /// @brief Places `req` (round `req.round` of session `p`): chooses the replica, moves the session there, and
  /// turns `req` into what that replica runs (its first leg under disaggregation). Returns the replica.
  int place(SessionPlace& p, RoundRequest& req, double now);
  /// @brief True when the round placed last for `p` has a decode leg still to run (handoff()).
  bool has_decode_leg(const SessionPlace& p) const { return p.prefill_replica >= 0; }
  /// @brief The prefill leg of `round` ended: chooses its decode replica, which pulls the KV from the prefill
  /// replica. Returns the replica and sets `req` to the decode leg.
  int handoff(SessionPlace& p, const RoundRequest& round, RoundRequest& req, double now);
  /// @brief The round's answer is in: the session's context grows by it.
  void round_done(SessionPlace& p, const RoundRequest& round);
  /// @brief The session ended.
  void session_done(const SessionPlace& p);

 private:
  enum Choice { kMixed, kPrefill, kDecode };
  int route(Choice c, const SessionPlace& p, const RoundRequest& req);
  void move(SessionPlace& p, int to, RoundRequest& req, bool always_move, double now);

  const Topology& topology_;
  std::vector<Scheduler*> replicas_;
  std::vector<std::unique_ptr<Router>> routers_;  ///< per Choice
  std::vector<std::vector<int>> candidates_;      ///< replicas per Choice
  std::vector<long> sessions_;                    ///< live sessions whose KV is on each replica
  std::vector<ReplicaLoad> loads_;
  std::int64_t prefix_block_tokens_;
};

}  // namespace kvsim
