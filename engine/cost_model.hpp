#pragma once
/// @file cost_model.hpp
/// @brief The roofline cost of forward steps and KV transfers for one replica (the paper's Eq. 4-16).
///
/// A forward step processes, for each sequence in the batch, `new_tokens` tokens that attend to `cached_tokens`
/// tokens already in the KV cache plus themselves. Its FLOPs generalise the paper's Eq. 7 (Kaplan et al.): a whole
/// prefill of n tokens on b cached ones costs, with `full` attention FLOPs,
///   n x (2 x P_active + 2 x layers x width x (b + n))
/// which is exactly Eq. 7 for a first prefill (b = 0); `causal` counts (b + (n + 1) / 2) keys per new token instead,
/// what causal attention kernels compute. A prefill split into chunks costs exactly the same FLOPs in both modes
/// (kv_compression.hpp, seq_terms). Its HBM bytes generalise Eq. 12: the weights it reads
/// once per step plus the KV of every sequence (cached + new tokens). With tensor parallelism over N GPUs each GPU
/// does 1/N of both and sends two all-reduces per layer (Megatron-LM) over NVLink.

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "engine/hardware.hpp"
#include "engine/model.hpp"

namespace kvsim {

/// @brief Which resource sets a duration.
enum class Bound { kCompute, kMemory, kInterconnect, kCapacity, kHostLink };
/// @brief "compute", "memory", "nvlink", "capacity", "host-link".
std::string bound_name(Bound b);

/// @brief How the attention term counts context: the paper's Eq. 7 lets every prompt token attend to the whole
/// prompt (full); causal counts each new token against the tokens up to it only, as causal attention kernels
/// (vLLM's) compute. Decode steps are the same in both: the new token sees the cache and itself.
enum class AttentionFlops { kFull, kCausal };
/// @brief "full" or "causal".
std::string attention_flops_name(AttentionFlops a);
/// @brief Parses "full" or "causal"; nullopt otherwise.
std::optional<AttentionFlops> parse_attention_flops(const std::string& name);

/// @brief One forward step (or a fast-forwarded stretch of them) per GPU of the replica: its work, which metrics
/// count (FLOPs, bytes), and its demand on each resource in seconds at that resource's effective speed, which the
/// executor runs (engine/cost/step_model.hpp). Alone on the replica it lasts the largest demand.
struct StepCost {
  double flops_per_gpu = 0;
  double hbm_bytes_per_gpu = 0;
  double nvlink_bytes_per_gpu = 0;
  double compute_s = 0;  ///< GPU compute
  double hbm_s = 0;      ///< HBM reads and writes
  double nvlink_s = 0;   ///< the tensor-parallel all-reduce between the replica's GPUs, per direction
  double seconds = 0;    ///< max of the three: the duration alone
  Bound bound = Bound::kCompute;

  /// @brief Sets `seconds` and `bound` from the three demands.
  StepCost& settle();
  /// @brief Adds work and demand (two steps run back to back).
  StepCost& operator+=(const StepCost& o);
  /// @brief Work and demand times `f`.
  StepCost scaled(double f) const;
  /// @brief The demand of the resource that bounds it.
  double bound_seconds() const;
};

/// @brief Roofline costs for one model on one deployment.
class CostModel {
 public:
  /// @brief `attention` defaults to causal, what serving kernels compute; the paper's Eq. 7 is kFull.
  CostModel(ModelSpec model, Deployment deployment, AttentionFlops attention = AttentionFlops::kCausal);

  const ModelSpec& model() const { return model_; }
  const Deployment& deployment() const { return deployment_; }
  /// @brief How prefill attention FLOPs are counted.
  AttentionFlops attention() const { return attention_; }

  /// @brief Bytes of one ledger token, the unit HBM blocks are counted in: the model's KV per token, or with
  /// compression the kept KV that one more token of context adds while the context is inside every window.
  double kv_bytes_per_token() const { return kv_per_token_; }
  /// @brief Ledger tokens charged for a session holding `tokens` of context once prefill is done: `tokens` itself
  /// without compression; with it, the kept KV (windows capped, linear state, a draft's cache) in ledger units.
  std::int64_t ledger_tokens(std::int64_t tokens) const;
  /// @brief Ledger tokens a prefill holds on top of ledger_tokens() until it ends: the KV of the context grown from
  /// `base` to `end` as written, minus as kept, for methods that prune after prefill (heads, tokens); else 0.
  std::int64_t prefill_extra_tokens(std::int64_t base, std::int64_t end) const;
  /// @brief The most ledger tokens a round holds whose prefill, recomputing everything, ends at `prefill_end` tokens
  /// of context and whose answer ends at `end`: the larger of the kept KV at `end` and, at the prefill's end, the
  /// kept KV plus prefill_extra_tokens(0, prefill_end).
  std::int64_t peak_ledger_tokens(std::int64_t prefill_end, std::int64_t end) const;
  /// @brief ledger_tokens(tokens) in bytes: what a session's KV occupies in HBM and moves over the host link.
  double ledger_bytes(std::int64_t tokens) const { return double(ledger_tokens(tokens)) * kv_per_token_; }
  /// @brief One session's KV at `tokens` of context, kept (after prefill) or as written during prefill.
  double session_kv_bytes(double tokens, bool after_prefill = true) const;
  /// @brief Weight bytes resident in HBM: the whole model, quantized if weight_bits says so, plus a draft model.
  double weight_bytes() const { return weights_; }
  /// @brief FLOPs of one sequence's share of a step, summed over the replica's GPUs.
  double seq_flops(const SeqWork& s) const;
  /// @brief Work and roofline time of one forward step over `batch`.
  StepCost step(std::span<const SeqWork> batch) const;
  /// @brief Roofline time of a step whose per-GPU work is given.
  StepCost time(double flops_per_gpu, double hbm_bytes_per_gpu, double nvlink_bytes_per_gpu) const;
  /// @brief One prefill of `new_tokens` on top of `cached_tokens`, alone on the replica.
  StepCost prefill(double new_tokens, double cached_tokens) const;
  /// @brief Seconds to generate `answer_tokens` one step at a time for one sequence whose context is
  /// `context_tokens` when decoding starts; each step reads all weights and the KV so far.
  double decode_seconds(double answer_tokens, double context_tokens) const;
  /// @brief Seconds to move `bytes` of KV one way over the host link, alone.
  double transfer_seconds(double bytes) const;
  /// @brief FLOP per byte at which a step turns from memory- to compute-bound (Eq. 5).
  double critical_intensity() const;
  /// @brief HBM bytes of the replica available for KV: total HBM - weights - activation reserve.
  double kv_capacity_bytes() const;

 private:
  StepCost plain_step(std::span<const SeqWork> batch, double extra_tokens) const;
  std::int64_t to_ledger_tokens(double bytes) const;
  StepCost speculative_step(std::span<const SeqWork> batch) const;

  ModelSpec model_;
  Deployment deployment_;
  AttentionFlops attention_;
  double kv_per_token_;
  bool identity_;
  double weights_;
};

}  // namespace kvsim
