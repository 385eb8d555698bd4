#pragma once
/// @file platform.hpp
/// @brief Builds the SimGrid platform of a scenario in code. Each GPU is a host and its HBM a link to an HBM
/// endpoint; NVLink runs between the GPUs of a replica. These three serve a step model's demand, which is in
/// seconds at each resource's effective speed, so each has a capacity of one second per second. The host link runs
/// from the replica's CPU host to the HBM endpoints, one link per direction (PCIe and C2C are full duplex), in
/// bytes/s (Deployment::host_link_bandwidth). Under the ptask_L07 host model a forward step is one parallel task
/// whose duration is max(compute, memory, NVLink), shared max-min fairly with everything else on those resources.

#include <simgrid/s4u.hpp>

#include <vector>

#include "engine/cluster/topology.hpp"
#include "engine/hardware.hpp"

namespace kvsim {

/// @brief The SimGrid resources of one model replica.
struct ReplicaHosts {
  std::vector<simgrid::s4u::Host*> gpus;
  std::vector<simgrid::s4u::Host*> hbms;   ///< HBM endpoints, one per GPU
  simgrid::s4u::Host* cpu = nullptr;       ///< CPU DDR endpoint; replica and client actors run here
  simgrid::s4u::Host* nvme = nullptr;      ///< NVMe tier endpoint, or null when the deployment has none
  simgrid::s4u::Host* net = nullptr;       ///< where KV leaves or enters the replica for another replica
  simgrid::s4u::Host* node_hub = nullptr;  ///< its node's switch: KV between replicas of one node goes through it
  simgrid::s4u::Host* fabric = nullptr;    ///< the network's switch: KV between nodes goes through it
  int node = 0;                            ///< the node it sits on
};

/// @brief Sets the host model and the actors' stacks; must be called before any platform is created. `max_actors`
/// is the most actors the run may have alive at once: above what guard pages allow (guard_pages_fit), stacks go
/// without them.
void configure_engine(simgrid::s4u::Engine& engine, double max_actors = 0);

/// @brief Whether `actors` live actors with a guard page each fit in the process's memory maps
/// (/proc/sys/vm/max_map_count, two maps per actor).
bool guard_pages_fit(double actors);

/// @brief Creates the replicas of every pool of `t`, numbered pool by pool, in one full zone and seals it, with the
/// network between them: each node a NIC, one link per direction at `t.network.bandwidth` (the sending side
/// carries the latency), and within a node each replica's NVLink ports (its GPUs' NVLink bandwidth each), or its
/// host links when its GPUs have no NVLink. A KV move between replicas is a parallel task through a switch host
/// (the node's or the network's), so it crosses the sender's link and the receiver's, shared with every other move
/// on them.
std::vector<ReplicaHosts> build_platform(const Topology& t);
/// @brief Creates `replicas` replicas of `d` (one mixed pool).
std::vector<ReplicaHosts> build_platform(const Deployment& d, int replicas);

}  // namespace kvsim
