// Section 3's compression knobs as FLOP, byte and footprint terms. The model's layers split into kinds:
// full attention (KV grows with the context), sliding window (KV stops at W), linear/state-space (constant state)
// and, with YOCO, cross-decoder layers that all read one shared global KV.
#include "engine/kv_compression.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "engine/model.hpp"

namespace kvsim {
namespace {

// bf16, the element type of a draft model's weights and of the activations the quantized weights compute in.
constexpr double kBf16Bytes = 2.0;

// Layers of each kind, after CALM/LayerSkip's skipped layers.
struct LayerMix {
  double full = 0;    // full attention, own KV
  double window = 0;  // sliding window of `span` tokens
  double linear = 0;  // constant state
  double shared = 0;  // YOCO cross-decoder: read the one global KV, run only the last prompt token in prefill
  double span = 0;    // window width in tokens
};

LayerMix layer_mix(const ModelSpec& m) {
  const auto& c = m.compression;
  const double run = m.layers * (1.0 - c.layer_skip_fraction);
  LayerMix mix;
  if (c.yoco_window > 0) {
    mix.window = run / 2.0;
    mix.shared = run / 2.0;
    mix.span = c.yoco_window;
    return mix;
  }
  mix.linear = run * c.linear_layer_fraction;
  mix.window = c.window > 0 ? run * c.window_layer_fraction : 0.0;
  mix.full = run - mix.linear - mix.window;
  mix.span = c.window;
  return mix;
}

// A quantized element's share of its group's fp16 scale and zero point.
constexpr double kGroupMetadataBytes = 4.0;

double kv_element_bytes(const ModelSpec& m) {
  const auto& c = m.compression;
  if (c.kv_bits == 0) return dtype_bytes(m.kv_dtype);
  return c.kv_bits / 8.0 + (c.kv_group_size > 0 ? kGroupMetadataBytes / c.kv_group_size : 0.0);
}

// One layer's K and V (or MLA latent) per token after the hidden-dimension knobs only.
double layer_kv_bytes_hidden(const ModelSpec& m) {
  const double width =
      m.kv_lora_rank > 0 ? double(m.kv_lora_rank + m.qk_rope_head_dim) : 2.0 * m.num_kv_heads * m.head_dim;
  return width * kv_element_bytes(m) * m.compression.low_rank_ratio;
}

// Sum over the new tokens of the keys each sees in a window of `w`. Causal: min(position, w), which adds up over
// chunks by itself. Otherwise (the paper's Eq. 7 convention) a whole prefill of n tokens on b cached ones sees
// n x min(b + n, w), and a chunk that follows `done` tokens of its prefill is charged that sum's growth.
double window_keys(double cached, double fresh, double w, bool causal, double done) {
  if (!causal) return (done + fresh) * std::min(cached + fresh, w) - done * std::min(cached, w);
  const double grow = std::clamp(w - cached, 0.0, fresh);  // new tokens whose position is still <= w
  return grow * cached + grow * (grow + 1.0) / 2.0 + (fresh - grow) * w;
}

bool in_unit(double v, bool zero_ok) {
  return (zero_ok ? v >= 0 : v > 0) && v <= 1;
}

}  // namespace

const std::vector<KnobField>& knob_fields() {
  using C = KvCompression;
  static const std::vector<KnobField> all{
      {"layer.skip_fraction", &C::layer_skip_fraction},
      {"layer.yoco_window", &C::yoco_window},
      {"layer.kv_fraction", &C::kv_layer_fraction},
      {"head.keep_after_prefill", &C::head_keep_after_prefill},
      {"token.keep_after_prefill", &C::token_keep_after_prefill},
      {"token.merge_ratio", &C::token_merge_ratio},
      {"token.decode_read_fraction", &C::decode_read_fraction},
      {"hidden.kv_bits", nullptr, &C::kv_bits},
      {"hidden.kv_group_size", nullptr, &C::kv_group_size},
      {"hidden.dequant_flops_per_element", &C::dequant_flops_per_element},
      {"hidden.low_rank_ratio", &C::low_rank_ratio},
      {"attention.window", &C::window},
      {"attention.window_layer_fraction", &C::window_layer_fraction},
      {"attention.linear_layer_fraction", &C::linear_layer_fraction},
      {"speculative.draft_tokens", nullptr, &C::draft_tokens},
      {"speculative.acceptance", &C::acceptance},
      {"speculative.draft_params", &C::draft_params},
      {"speculative.draft_kv_tokens", &C::draft_kv_tokens},
      {"weights.bits", nullptr, &C::weight_bits},
      {"conditional.heavy_token_fraction", &C::heavy_token_fraction},
      {"conditional.light_branch_cost", &C::light_branch_cost},
  };
  return all;
}

double knob_value(const KvCompression& c, const KnobField& f) {
  return f.real ? c.*f.real : double(c.*f.integer);
}

bool is_identity(const KvCompression& c) {
  const KvCompression none;
  return c.layer_skip_fraction == none.layer_skip_fraction && c.yoco_window == 0 && c.kv_layer_fraction == 1 &&
         c.head_keep_after_prefill == 1 && c.token_keep_after_prefill == 1 && c.token_merge_ratio == 1 &&
         c.decode_read_fraction == 1 && c.kv_bits == 0 && c.kv_group_size == 0 && c.dequant_flops_per_element == 0 &&
         c.low_rank_ratio == 1 && c.window == 0 && c.linear_layer_fraction == 0 && c.draft_tokens == 0 &&
         c.weight_bits == 0 && c.heavy_token_fraction == 1 && c.light_branch_cost == 0;
}

std::string validate_compression(const KvCompression& c) {
  auto bits_ok = [](int b) { return b == 0 || b == 16 || b == 8 || b == 4 || b == 2; };
  if (!(c.layer_skip_fraction >= 0 && c.layer_skip_fraction < 1)) return "layer.skip_fraction: expected [0, 1)";
  if (!in_unit(c.kv_layer_fraction, false)) return "layer.kv_fraction: expected (0, 1]";
  if (!in_unit(c.head_keep_after_prefill, false)) return "head.keep_after_prefill: expected (0, 1]";
  if (!in_unit(c.token_keep_after_prefill, false)) return "token.keep_after_prefill: expected (0, 1]";
  if (!in_unit(c.decode_read_fraction, false)) return "token.decode_read_fraction: expected (0, 1]";
  if (!(c.token_merge_ratio >= 1)) return "token.merge_ratio: expected >= 1";
  if (!bits_ok(c.kv_bits)) return "hidden.kv_bits: expected 16, 8, 4 or 2";
  if (c.kv_group_size < 0) return "hidden.kv_group_size: expected 0 (no groups) or a positive element count";
  if (c.kv_group_size > 0 && c.kv_bits == 0) {
    return "hidden.kv_group_size: groups need quantized KV; set hidden.kv_bits (8, 4 or 2) too, or remove it";
  }
  if (!bits_ok(c.weight_bits)) return "weights.bits: expected 16, 8, 4 or 2";
  if (!in_unit(c.low_rank_ratio, false)) return "hidden.low_rank_ratio: expected (0, 1]";
  if (!in_unit(c.heavy_token_fraction, false)) return "conditional.heavy_token_fraction: expected (0, 1]";
  if (!in_unit(c.light_branch_cost, true)) return "conditional.light_branch_cost: expected [0, 1]";
  if (c.yoco_window > 0 && (c.window > 0 || c.linear_layer_fraction > 0)) {
    return "layer.yoco_window: YOCO fixes its own layer kinds; it cannot be combined with attention.window or "
           "attention.linear_layer_fraction";
  }
  const double windowed = c.window > 0 ? c.window_layer_fraction : 0.0;
  if (c.linear_layer_fraction + windowed > 1) {
    return "attention.linear_layer_fraction: linear plus windowed layers exceed all layers";
  }
  if (c.draft_tokens > 0 && !(c.acceptance >= 0 && c.acceptance < 1)) {
    return "speculative.acceptance: expected [0, 1) when speculative.draft_tokens > 0";
  }
  return {};
}

double layer_kv_bytes_written(const ModelSpec& m) {
  const auto& c = m.compression;
  return layer_kv_bytes_hidden(m) * c.heavy_token_fraction / c.token_merge_ratio;
}

double layer_kv_bytes_kept(const ModelSpec& m) {
  const auto& c = m.compression;
  return layer_kv_bytes_written(m) * c.head_keep_after_prefill * c.token_keep_after_prefill;
}

double linear_state_bytes(const ModelSpec& m) {
  return double(m.num_attention_heads) * m.head_dim * m.head_dim * kv_element_bytes(m);
}

double growing_kv_layers(const ModelSpec& m) {
  const LayerMix mix = layer_mix(m);
  return mix.full * m.compression.kv_layer_fraction + (mix.shared > 0 ? 1.0 : 0.0);
}

double session_kv_bytes(const ModelSpec& m, double tokens, bool after_prefill) {
  const LayerMix mix = layer_mix(m);
  const double per_token = after_prefill ? layer_kv_bytes_kept(m) : layer_kv_bytes_written(m);
  const double draft = m.compression.draft_tokens > 0
                           ? std::min(tokens, m.compression.draft_kv_tokens) * m.layers * layer_kv_bytes_hidden(m)
                           : 0.0;
  return growing_kv_layers(m) * per_token * tokens +
         mix.window * layer_kv_bytes_hidden(m) * std::min(tokens, mix.span) + mix.linear * linear_state_bytes(m) +
         draft;
}

SeqTerms seq_terms(const ModelSpec& m, const SeqWork& w, bool causal) {
  const auto& c = m.compression;
  const LayerMix mix = layer_mix(m);
  const double width = attention_width(m);
  const double n = w.new_tokens, done = w.decode ? 0.0 : w.prefill_done;
  const double dense = 2.0 * m.params_active * (c.light_branch_cost + c.heavy_token_fraction);
  const double read = w.decode ? c.decode_read_fraction : 1.0;
  // Keys seen by the new tokens in a growing-KV layer, counted in full-width tokens: the cache plus the new tokens.
  // Decode sees the kept cache (heads and tokens pruned after prefill). A prefill step sees the cache as written:
  // its earlier chunks are not pruned until the prefill ends, and a step does not say which cached tokens come from
  // earlier rounds, so a follow-up question's prefill is charged the unpruned cache (an upper bound).
  const double cache_bytes = w.decode ? layer_kv_bytes_kept(m) : layer_kv_bytes_written(m);
  const double cached_keys = w.cached_tokens * read * cache_bytes / layer_kv_bytes_hidden(m);
  const double key_per_token = c.heavy_token_fraction / c.token_merge_ratio;
  // Causal: token i of n sees the cache and i new keys, (n + 1) / 2 on average. Full: every new key, plus (see
  // seq_terms in the header) the keys of this chunk counted once more for the `done` earlier queries.
  const double fresh_keys = (causal ? (n + 1.0) / 2.0 : n + done) * key_per_token;
  const double queries = n * c.heavy_token_fraction;
  // YOCO's cross-decoder runs only the last prompt token during prefill, in the last chunk; it sees the whole prompt.
  const double shared_run = w.decode ? n : (w.prefill_ends ? 1.0 : 0.0);
  const double shared_keys = cached_keys + (w.decode ? fresh_keys : n * key_per_token);
  const double shared_layers = shared_run > 0 ? mix.shared : 0.0;
  SeqTerms t;
  t.dense_flops = dense * (n * (mix.full + mix.window + mix.linear) + shared_run * mix.shared) / m.layers;
  t.attention_flops = 2.0 * width *
                          (mix.full * queries * (cached_keys + fresh_keys) +
                           mix.shared * shared_run * c.heavy_token_fraction * shared_keys +
                           mix.window * window_keys(w.cached_tokens, n, mix.span, causal, done)) +
                      4.0 * width * m.head_dim * mix.linear * n;
  // Every growing-KV layer that runs reads the cache it attends to; only the layers that store KV write the new
  // tokens'.
  t.kv_bytes = (mix.full + shared_layers) * w.cached_tokens * read * cache_bytes +
               growing_kv_layers(m) * n * layer_kv_bytes_written(m) +
               mix.window * layer_kv_bytes_hidden(m) * std::min(w.cached_tokens + n, mix.span) +
               mix.linear * linear_state_bytes(m);
  t.attention_flops += c.dequant_flops_per_element * t.kv_bytes / kv_element_bytes(m);
  return t;
}

double weight_element_bytes(const ModelSpec& m) {
  return m.compression.weight_bits > 0 ? m.compression.weight_bits / 8.0 : dtype_bytes(m.weights_dtype);
}

double weight_read_factor(const ModelSpec& m) {
  return (1.0 - m.compression.layer_skip_fraction) * weight_element_bytes(m) / dtype_bytes(m.weights_dtype);
}

SeqTerms draft_terms(const ModelSpec& m, double cached_tokens) {
  const auto& c = m.compression;
  const double kv_tokens = std::min(cached_tokens, c.draft_kv_tokens);
  SeqTerms t;
  t.dense_flops = 2.0 * (c.draft_params > 0 ? c.draft_params : m.params_active);
  t.attention_flops = 2.0 * m.layers * attention_width(m) * kv_tokens;
  t.kv_bytes = kv_tokens * m.layers * layer_kv_bytes_hidden(m);
  return t;
}

double draft_weight_read_bytes(const ModelSpec& m) {
  const auto& c = m.compression;
  return c.draft_params > 0 ? c.draft_params * kBf16Bytes : weight_bytes_read(m, 1) * weight_read_factor(m);
}

double tokens_per_target_step(const KvCompression& c) {
  if (c.draft_tokens <= 0) return 1.0;
  return (1.0 - std::pow(c.acceptance, c.draft_tokens + 1)) / (1.0 - c.acceptance);
}

}  // namespace kvsim
