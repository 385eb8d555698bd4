#pragma once
/// @file activities.hpp
/// @brief Plans turned into SimGrid activities: a forward step and a KV transfer, each one parallel task.

#include <simgrid/s4u.hpp>

#include "engine/cost_model.hpp"
#include "engine/sched/scheduler.hpp"
#include "sim/platform.hpp"

namespace kvsim {

/// @brief Reusable buffers for forward steps of one replica (no allocation per step beyond SimGrid's own).
class StepLauncher {
 public:
  explicit StepLauncher(const ReplicaHosts& hosts);
  /// @brief Starts one forward step from the step model's demand in seconds (sim/platform.hpp): compute seconds on
  /// every GPU, HBM seconds from each GPU to its HBM endpoint, the ring all-reduce's seconds from each GPU to the
  /// next over NVLink, and `load_bytes` of KV from the CPU to the HBM endpoints over the host link (layerwise
  /// loading). Alone, it lasts max(compute, memory, NVLink, host link).
  simgrid::s4u::ExecPtr start(const StepCost& c, double load_bytes = 0);

 private:
  std::size_t gpus_;
  std::vector<simgrid::s4u::Host*> hosts_;
  std::vector<double> flops_, bytes_;
};

/// @brief Starts a KV move of `bytes` split evenly over the replica's GPUs, across the host link(s): HBM to the
/// CPU when `to_host`, CPU to HBM otherwise.
simgrid::s4u::ExecPtr start_transfer(const ReplicaHosts& hosts, bool to_host, double bytes);
/// @brief Starts the move that `order` describes: between HBM and DDR or NVMe, or from DDR to NVMe, on the replica
/// `hosts`; or, for a pull from another replica, from `all[order.from.replica]` (its HBM, or its CPU memory) to
/// `hosts` through their node's switch or the network's (sim/platform.hpp).
simgrid::s4u::ExecPtr start_transfer(const ReplicaHosts& hosts, const TransferOrder& order,
                                     const std::vector<ReplicaHosts>* all = nullptr);

}  // namespace kvsim
