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

int Pool::replicas_per_node() const {
  return std::max(1, gpus_per_node / std::max(1, deployment.tensor_parallel));
}

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

const Pool& Topology::pool_of(int r) const {
  return pools[static_cast<std::size_t>(pool_index(r))];
}

int Topology::first_replica(int p) const {
  int r = 0;
  for (int i = 0; i < p; ++i) r += pools[static_cast<std::size_t>(i)].replicas;
  return r;
}

// Replicas fill nodes in order, a pool continuing on its predecessor's last node when both use the same GPU and
// node size; a replica wider than a node takes whole nodes of its own.
int Topology::node_of(int r) const {
  int node = -1, free_gpus = 0;
  const Pool* previous = nullptr;
  for (const auto& p : pools) {
    const int tp = std::max(1, p.deployment.tensor_parallel), size = std::max(1, p.gpus_per_node);
    const bool shares = previous && !p.own_nodes && previous->deployment.gpu.name == p.deployment.gpu.name &&
                        previous->gpus_per_node == p.gpus_per_node;
    if (!shares) free_gpus = 0;
    for (int i = 0; i < p.replicas; ++i, --r) {
      if (tp > free_gpus) {
        node += 1 + (tp - 1) / size;  // a replica wider than a node spans whole nodes; counted as its last
        free_gpus = tp > size ? 0 : size;
      }
      free_gpus -= std::min(tp, free_gpus);
      if (r == 0) return node;
    }
    previous = &p;
  }
  throw std::out_of_range("replica index past the last pool");
}

bool Topology::disaggregated() const {
  return std::any_of(pools.begin(), pools.end(), [](const Pool& p) { return p.role == PoolRole::kPrefill; });
}

}  // namespace kvsim
