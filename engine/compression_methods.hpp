#pragma once
/// @file compression_methods.hpp
/// @brief The paper's Table 2 rows (and the stacked combinations of Section 3.1) as knob settings, and their
/// effect on the four metrics: concurrency (C), prefill (P), decode (D) and context switching (S).

#include <string>
#include <vector>

#include "engine/peak_analysis.hpp"

namespace kvsim {

/// @brief One method: how it changes the model, against which baseline, and what Table 2 says it improves.
struct CompressionMethod {
  std::string name;       ///< "H2O", "GQA", ... ; the preset is scenarios/compression/<slug>.yaml
  std::string slug;       ///< file name of the preset, without .yaml
  std::string dimension;  ///< layer, head, token, hidden, stacked or attention
  std::string improves;   ///< Table 2's "Improves" column, e.g. "CDS"; empty for rows not in Table 2
  KvCompression knobs;
  int kv_heads = 0;           ///< > 0: the method's model has this many KV heads (GQA)
  int kv_lora_rank = 0;       ///< > 0: the method's model caches an MLA latent of this width (with a 64-wide RoPE key)
  bool mha_baseline = false;  ///< compare against the model with one KV head per query head (GQA, MLA)
};

/// @brief Table 2's fifteen rows in the paper's order, then the stacked combinations and attention variants.
const std::vector<CompressionMethod>& compression_methods();

/// @brief The model a method compares against: `base`, or its MHA variant when `mha_baseline`.
ModelSpec method_baseline(const CompressionMethod& method, const ModelSpec& base);
/// @brief `base` with the method applied (its knobs, and its KV-head or MLA change).
ModelSpec method_model(const CompressionMethod& method, const ModelSpec& base);

/// @brief One method at one context: the four metrics as ratios to the baseline (method / baseline).
struct CompressionDelta {
  std::string method;
  std::string dimension;
  std::string improves;
  double context_tokens = 0;
  PeakReport baseline;
  PeakReport compressed;
  double concurrency_ratio = 1;  ///< > 1 is better
  double prefill_ratio = 1;      ///< < 1 is better
  double decode_ratio = 1;       ///< < 1 is better
  double switch_ratio = 1;       ///< < 1 is better
  std::string measured;          ///< the metrics that improve by more than 0.1%, as "CPDS" letters
};

/// @brief Letters of the metrics a delta improves by more than 0.1%, in C, P, D, S order.
std::string improved_metrics(const CompressionDelta& d);

/// @brief Evaluates `method` on `base` and `deployment` at `context_tokens` with `answer_tokens` per answer,
/// counting prefill attention FLOPs as `attention` says (the paper's Table 2 uses kFull, its Eq. 7).
CompressionDelta compare_method(const CompressionMethod& method, const ModelSpec& base, const Deployment& deployment,
                                double context_tokens, double answer_tokens, AttentionFlops attention);

}  // namespace kvsim
