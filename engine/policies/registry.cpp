// The registries of offload and victim policies: one line per policy.
#include <stdexcept>
#include <utility>

#include "engine/policies/policies.hpp"

namespace kvsim {
namespace {

template <typename T>
using Factory = std::unique_ptr<T> (*)();

const std::vector<std::pair<std::string, Factory<OffloadPolicy>>>& offload_registry() {
  static const std::vector<std::pair<std::string, Factory<OffloadPolicy>>> r{
      {"swap", &make_swap_policy},
      {"recompute", &make_recompute_policy},
      {"offload-idle", &make_offload_idle_policy},
      {"prefetch", &make_prefetch_policy},
      {"layerwise", &make_layerwise_policy},
      {"cost-aware", &make_cost_aware_policy},
      {"tiered", &make_tiered_policy},
  };
  return r;
}

const std::vector<std::pair<std::string, Factory<VictimPolicy>>>& victim_registry() {
  static const std::vector<std::pair<std::string, Factory<VictimPolicy>>> r{
      {"lru", &make_lru_victims},
      {"longest-idle", &make_longest_idle_victims},
      {"largest", &make_largest_victims},
      {"smallest", &make_smallest_victims},
  };
  return r;
}

template <typename T>
std::vector<std::string> names(const std::vector<std::pair<std::string, Factory<T>>>& r) {
  std::vector<std::string> out;
  for (const auto& [n, _] : r) out.push_back(n);
  return out;
}

template <typename T>
std::unique_ptr<T> make(const std::vector<std::pair<std::string, Factory<T>>>& r, const std::string& kind,
                        const std::string& name) {
  for (const auto& [n, f] : r) {
    if (n == name) return f();
  }
  std::string valid;
  for (const auto& n : names(r)) valid += (valid.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown " + kind + " '" + name + "'; valid: " + valid);
}

}  // namespace

std::vector<std::string> offload_policy_names() { return names(offload_registry()); }
std::unique_ptr<OffloadPolicy> make_offload_policy(const std::string& name) {
  return make(offload_registry(), "offload policy", name);
}
std::vector<std::string> victim_policy_names() { return names(victim_registry()); }
std::unique_ptr<VictimPolicy> make_victim_policy(const std::string& name) {
  return make(victim_registry(), "victim policy", name);
}

}  // namespace kvsim
