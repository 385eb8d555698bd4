#pragma once
/// @file policies.hpp
/// @brief The registry entries of the built-in policies, one per file in engine/policies/, listed in registry.cpp.

#include "engine/offload_policy.hpp"

namespace kvsim {
OffloadRegistry::Entry swap_policy();
OffloadRegistry::Entry recompute_policy();
OffloadRegistry::Entry offload_idle_policy();
OffloadRegistry::Entry prefetch_policy();
OffloadRegistry::Entry layerwise_policy();
OffloadRegistry::Entry cost_aware_policy();
OffloadRegistry::Entry tiered_policy();
VictimRegistry::Entry lru_victims();
VictimRegistry::Entry longest_idle_victims();
VictimRegistry::Entry largest_victims();
VictimRegistry::Entry smallest_victims();
}  // namespace kvsim
