#pragma once
/// @file router.hpp
/// @brief Which replica a round goes to. The frontend (sim/clients.cpp) asks the router for every round of every
/// session, with what it knows of the candidate replicas (those of the pool that serves the round, or the round's
/// leg in prefill/decode disaggregation) and where the session's KV lives. A round sent away from its session's
/// KV pays for it: the KV moves over the network, or is recomputed, as the offload policy decides. A router
/// decides only: it never touches the platform.
///
/// Adding a router: one file in engine/cluster/, one line in engine/cluster/registry.cpp, one test.

#include <cstdint>
#include <span>
#include <string_view>

#include "engine/metrics_sink.hpp"
#include "engine/registry.hpp"

namespace kvsim {

/// @brief What a router sees of one candidate replica.
struct ReplicaLoad {
  int replica = 0;             ///< the replica's index in the run (replicas are numbered pool by pool)
  long sessions = 0;           ///< live sessions whose KV is on it (routed to it and not yet ended or moved away)
  ReplicaState state;          ///< its scheduler's occupancy (resident sessions, active and waiting rounds, KV bytes)
  std::int64_t kv_blocks = 0;  ///< HBM blocks for KV
  std::int64_t free_kv_blocks = 0;  ///< of which free now
};

/// @brief The round to place.
struct RouteRequest {
  SessionId session = 0;  ///< the session's id, in start order
  int round = 0;          ///< 0-based round of the session
  /// The replica holding the session's KV (where its previous round ran), or -1 for a session's first round.
  int home = -1;
  std::int64_t context_tokens = 0;  ///< KV tokens of the session so far (0 for a first round)
  std::int64_t prompt_tokens = 0;   ///< the round's new prompt tokens
  /// Hash ids of the prompt's blocks, in order, each `prefix_block_tokens` tokens (trace replay; may be empty).
  std::span<const std::uint64_t> prefix_blocks;
  std::int64_t prefix_block_tokens = 0;
};

/// @brief Chooses the replica of each round.
class Router {
 public:
  virtual ~Router() = default;
  /// @brief The registry name.
  virtual std::string_view name() const = 0;
  /// @brief The index into `replicas` of the replica `request` goes to; `replicas` is never empty. Called once per
  /// round, and the round goes where it says: a router may remember its decisions (prefix-aware does).
  virtual std::size_t route(const RouteRequest& request, std::span<const ReplicaLoad> replicas) = 0;
  /// @brief True when a later round always goes where its session's KV is (among the candidates): such a router
  /// never moves a session between replicas of one pool, so schedulers that cannot hand sessions over can serve it.
  virtual bool keeps_sessions_home() const { return false; }
};

/// @brief Routers by name; the key is `router.type`, parameters under `router`. One router is made per pool the
/// frontend chooses in (mixed, prefill, decode).
using RouterRegistry = Registry<Router>;
RouterRegistry& routers();

}  // namespace kvsim
