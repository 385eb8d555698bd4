#pragma once
/// @file hardware.hpp
/// @brief GPUs, links and a deployment of a model on them: the numbers the cost model and the platform share.

#include <optional>
#include <string>
#include <vector>

#include "engine/dtype.hpp"

namespace kvsim {

/// @brief One interconnect (PCIe, NVLink, C2C). Bandwidth is per direction; links are full duplex.
struct LinkSpec {
  std::string name;
  std::string description;
  double bandwidth = 0;  ///< bytes/s per direction
  double latency = 0;    ///< seconds
  double typical_efficiency = 1.0;
};

/// @brief One accelerator as its datasheet states it. Tensor-core peaks are dense (no structured sparsity), one per
/// compute dtype; 0 means the GPU does not list that dtype.
struct GpuSpec {
  std::string name;
  std::string description;
  double flops_bf16 = 0;     ///< dense bf16 peak FLOP/s; every GPU lists it
  double flops_fp16 = 0;     ///< dense fp16 peak FLOP/s
  double flops_fp8 = 0;      ///< dense fp8 peak FLOP/s
  double flops_int8 = 0;     ///< dense int8 peak OP/s
  double flops_fp4 = 0;      ///< dense fp4 peak FLOP/s
  double hbm_capacity = 0;   ///< bytes
  double hbm_bandwidth = 0;  ///< bytes/s
  LinkSpec host_link;        ///< GPU to CPU memory
  LinkSpec nvlink;           ///< GPU to GPU; bandwidth 0 when the GPU has none
  /// @brief Dense peak of compute in `t`, in FLOP/s (OP/s for int8); 0 when the GPU lists none for `t`.
  double peak_flops(DType t) const;
};

/// @brief One per-dtype peak of GpuSpec: its dtype, its key in gpus.yaml (and under hardware.gpu), its field.
struct GpuPeakField {
  DType dtype;
  const char* key;
  double GpuSpec::*field;
};

/// @brief The compute dtypes a GPU can list a peak for, bf16 first: bf16, fp16, fp8, int8, fp4.
const std::vector<GpuPeakField>& gpu_peak_fields();

/// @brief The dtypes `gpu` lists a peak for, comma separated ("bf16, fp16, int8").
std::string compute_dtype_names(const GpuSpec& gpu);

/// @brief The dtype a model computes in on `gpu`. `setting` is "auto" or a dtype name of gpu_peak_fields().
/// auto: weights stored in fp8 or fp4 compute in that dtype when the GPU lists its peak (W8A8 / W4A4, as vLLM runs
/// FP8 checkpoints on Hopper and later), fp16 weights in fp16 when listed, everything else in bf16 (weight-only
/// quantization dequantizes to 16 bits). A named dtype must be listed by the GPU; nullopt when it is not.
std::optional<DType> choose_compute_dtype(const std::string& setting, DType weights, const GpuSpec& gpu);

/// @brief A model replica's hardware: `tensor_parallel` GPUs of one kind, their host link and efficiencies.
struct Deployment {
  GpuSpec gpu;
  int tensor_parallel = 1;
  LinkSpec host_link;            ///< usually gpu.host_link; may be overridden (the paper uses 20 GB/s)
  bool host_link_shared = true;  ///< one host link for the whole TP group (the paper's assumption)
  double host_memory = 0;        ///< CPU DDR bytes available to this replica for KV
  double compute_efficiency = 1.0;
  double memory_efficiency = 1.0;
  double host_link_efficiency = 1.0;
  double activation_reserve = 0;       ///< bytes of HBM per GPU kept for activations and workspace
  double nvme_capacity = 0;            ///< bytes of NVMe per replica for KV (tiered policy); 0 = none
  double nvme_bandwidth = 0;           ///< bytes/s per direction between CPU memory and the NVMe tier
  DType compute_dtype = DType::kBf16;  ///< what the tensor cores compute in; picks the GPU's peak

  /// @brief The GPU's dense peak in compute_dtype, before compute_efficiency: what sets compute time.
  double peak_flops() const { return gpu.peak_flops(compute_dtype); }

  /// @brief Effective FLOP/s of one GPU: peak in compute_dtype x compute_efficiency. With the three below, the one
  /// place effective capacities are computed (cost model, platform, metrics and reports use them).
  double effective_flops() const { return peak_flops() * compute_efficiency; }
  /// @brief Effective HBM bandwidth of one GPU in bytes/s: peak x memory_efficiency.
  double effective_hbm_bandwidth() const { return gpu.hbm_bandwidth * memory_efficiency; }
  /// @brief Effective bandwidth of one host link in bytes/s per direction: its bandwidth x host_link_efficiency.
  double host_link_bandwidth() const { return host_link.bandwidth * host_link_efficiency; }
  /// @brief Effective host-link bandwidth for moving one session's KV, in bytes/s per direction: one link's
  /// share when the link is shared by the TP group, N links in parallel when each GPU has its own.
  double kv_transfer_bandwidth() const;
  /// @brief Total HBM of the replica in bytes.
  double hbm_total() const { return gpu.hbm_capacity * tensor_parallel; }
};

/// @brief Checks a deployment's numbers; returns an empty string or a message naming the bad field.
std::string validate_deployment(const Deployment& d);

}  // namespace kvsim
