#pragma once
/// @file hardware.hpp
/// @brief GPUs, links and a deployment of a model on them: the numbers the cost model and the platform share.

#include <string>

namespace kvsim {

/// @brief One interconnect (PCIe, NVLink, C2C). Bandwidth is per direction; links are full duplex.
struct LinkSpec {
  std::string name;
  std::string description;
  double bandwidth = 0;  ///< bytes/s per direction
  double latency = 0;    ///< seconds
  double typical_efficiency = 1.0;
};

/// @brief One accelerator as its datasheet states it.
struct GpuSpec {
  std::string name;
  std::string description;
  double flops_bf16 = 0;     ///< dense peak FLOP/s
  double hbm_capacity = 0;   ///< bytes
  double hbm_bandwidth = 0;  ///< bytes/s
  LinkSpec host_link;        ///< GPU to CPU memory
  LinkSpec nvlink;           ///< GPU to GPU; bandwidth 0 when the GPU has none
};

/// @brief A model replica's hardware: `tensor_parallel` GPUs of one kind, their host link and efficiencies.
struct Deployment {
  GpuSpec gpu;
  int tensor_parallel = 1;
  LinkSpec host_link;             ///< usually gpu.host_link; may be overridden (the paper uses 20 GB/s)
  bool host_link_shared = true;   ///< one host link for the whole TP group (the paper's assumption)
  double host_memory = 0;         ///< CPU DDR bytes available to this replica for KV
  double compute_efficiency = 1.0;
  double memory_efficiency = 1.0;
  double host_link_efficiency = 1.0;
  double activation_reserve = 0;  ///< bytes of HBM per GPU kept for activations and workspace
  double nvme_capacity = 0;       ///< bytes of NVMe per replica for KV (tiered policy); 0 = none
  double nvme_bandwidth = 0;      ///< bytes/s per direction between CPU memory and the NVMe tier

  /// @brief Effective host-link bandwidth for moving one session's KV, in bytes/s per direction: one link's
  /// share when the link is shared by the TP group, N links in parallel when each GPU has its own.
  double kv_transfer_bandwidth() const;
  /// @brief Total HBM of the replica in bytes.
  double hbm_total() const { return gpu.hbm_capacity * tensor_parallel; }
};

/// @brief Checks a deployment's numbers; returns an empty string or a message naming the bad field.
std::string validate_deployment(const Deployment& d);

}  // namespace kvsim
