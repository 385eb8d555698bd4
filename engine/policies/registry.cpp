// The registries of offload and victim policies: one line per policy.
#include "engine/policies/policies.hpp"

namespace kvsim {

const OffloadRegistry& offload_policies() {
  static const OffloadRegistry r("offload policy", {
                                                       swap_policy(),
                                                       recompute_policy(),
                                                       offload_idle_policy(),
                                                       prefetch_policy(),
                                                       layerwise_policy(),
                                                       cost_aware_policy(),
                                                       tiered_policy(),
                                                   });
  return r;
}

const VictimRegistry& victim_policies() {
  static const VictimRegistry r("victim policy", {
                                                     lru_victims(),
                                                     longest_idle_victims(),
                                                     largest_victims(),
                                                     smallest_victims(),
                                                 });
  return r;
}

std::vector<std::string> offload_policy_names() {
  return offload_policies().names();
}
std::unique_ptr<OffloadPolicy> make_offload_policy(const std::string& name, const PolicyEnv& env) {
  return offload_policies().make(name, env);
}
std::vector<std::string> victim_policy_names() {
  return victim_policies().names();
}
std::unique_ptr<VictimPolicy> make_victim_policy(const std::string& name) {
  return victim_policies().make(name);
}

}  // namespace kvsim
