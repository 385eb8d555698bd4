#pragma once
/// @file cluster_config.hpp
/// @brief The scenario's `cluster` section turned into a Topology: each pool's deployment (its GPU, tensor
/// parallelism, node, CPU memory), scheduler and step model, the network and how disaggregated rounds move. A
/// scenario without `cluster.pools` is one mixed pool of its `hardware`.

#include "engine/cluster/topology.hpp"
#include "sim/catalog.hpp"
#include "sim/diagnostics.hpp"

namespace kvsim {

struct Scenario;

/// @brief CPU memory per replica of `tp` GPUs on `node`: the node's memory shared by the replicas that fit on it,
/// or, for a replica wider than a node, the memory of every node it spans. `origin` says which.
double node_host_memory(const NodeSpec& node, int tp, std::string& origin);

/// @brief Builds `s.topology` from `s.values` and the already built `s.deployment`, `s.replicas` and
/// `s.scheduler`; problems go to `diag` at their keys.
void build_topology(Scenario& s, const Catalog& cat, Diagnostics& diag);

}  // namespace kvsim
