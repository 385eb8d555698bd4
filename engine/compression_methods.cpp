// Table 2's rows as knob settings. The values, and where each comes from (or that it is an assumption), are
// stated in the row's preset, scenarios/compression/<slug>.yaml; a unit test keeps the two identical.
#include "engine/compression_methods.hpp"

namespace kvsim {
namespace {

// Relative change below which a metric counts as unchanged (rounding, and effects too small to matter).
constexpr double kUnchanged = 1e-3;
// DeepSeek-V2's decoupled RoPE key, cached beside the MLA latent.
constexpr int kMlaRopeDim = 64;

CompressionMethod row(std::string name, std::string slug, std::string dim, std::string improves, KvCompression k) {
  return CompressionMethod{.name = std::move(name),
                           .slug = std::move(slug),
                           .dimension = std::move(dim),
                           .improves = std::move(improves),
                           .knobs = k};
}

std::vector<CompressionMethod> table2() {
  std::vector<CompressionMethod> rows{
      row("CALM", "calm", "layer", "CPDS", {.layer_skip_fraction = 0.5}),
      row("CoLT5", "colt5", "layer", "CPDS", {.heavy_token_fraction = 0.125, .light_branch_cost = 0.25}),
      row("LayerSkip", "layerskip", "layer", "CPDS", {.layer_skip_fraction = 0.25}),
      row("YOCO", "yoco", "layer", "CPDS", {.yoco_window = 1024}),
      row("Voita et al.", "voita", "head", "CDS", {.head_keep_after_prefill = 10.0 / 48}),
      row("GQA", "gqa", "head", "CDS", {}),
      row("Retrieval Head", "retrieval-head", "head", "CDS", {.head_keep_after_prefill = 0.05}),
      row("MLA", "mla", "head", "CPDS", {}),
      row("H2O", "h2o", "token", "CDS", {.token_keep_after_prefill = 0.2}),
      row("FastGen", "fastgen", "token", "CDS", {.token_keep_after_prefill = 0.6}),
      row("DMC", "dmc", "token", "CPDS", {.token_merge_ratio = 4}),
      row("SnapKV", "snapkv", "token", "D", {.decode_read_fraction = 0.08}),
      row("TriForce", "triforce", "token", "D",
          {.draft_tokens = 6, .acceptance = 0.8, .draft_params = 68e6, .draft_kv_tokens = 4096}),
      row("KIVI", "kivi", "hidden", "CDS", {.kv_bits = 2, .kv_group_size = 32, .dequant_flops_per_element = 2}),
      row("WKVQuant", "wkvquant", "hidden", "CDS", {.kv_bits = 4, .weight_bits = 4}),
  };
  rows[5].kv_heads = 8;  // GQA: 8 KV groups against the model's MHA variant
  rows[5].mha_baseline = true;
  rows[7].kv_lora_rank = 512;  // MLA: DeepSeek-V2's latent against the model's MHA variant
  rows[7].mha_baseline = true;
  return rows;
}

std::vector<CompressionMethod> extras() {
  return {
      row("1 layer x 10% heads x 50% tokens", "stacked-layer-head-token", "stacked", "",
          {.kv_layer_fraction = 1.0 / 60, .head_keep_after_prefill = 0.1, .token_keep_after_prefill = 0.5}),
      row("Retrieval Head + H2O + KIVI", "stacked-head-token-hidden", "stacked", "",
          {.head_keep_after_prefill = 0.05, .token_keep_after_prefill = 0.2, .kv_bits = 2, .kv_group_size = 32}),
      row("YOCO + KIVI 4-bit", "stacked-yoco-kivi", "stacked", "",
          {.yoco_window = 1024, .kv_bits = 4, .kv_group_size = 32}),
      row("Sliding window 4K", "sliding-window", "attention", "", {.window = 4096}),
      row("Linear attention, half the layers", "linear-half", "attention", "", {.linear_layer_fraction = 0.5}),
  };
}

}  // namespace

const std::vector<CompressionMethod>& compression_methods() {
  static const std::vector<CompressionMethod> all = [] {
    auto rows = table2();
    for (auto& r : extras()) rows.push_back(std::move(r));
    return rows;
  }();
  return all;
}

ModelSpec method_baseline(const CompressionMethod& method, const ModelSpec& base) {
  ModelSpec m = base;
  if (method.mha_baseline) {
    m.num_kv_heads = m.num_attention_heads;
    m.kv_lora_rank = 0;
    m.qk_rope_head_dim = 0;
  }
  return m;
}

ModelSpec method_model(const CompressionMethod& method, const ModelSpec& base) {
  ModelSpec m = method_baseline(method, base);
  m.compression = method.knobs;
  if (method.kv_heads > 0) m.num_kv_heads = method.kv_heads;
  if (method.kv_lora_rank > 0) {
    m.kv_lora_rank = method.kv_lora_rank;
    m.qk_rope_head_dim = kMlaRopeDim;
  }
  return m;
}

std::string improved_metrics(const CompressionDelta& d) {
  std::string s;
  if (d.concurrency_ratio > 1 + kUnchanged) s += 'C';
  if (d.prefill_ratio < 1 - kUnchanged) s += 'P';
  if (d.decode_ratio < 1 - kUnchanged) s += 'D';
  if (d.switch_ratio < 1 - kUnchanged) s += 'S';
  return s;
}

CompressionDelta compare_method(const CompressionMethod& method, const ModelSpec& base, const Deployment& deployment,
                                double context_tokens, double answer_tokens, AttentionFlops attention) {
  CompressionDelta d{.method = method.name,
                     .dimension = method.dimension,
                     .improves = method.improves,
                     .context_tokens = context_tokens};
  d.baseline =
      analyze_peak(CostModel(method_baseline(method, base), deployment, attention), context_tokens, answer_tokens);
  d.compressed =
      analyze_peak(CostModel(method_model(method, base), deployment, attention), context_tokens, answer_tokens);
  auto ratio = [](double a, double b) { return b > 0 ? a / b : 1.0; };
  d.concurrency_ratio = ratio(d.compressed.concurrency, d.baseline.concurrency);
  d.prefill_ratio = ratio(d.compressed.prefill_s, d.baseline.prefill_s);
  d.decode_ratio = ratio(d.compressed.decode_s, d.baseline.decode_s);
  d.switch_ratio = ratio(d.compressed.context_switch_s, d.baseline.context_switch_s);
  d.measured = improved_metrics(d);
  return d;
}

}  // namespace kvsim
