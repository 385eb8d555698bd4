#pragma once
/// @file policies.hpp
/// @brief Factories of the built-in policies, one per file in engine/policies/, listed in registry.cpp.

#include "engine/offload_policy.hpp"

namespace kvsim {
std::unique_ptr<OffloadPolicy> make_swap_policy();
std::unique_ptr<OffloadPolicy> make_recompute_policy();
std::unique_ptr<OffloadPolicy> make_offload_idle_policy();
std::unique_ptr<OffloadPolicy> make_prefetch_policy();
std::unique_ptr<OffloadPolicy> make_layerwise_policy();
std::unique_ptr<OffloadPolicy> make_cost_aware_policy();
std::unique_ptr<OffloadPolicy> make_tiered_policy();
std::unique_ptr<VictimPolicy> make_lru_victims();
std::unique_ptr<VictimPolicy> make_longest_idle_victims();
std::unique_ptr<VictimPolicy> make_largest_victims();
std::unique_ptr<VictimPolicy> make_smallest_victims();
}  // namespace kvsim
