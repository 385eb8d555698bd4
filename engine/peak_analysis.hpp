#pragma once
/// @file peak_analysis.hpp
/// @brief The paper's four metrics for one user at theoretical peak (Sections 2.1-2.2), from the cost model.

#include <string>
#include <vector>

#include "engine/cost_model.hpp"

namespace kvsim {

/// @brief One row of `kvsim analyze`: a model on a deployment at one context length.
struct PeakReport {
  std::string model;
  std::string model_variant;     ///< the model's variant note (ModelSpec::variant), may be empty
  double model_max_context = 0;  ///< the model's context in tokens; 0 = unknown
  std::string gpu;
  int tensor_parallel = 1;
  std::string host_link;
  double context_tokens = 0;
  double answer_tokens = 0;
  double kv_bytes_per_token = 0;
  double kv_bytes = 0;          ///< one session's KV at `context_tokens` (Eq. 1), as kept after prefill
  double kv_prefill_bytes = 0;  ///< the same as written by the prefill step (differs for after-prefill pruning)
  double weight_bytes = 0;  ///< whole model
  double hbm_bytes = 0;     ///< whole replica
  double critical_intensity = 0;
  std::string compute_dtype;    ///< the dtype the tensor cores compute in (model.compute_dtype's choice)
  double peak_flops = 0;        ///< the GPU's dense peak in that dtype, per GPU, before compute efficiency
  std::string attention_flops;  ///< "full" (the paper's Eq. 7) or "causal"
  double prefill_flops = 0;     ///< Eq. 7 (full) or its causal count
  double prefill_s = 0;         ///< Eq. 8
  Bound prefill_bound = Bound::kCompute;
  double decode_s = 0;  ///< Eq. 13: `answer_tokens` steps, each reading weights and the growing KV
  Bound decode_bound = Bound::kMemory;
  double decode_tokens_per_s = 0;
  bool weights_fit = true;  ///< false when the weights alone exceed the replica's HBM
  double concurrency = 0;   ///< Eq. 14: (HBM - weights - reserve) / KV, as a real number; 0 if nothing fits
  long concurrency_sessions = 0;  ///< whole sessions that fit
  double host_link_bandwidth = 0; ///< bytes/s used for KV moves
  double context_switch_s = 0;    ///< Eq. 15: (KV out + KV in) / host-link bandwidth
};

/// @brief Computes the four metrics for one user with `context_tokens` of context and an answer of
/// `answer_tokens`, each at theoretical peak scaled by the deployment's efficiencies.
PeakReport analyze_peak(const CostModel& cost, double context_tokens, double answer_tokens);

}  // namespace kvsim
