#pragma once
/// @file topology.hpp
/// @brief The replicas of a run as pools: each pool a role, a deployment and a replica count, its replicas packed
/// onto nodes, and the nodes joined by a network. Replicas are numbered pool by pool. A scenario without a cluster
/// section is one mixed pool of identical replicas.

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
  std::string scheduler;   ///< scheduler.type of its replicas
  std::string step_model;  ///< step_model.type of its replicas
  int gpus_per_node = 8;   ///< GPUs of the node type its replicas are packed onto
  bool own_nodes = false;  ///< never shares a node with the pool before it

  /// @brief Replicas sharing one node: gpus_per_node / tensor_parallel, at least 1 (a wider replica spans nodes).
  int replicas_per_node() const;
};

/// @brief The network between nodes: one NIC per node, each direction.
struct Network {
  double bandwidth = 50e9;  ///< bytes/s per direction per node
  double latency_s = 5e-6;  ///< per KV move between nodes
};

/// @brief How prefill/decode disaggregation moves a round.
struct Disaggregation {
  bool layerwise = false;              ///< KV moves layer by layer during the prefill, not after it
  bool later_rounds_on_decode = true;  ///< a later round prefills its question on the decode replica holding its KV
};

/// @brief Every pool of a run.
struct Topology {
  std::vector<Pool> pools;
  Network network;
  Disaggregation pd;
  bool declared = false;  ///< from a scenario's cluster section (false: one pool built from hardware)

  /// @brief One mixed pool of `replicas` replicas of `d`.
  static Topology single(const Deployment& d, int replicas);
  /// @brief Replicas over all pools.
  int replica_count() const;
  /// @brief GPUs over all pools.
  int gpu_count() const;
  /// @brief The pool replica `r` belongs to; throws std::out_of_range past the last replica.
  const Pool& pool_of(int r) const;
  /// @brief The index of the pool replica `r` belongs to.
  int pool_index(int r) const;
  /// @brief The first replica of pool `p`.
  int first_replica(int p) const;
  /// @brief The node replica `r` sits on: replicas fill nodes in order; a pool shares its predecessor's last node
  /// when both have the same GPU and node size (and it does not ask for nodes of its own), and starts a new node
  /// otherwise.
  int node_of(int r) const;
  /// @brief True when a pool has the prefill role (rounds are then disaggregated).
  bool disaggregated() const;
};

}  // namespace kvsim
