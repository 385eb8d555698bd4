#pragma once
/// @file router.hpp
/// @brief Which replica a new session goes to. The frontend (sim/clients.cpp) asks the router once per session,
/// with what it knows of every replica; the session then stays there, where its KV lives. A router decides only:
/// it never touches the platform.
///
/// Adding a router: one file in engine/cluster/, one line in engine/cluster/registry.cpp, one test.

#include <cstdint>
#include <span>
#include <string_view>

#include "engine/metrics_sink.hpp"
#include "engine/registry.hpp"

namespace kvsim {

/// @brief What a router sees of one replica.
struct ReplicaLoad {
  int replica = 0;
  long sessions = 0;           ///< live sessions routed to it and not yet ended
  ReplicaState state;          ///< its scheduler's occupancy (resident sessions, active and waiting rounds, KV bytes)
  std::int64_t kv_blocks = 0;  ///< HBM blocks for KV
  std::int64_t free_kv_blocks = 0;  ///< of which free now
};

/// @brief The session to place.
struct RouteRequest {
  std::uint64_t session = 0;  ///< the session's id, in start order
};

/// @brief Chooses the replica of each new session.
class Router {
 public:
  virtual ~Router() = default;
  /// @brief The registry name.
  virtual std::string_view name() const = 0;
  /// @brief The index into `replicas` of the replica `request` goes to; `replicas` is never empty.
  virtual std::size_t route(const RouteRequest& request, std::span<const ReplicaLoad> replicas) = 0;
};

/// @brief Routers by name; the key is `router.type`, parameters under `router`.
using RouterRegistry = Registry<Router>;
RouterRegistry& routers();

}  // namespace kvsim
