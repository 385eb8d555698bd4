#include "engine/cluster/topology.hpp"

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

Topology Topology::single(const Deployment& d, int replicas) {
  return Topology{{Pool{"replicas", PoolRole::kMixed, d, replicas}}};
}

int Topology::replica_count() const {
  int n = 0;
  for (const auto& p : pools) n += p.replicas;
  return n;
}

const Pool& Topology::pool_of(int r) const {
  for (const auto& p : pools) {
    if (r < p.replicas) return p;
    r -= p.replicas;
  }
  throw std::out_of_range("replica index past the last pool");
}

}  // namespace kvsim
