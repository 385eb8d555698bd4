#include "engine/cluster/topology.hpp"

#include <algorithm>
#include <stdexcept>

namespace kvsim {

std::string pool_role_name(PoolRole role) {
  switch (role) {
    case PoolRole::kPrefill:
      return "prefill";
    case PoolRole::kDecode:
      return "decode";
    default:
      return "mixed";
  }
}

int Pool::replicas_per_node() const { return std::max(1, gpus_per_node / std::max(1, deployment.tensor_parallel)); }

Topology Topology::single(const Deployment& d, int replicas) {
  Topology t;
  t.pools.push_back(Pool{"replicas", PoolRole::kMixed, d, replicas, "", "", 8});
  return t;
}

int Topology::replica_count() const {
  int n = 0;
  for (const auto& p : pools) n += p.replicas;
  return n;
}

int Topology::gpu_count() const {
  int n = 0;
  for (const auto& p : pools) n += p.replicas * p.deployment.tensor_parallel;
  return n;
}

int Topology::pool_index(int r) const {
  for (std::size_t i = 0; i < pools.size(); ++i) {
    if (r < pools[i].replicas) return static_cast<int>(i);
    r -= pools[i].replicas;
  }
  throw std::out_of_range("replica index past the last pool");
}

const Pool& Topology::pool_of(int r) const { return pools[static_cast<std::size_t>(pool_index(r))]; }

int Topology::first_replica(int p) const {
  int r = 0;
  for (int i = 0; i < p; ++i) r += pools[static_cast<std::size_t>(i)].replicas;
  return r;
}

int Topology::node_of(int r) const {
  int node = 0;
  for (const auto& p : pools) {
    const int per = p.replicas_per_node();
    if (r < p.replicas) return node + r / per;
    r -= p.replicas;
    node += (p.replicas + per - 1) / per;
  }
  throw std::out_of_range("replica index past the last pool");
}

bool Topology::disaggregated() const {
  return std::any_of(pools.begin(), pools.end(), [](const Pool& p) { return p.role == PoolRole::kPrefill; });
}

}  // namespace kvsim
