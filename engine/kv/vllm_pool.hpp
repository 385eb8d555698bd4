#pragma once
/// @file vllm_pool.hpp
/// @brief How many KV blocks vLLM v1 (0.19) allocates on one GPU: its worker profiles a dummy forward step and
/// keeps for KV what is left of `gpu_memory_utilization` x the GPU's memory once the weights, the profile's
/// activation peak and the memory outside PyTorch (CUDA context, cuBLAS workspace, NCCL) are taken
/// (vllm/v1/worker/gpu_worker.py determine_available_memory), in whole blocks (vllm/v1/core/kv_cache_utils.py).
/// kvsim cannot profile, so the activation peak is estimated from the model's shapes (see VllmPool).

#include <cstdint>
#include <string>

#include "engine/cost_model.hpp"

namespace kvsim {

/// @brief The settings the sizing depends on.
struct VllmPoolConfig {
  std::int64_t block_tokens = 16;
  std::int64_t max_num_batched_tokens = 8192;  ///< the profile run's dummy forward step
  std::int64_t max_num_seqs = 256;             ///< the profile run's dummy sampler batch
  double gpu_memory_utilization = 0.9;
  std::int64_t num_gpu_blocks_override = 0;  ///< > 0: the pool has this many blocks, whatever the memory
};

/// @brief The sizing and its breakdown, per GPU (tensor-parallel ranks hold 1/tp of the weights and the KV).
struct VllmPool {
  double total_bytes = 0;      ///< the GPU's memory
  double requested_bytes = 0;  ///< total x gpu_memory_utilization
  double weight_bytes = 0;
  double forward_peak_bytes = 0;  ///< dummy forward of max_num_batched_tokens: the MLP's live tensors
  double sampler_peak_bytes = 0;  ///< dummy sampler over max_num_seqs: fp32 logits and the sampler's copies
  double activation_peak_bytes = 0;
  double non_torch_bytes = 0;
  double kv_bytes = 0;  ///< left for KV (may be negative: nothing left)
  double block_bytes = 0;
  std::int64_t blocks = 0;  ///< whole blocks of the KV bytes, or the override
  bool overridden = false;
  /// @brief "requested 22.73 GB (0.9 x 25.25 GB) - weights 16.06 GB - activation peak ... = ... / 2 MiB = N blocks".
  std::string arithmetic() const;
};

/// @brief Memory outside PyTorch's allocator at tensor parallelism 1: CUDA context growth after the baseline
/// snapshot, the cuBLAS workspace and the caching allocator's slack. vLLM logs it at start-up
/// ("non_torch_memory"); DEBUG-level profiles of vLLM on H100 report 0.13 GiB for single-GPU runs, and 0.55 GiB
/// once NCCL's buffers join at tensor parallelism 2.
inline constexpr double kVllmNonTorchBytes = 0.13 * 1073741824.0;
/// @brief The same with NCCL (tensor parallelism > 1).
inline constexpr double kVllmNonTorchNcclBytes = 0.55 * 1073741824.0;
/// @brief fp32 vocabulary-wide tensors the sampler holds at once: the logits, the probabilities after softmax and
/// the exponential noise of random sampling (vllm/v1/sample/sampler.py, ops/topk_topp_sampler.py).
inline constexpr int kVllmSamplerCopies = 3;

/// @brief Sizes vLLM's KV pool for `cost`'s model on one GPU of its deployment.
VllmPool vllm_pool(const CostModel& cost, const VllmPoolConfig& config);

}  // namespace kvsim
