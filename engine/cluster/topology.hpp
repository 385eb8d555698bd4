#pragma once
/// @file topology.hpp
/// @brief The replicas of a run as pools: each pool a role, a deployment and a replica count. Replicas are numbered
/// pool by pool. A scenario without a cluster section is one mixed pool of identical replicas.

#include <string>
#include <vector>

#include "engine/hardware.hpp"

namespace kvsim {

/// @brief What a pool's replicas do: whole rounds (mixed), or only prefill or decode (disaggregated serving).
enum class PoolRole { kMixed, kPrefill, kDecode };
/// @brief "mixed", "prefill" or "decode".
std::string pool_role_name(PoolRole role);

/// @brief Identical replicas with one role.
struct Pool {
  std::string name = "replicas";
  PoolRole role = PoolRole::kMixed;
  Deployment deployment;  ///< one replica
  int replicas = 1;
};

/// @brief Every pool of a run.
struct Topology {
  std::vector<Pool> pools;

  /// @brief One mixed pool of `replicas` replicas of `d`.
  static Topology single(const Deployment& d, int replicas);
  /// @brief Replicas over all pools.
  int replica_count() const;
  /// @brief The pool replica `r` belongs to; throws std::out_of_range past the last replica.
  const Pool& pool_of(int r) const;
};

}  // namespace kvsim
