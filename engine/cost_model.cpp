#include "engine/cost_model.hpp"

#include <algorithm>
#include <cmath>

namespace kvsim {
namespace {
// Activations exchanged by tensor-parallel all-reduces are 16-bit.
constexpr double kActivationBytes = 2.0;
// Megatron-LM tensor parallelism: one all-reduce after attention and one after the MLP, per layer.
constexpr double kAllReducesPerLayer = 2.0;
// bf16 draft weights.
constexpr double kDraftBytesPerParam = 2.0;

// The unit the KV ledger counts in, in bytes per ledger token: the kept KV per token of the layers whose KV grows
// with the context, plus the windowed layers' while the context is inside their window. Charges are converted to
// this unit (ledger_tokens), so windows, constant linear state and a draft's cache cost what they hold.
double ledger_unit_bytes(const ModelSpec& m) {
  if (is_identity(m.compression)) return kv_bytes_per_token(m);
  const double growing = session_kv_bytes(m, 1.0, true) - session_kv_bytes(m, 0.0, true);
  return growing > 0 ? growing : session_kv_bytes(m, 1.0, true);
}

// Weights resident in HBM: the target's (quantized by weight_bits; skipped layers stay resident) plus a draft's.
double resident_weight_bytes(const ModelSpec& m) {
  const double target = weight_bytes(m) * weight_element_bytes(m) / dtype_bytes(m.weights_dtype);
  const double draft = m.compression.draft_tokens > 0 ? m.compression.draft_params * kDraftBytesPerParam : 0.0;
  return target + draft;
}
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

std::string attention_flops_name(AttentionFlops a) {
  return a == AttentionFlops::kCausal ? "causal" : "full";
}

std::optional<AttentionFlops> parse_attention_flops(const std::string& name) {
  if (name == "full") return AttentionFlops::kFull;
  if (name == "causal") return AttentionFlops::kCausal;
  return std::nullopt;
}

CostModel::CostModel(ModelSpec model, Deployment deployment, AttentionFlops attention)
    : model_(std::move(model)),
      deployment_(std::move(deployment)),
      attention_(attention),
      kv_per_token_(ledger_unit_bytes(model_)),
      identity_(is_identity(model_.compression)),
      weights_(resident_weight_bytes(model_)) {}

double CostModel::seq_flops(const SeqWork& s) const {
  const SeqTerms t = seq_terms(model_, s, attention_ == AttentionFlops::kCausal);
  return t.dense_flops + t.attention_flops;
}

StepCost CostModel::step(std::span<const SeqWork> batch) const {
  const bool speculative = model_.compression.draft_tokens > 0 && !batch.empty() &&
                           std::all_of(batch.begin(), batch.end(), [](const SeqWork& s) { return s.decode; });
  return speculative ? speculative_step(batch) : plain_step(batch, 0);
}

StepCost CostModel::plain_step(std::span<const SeqWork> batch, double extra_tokens) const {
  const bool causal = attention_ == AttentionFlops::kCausal;
  double flops = 0, tokens = 0, kv = 0;
  for (SeqWork s : batch) {
    s.new_tokens += extra_tokens;
    const SeqTerms t = seq_terms(model_, s, causal);
    flops += t.dense_flops + t.attention_flops;
    tokens += s.new_tokens;
    kv += t.kv_bytes;
  }
  const double n = deployment_.tensor_parallel;
  const double hbm = weight_bytes_read(model_, tokens) * weight_read_factor(model_) + kv;
  double nvlink = 0;
  if (n > 1) {
    const double payload = tokens * model_.hidden_size * kActivationBytes;
    nvlink = kAllReducesPerLayer * model_.layers * payload * 2.0 * (n - 1) / n;  // ring all-reduce, per GPU
  }
  return time(flops / n, hbm / n, nvlink);
}

StepCost CostModel::speculative_step(std::span<const SeqWork> batch) const {
  // The draft proposes k tokens one step at a time; the target verifies them in one step of k + 1 tokens per
  // sequence. The scheduler sees one token per step, so the step is charged its share per generated token.
  const auto& c = model_.compression;
  const double n = deployment_.tensor_parallel;
  double flops = 0, kv = 0;
  for (const auto& s : batch) {
    const SeqTerms t = draft_terms(model_, s.cached_tokens);
    flops += t.dense_flops + t.attention_flops;
    kv += t.kv_bytes;
  }
  const StepCost draft = time(flops / n, (draft_weight_read_bytes(model_) + kv) / n, 0);
  const StepCost verify = plain_step(batch, c.draft_tokens);
  const double per_token = 1.0 / tokens_per_target_step(c);
  const double k = c.draft_tokens;
  StepCost r = verify;
  r += draft.scaled(k);
  r = r.scaled(per_token);
  // The draft's steps and the verify step run one after the other on the GPU, each bound by its own resource: the
  // GPU is busy for the sum of their durations, which is the step's length.
  r.compute_s = (verify.seconds + k * draft.seconds) * per_token;
  return r.settle();
}

double CostModel::session_kv_bytes(double tokens, bool after_prefill) const {
  return ::kvsim::session_kv_bytes(model_, tokens, after_prefill);
}

std::int64_t CostModel::ledger_tokens(std::int64_t tokens) const {
  if (identity_ || tokens <= 0) return std::max<std::int64_t>(tokens, 0);
  return to_ledger_tokens(session_kv_bytes(double(tokens), true));
}

std::int64_t CostModel::prefill_extra_tokens(std::int64_t base, std::int64_t end) const {
  if (identity_ || end <= base) return 0;
  const double written = session_kv_bytes(double(end), false) - session_kv_bytes(double(base), false);
  const double kept = session_kv_bytes(double(end), true) - session_kv_bytes(double(base), true);
  return written > kept ? to_ledger_tokens(written - kept) : 0;
}

std::int64_t CostModel::peak_ledger_tokens(std::int64_t prefill_end, std::int64_t end) const {
  prefill_end = std::min(prefill_end, end);
  return std::max(ledger_tokens(end), ledger_tokens(prefill_end) + prefill_extra_tokens(0, prefill_end));
}

// Bytes to ledger tokens, rounded up; the relative 1e-12 keeps an exact multiple from rounding up by float noise.
std::int64_t CostModel::to_ledger_tokens(double bytes) const {
  return static_cast<std::int64_t>(std::ceil(bytes / kv_per_token_ * (1.0 - 1e-12)));
}

StepCost CostModel::time(double flops_per_gpu, double hbm_bytes_per_gpu, double nvlink_bytes_per_gpu) const {
  const auto& d = deployment_;
  StepCost c{flops_per_gpu, hbm_bytes_per_gpu, nvlink_bytes_per_gpu};
  c.compute_s = flops_per_gpu / d.effective_flops();
  c.hbm_s = hbm_bytes_per_gpu / d.effective_hbm_bandwidth();
  c.nvlink_s = nvlink_bytes_per_gpu > 0 ? nvlink_bytes_per_gpu / d.gpu.nvlink.bandwidth : 0.0;
  return c.settle();
}

StepCost& StepCost::settle() {
  seconds = compute_s;
  bound = Bound::kCompute;
  if (hbm_s > seconds) {
    seconds = hbm_s;
    bound = Bound::kMemory;
  }
  if (nvlink_s > seconds) {
    seconds = nvlink_s;
    bound = Bound::kInterconnect;
  }
  return *this;
}

StepCost& StepCost::operator+=(const StepCost& o) {
  flops_per_gpu += o.flops_per_gpu;
  hbm_bytes_per_gpu += o.hbm_bytes_per_gpu;
  nvlink_bytes_per_gpu += o.nvlink_bytes_per_gpu;
  compute_s += o.compute_s;
  hbm_s += o.hbm_s;
  nvlink_s += o.nvlink_s;
  return settle();
}

StepCost StepCost::scaled(double f) const {
  StepCost c{flops_per_gpu * f, hbm_bytes_per_gpu * f, nvlink_bytes_per_gpu * f, compute_s * f,
             hbm_s * f,         nvlink_s * f};
  return c.settle();
}

double StepCost::bound_seconds() const {
  switch (bound) {
    case Bound::kMemory:
      return hbm_s;
    case Bound::kInterconnect:
      return nvlink_s;
    default:
      return compute_s;
  }
}

StepCost CostModel::prefill(double new_tokens, double cached_tokens) const {
  const SeqWork s{new_tokens, cached_tokens};
  return step(std::span<const SeqWork>(&s, 1));
}

double CostModel::decode_seconds(double answer_tokens, double context_tokens) const {
  double total = 0;
  for (double i = 0; i < answer_tokens; i += 1.0) {
    const SeqWork s{1.0, context_tokens + i, true};
    total += step(std::span<const SeqWork>(&s, 1)).seconds;
  }
  return total;
}

double CostModel::transfer_seconds(double bytes) const {
  return bytes / deployment_.kv_transfer_bandwidth();
}

double CostModel::critical_intensity() const {
  return deployment_.effective_flops() / deployment_.effective_hbm_bandwidth();
}

double CostModel::kv_capacity_bytes() const {
  return deployment_.hbm_total() - weights_ - deployment_.activation_reserve * deployment_.tensor_parallel;
}

}  // namespace kvsim
