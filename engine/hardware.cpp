#include "engine/hardware.hpp"

#include <fmt/format.h>

namespace kvsim {

double Deployment::kv_transfer_bandwidth() const {
  const double one = host_link.bandwidth * host_link_efficiency;
  return host_link_shared ? one : one * tensor_parallel;
}

std::string validate_deployment(const Deployment& d) {
  if (!(d.gpu.flops_bf16 > 0)) return fmt::format("GPU {}: flops_bf16 must be > 0", d.gpu.name);
  if (!(d.gpu.hbm_capacity > 0)) return fmt::format("GPU {}: hbm_capacity must be > 0", d.gpu.name);
  if (!(d.gpu.hbm_bandwidth > 0)) return fmt::format("GPU {}: hbm_bandwidth must be > 0", d.gpu.name);
  if (d.tensor_parallel < 1) return fmt::format("tensor_parallel must be >= 1 (got {})", d.tensor_parallel);
  if (d.tensor_parallel > 1 && !(d.gpu.nvlink.bandwidth > 0)) {
    return fmt::format("tensor_parallel={} needs a GPU-to-GPU link, but GPU {} has none", d.tensor_parallel,
                       d.gpu.name);
  }
  if (!(d.host_link.bandwidth > 0)) return fmt::format("host link {}: bandwidth must be > 0", d.host_link.name);
  for (double e : {d.compute_efficiency, d.memory_efficiency, d.host_link_efficiency}) {
    if (!(e > 0 && e <= 1)) return fmt::format("efficiencies must be in (0, 1] (got {})", e);
  }
  return {};
}

}  // namespace kvsim
