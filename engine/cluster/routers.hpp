#pragma once
/// @file routers.hpp
/// @brief The registry entries of the built-in routers, one per file in engine/cluster/, listed in registry.cpp.

#include "engine/cluster/router.hpp"

namespace kvsim {
RouterRegistry::Entry round_robin_router();
RouterRegistry::Entry least_loaded_router();
RouterRegistry::Entry least_kv_router();
RouterRegistry::Entry session_affinity_router();
RouterRegistry::Entry prefix_aware_router();

/// @brief The index of the replica with the fewest live sessions, ties to the lowest index (`least-loaded`'s rule,
/// shared with `session-affinity`'s first rounds); `replicas` must not be empty.
std::size_t fewest_sessions(std::span<const ReplicaLoad> replicas);
}  // namespace kvsim
