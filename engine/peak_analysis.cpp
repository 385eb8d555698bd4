#include "engine/peak_analysis.hpp"

#include <cmath>

namespace kvsim {

PeakReport analyze_peak(const CostModel& cost, double context_tokens, double answer_tokens) {
  const auto& d = cost.deployment();
  PeakReport r;
  r.model = cost.model().name;
  r.model_variant = cost.model().variant;
  r.model_max_context = cost.model().max_context;
  r.gpu = d.gpu.name;
  r.tensor_parallel = d.tensor_parallel;
  r.host_link = d.host_link.name;
  r.context_tokens = context_tokens;
  r.answer_tokens = answer_tokens;
  r.kv_bytes_per_token = cost.kv_bytes_per_token();
  r.kv_bytes = cost.session_kv_bytes(context_tokens, true);
  r.kv_prefill_bytes = cost.session_kv_bytes(context_tokens, false);
  r.weight_bytes = cost.weight_bytes();
  r.hbm_bytes = d.hbm_total();
  r.critical_intensity = cost.critical_intensity();
  r.compute_dtype = dtype_name(d.compute_dtype);
  r.peak_flops = d.peak_flops();
  r.attention_flops = attention_flops_name(cost.attention());

  const StepCost prefill = cost.prefill(context_tokens, 0);
  r.prefill_flops = prefill.flops_per_gpu * d.tensor_parallel;
  r.prefill_s = prefill.seconds;
  r.prefill_bound = prefill.bound;

  r.decode_s = cost.decode_seconds(answer_tokens, context_tokens);
  const SeqWork first{1.0, context_tokens, true};
  r.decode_bound = cost.step(std::span<const SeqWork>(&first, 1)).bound;
  r.decode_tokens_per_s = r.decode_s > 0 ? answer_tokens / r.decode_s : 0;

  r.weights_fit = cost.kv_capacity_bytes() > 0;
  r.concurrency = r.kv_bytes > 0 && r.weights_fit ? cost.kv_capacity_bytes() / r.kv_bytes : 0;
  r.concurrency_sessions = r.concurrency > 0 ? static_cast<long>(std::floor(r.concurrency)) : 0;

  r.host_link_bandwidth = d.kv_transfer_bandwidth();
  r.context_switch_s = 2.0 * r.kv_bytes / r.host_link_bandwidth;
  return r;
}

}  // namespace kvsim
