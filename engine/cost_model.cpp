#include "engine/cost_model.hpp"

#include <algorithm>

namespace kvsim {
namespace {
// Activations exchanged by tensor-parallel all-reduces are 16-bit.
constexpr double kActivationBytes = 2.0;
// Megatron-LM tensor parallelism: one all-reduce after attention and one after the MLP, per layer.
constexpr double kAllReducesPerLayer = 2.0;
}  // namespace

std::string bound_name(Bound b) {
  switch (b) {
    case Bound::kCompute:
      return "compute";
    case Bound::kMemory:
      return "memory";
    case Bound::kInterconnect:
      return "nvlink";
    case Bound::kCapacity:
      return "capacity";
    case Bound::kHostLink:
      return "host-link";
  }
  return "?";
}

CostModel::CostModel(ModelSpec model, Deployment deployment, AttentionFlops attention)
    : model_(std::move(model)),
      deployment_(std::move(deployment)),
      attention_(attention),
      kv_per_token_(::kvsim::kv_bytes_per_token(model_)),
      weights_(::kvsim::weight_bytes(model_)) {}

double CostModel::seq_flops(const SeqWork& s) const {
  const double dense = 2.0 * model_.params_active * s.new_tokens;
  const double context = attention_ == AttentionFlops::kFull ? s.cached_tokens + s.new_tokens
                                                             : s.cached_tokens + (s.new_tokens + 1.0) / 2.0;
  return dense + 2.0 * model_.layers * attention_width(model_) * s.new_tokens * context;
}

StepCost CostModel::step(std::span<const SeqWork> batch) const {
  double flops = 0, tokens = 0, kv_tokens = 0;
  for (const auto& s : batch) {
    flops += seq_flops(s);
    tokens += s.new_tokens;
    kv_tokens += s.cached_tokens + s.new_tokens;
  }
  const double n = deployment_.tensor_parallel;
  const double hbm = weight_bytes_read(model_, tokens) + kv_per_token_ * kv_tokens;
  double nvlink = 0;
  if (n > 1) {
    const double payload = tokens * model_.hidden_size * kActivationBytes;
    nvlink = kAllReducesPerLayer * model_.layers * payload * 2.0 * (n - 1) / n;  // ring all-reduce, per GPU
  }
  return time(flops / n, hbm / n, nvlink);
}

StepCost CostModel::time(double flops_per_gpu, double hbm_bytes_per_gpu, double nvlink_bytes_per_gpu) const {
  const auto& d = deployment_;
  StepCost c{flops_per_gpu, hbm_bytes_per_gpu, nvlink_bytes_per_gpu, 0, Bound::kCompute};
  const double compute_s = flops_per_gpu / (d.gpu.flops_bf16 * d.compute_efficiency);
  const double memory_s = hbm_bytes_per_gpu / (d.gpu.hbm_bandwidth * d.memory_efficiency);
  const double link_s = nvlink_bytes_per_gpu > 0 ? nvlink_bytes_per_gpu / d.gpu.nvlink.bandwidth : 0.0;
  c.seconds = compute_s;
  if (memory_s > c.seconds) {
    c.seconds = memory_s;
    c.bound = Bound::kMemory;
  }
  if (link_s > c.seconds) {
    c.seconds = link_s;
    c.bound = Bound::kInterconnect;
  }
  return c;
}

StepCost CostModel::prefill(double new_tokens, double cached_tokens) const {
  const SeqWork s{new_tokens, cached_tokens};
  return step(std::span<const SeqWork>(&s, 1));
}

double CostModel::decode_seconds(double answer_tokens, double context_tokens) const {
  double total = 0;
  for (double i = 0; i < answer_tokens; i += 1.0) {
    const SeqWork s{1.0, context_tokens + i};
    total += step(std::span<const SeqWork>(&s, 1)).seconds;
  }
  return total;
}

double CostModel::transfer_seconds(double bytes) const { return bytes / deployment_.kv_transfer_bandwidth(); }

double CostModel::critical_intensity() const {
  return (deployment_.gpu.flops_bf16 * deployment_.compute_efficiency) /
         (deployment_.gpu.hbm_bandwidth * deployment_.memory_efficiency);
}

double CostModel::kv_capacity_bytes() const {
  return deployment_.hbm_total() - weights_ - deployment_.activation_reserve * deployment_.tensor_parallel;
}

}  // namespace kvsim
