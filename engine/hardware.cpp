#include "engine/hardware.hpp"

#include <fmt/format.h>

namespace kvsim {

const std::vector<GpuPeakField>& gpu_peak_fields() {
  static const std::vector<GpuPeakField> all{{DType::kBf16, "flops_bf16", &GpuSpec::flops_bf16},
                                             {DType::kFp16, "flops_fp16", &GpuSpec::flops_fp16},
                                             {DType::kFp8, "flops_fp8", &GpuSpec::flops_fp8},
                                             {DType::kInt8, "flops_int8", &GpuSpec::flops_int8},
                                             {DType::kFp4, "flops_fp4", &GpuSpec::flops_fp4}};
  return all;
}

double GpuSpec::peak_flops(DType t) const {
  for (const auto& f : gpu_peak_fields()) {
    if (f.dtype == t) return this->*f.field;
  }
  return 0;
}

std::string compute_dtype_names(const GpuSpec& gpu) {
  std::string out;
  for (const auto& f : gpu_peak_fields()) {
    if (gpu.*f.field > 0) out += (out.empty() ? "" : ", ") + dtype_name(f.dtype);
  }
  return out;
}

std::optional<DType> choose_compute_dtype(const std::string& setting, DType weights, const GpuSpec& gpu) {
  if (setting == "auto") {
    const bool low_precision = weights == DType::kFp8 || weights == DType::kFp4 || weights == DType::kFp16;
    return low_precision && gpu.peak_flops(weights) > 0 ? weights : DType::kBf16;
  }
  const auto t = parse_dtype(setting);
  if (!t || !(gpu.peak_flops(*t) > 0)) return std::nullopt;
  return *t;
}

double Deployment::kv_transfer_bandwidth() const {
  const double one = host_link_bandwidth();
  return host_link_shared ? one : one * tensor_parallel;
}

std::string validate_deployment(const Deployment& d) {
  if (!(d.gpu.flops_bf16 > 0)) return fmt::format("GPU {}: flops_bf16 must be > 0", d.gpu.name);
  if (!(d.peak_flops() > 0)) {
    return fmt::format("GPU {} lists no {} peak (it has {})", d.gpu.name, dtype_name(d.compute_dtype),
                       compute_dtype_names(d.gpu));
  }
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
