#include "engine/kv/vllm_pool.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "engine/units.hpp"

namespace kvsim {

// The profile run's peak, per GPU. The dummy forward's largest live set is in a decoder layer's MLP: the layer's
// input and residual (2 x hidden), the gate/up projection's output (2 x intermediate) and the activation's output
// (intermediate), in the activation dtype (bf16, 2 B), the MLP split over the tensor-parallel ranks. The sampler
// then holds kVllmSamplerCopies fp32 tensors of max_num_seqs x vocab.
VllmPool vllm_pool(const CostModel& cost, const VllmPoolConfig& c) {
  const ModelSpec& m = cost.model();
  const Deployment& d = cost.deployment();
  const double tp = d.tensor_parallel;
  VllmPool p;
  p.total_bytes = d.gpu.hbm_capacity;
  p.requested_bytes = c.gpu_memory_utilization * p.total_bytes;
  p.weight_bytes = cost.weight_bytes() / tp;
  const double width = 2.0 * m.hidden_size + 3.0 * m.intermediate_size / tp;
  p.forward_peak_bytes = double(c.max_num_batched_tokens) * width * 2.0;
  p.sampler_peak_bytes = kVllmSamplerCopies * double(c.max_num_seqs) * m.vocab_size * 4.0;
  p.activation_peak_bytes = p.forward_peak_bytes + p.sampler_peak_bytes;
  p.non_torch_bytes = d.tensor_parallel > 1 ? kVllmNonTorchNcclBytes : kVllmNonTorchBytes;
  p.kv_bytes = p.requested_bytes - p.weight_bytes - p.activation_peak_bytes - p.non_torch_bytes;
  p.block_bytes = double(c.block_tokens) * cost.kv_bytes_per_token() / tp;
  p.overridden = c.num_gpu_blocks_override > 0;
  p.blocks = p.overridden
                 ? c.num_gpu_blocks_override
                 : (p.kv_bytes > 0 && p.block_bytes > 0 ? std::int64_t(std::floor(p.kv_bytes / p.block_bytes)) : 0);
  return p;
}

std::string VllmPool::arithmetic() const {
  if (overridden) return fmt::format("num_gpu_blocks = {} blocks of {} (override)", blocks, format_bytes(block_bytes));
  return fmt::format(
      "requested {} ({:.3g} x {}) - weights {} - activation peak {} (forward {} + sampler {}) - non-torch {} = KV "
      "{} / {} per block = {} blocks",
      format_bytes(requested_bytes), requested_bytes / total_bytes, format_bytes(total_bytes),
      format_bytes(weight_bytes), format_bytes(activation_peak_bytes), format_bytes(forward_peak_bytes),
      format_bytes(sampler_peak_bytes), format_bytes(non_torch_bytes), format_bytes(kv_bytes),
      format_bytes(block_bytes), blocks);
}

}  // namespace kvsim
