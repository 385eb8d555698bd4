#pragma once
/// @file model.hpp
/// @brief A transformer's shape and its KV-cache and weight footprints (the paper's Eq. 1, 2, 18, 19).

#include <optional>
#include <string>

#include "engine/dtype.hpp"
#include "engine/kv_compression.hpp"

namespace kvsim {

/// @brief A model as the cost model sees it. Dense when num_experts == 0; MLA when kv_lora_rank > 0.
struct ModelSpec {
  std::string name;
  std::string description;
  std::string variant;  ///< which variant of the model this is (e.g. a paper's simplification), for reports
  int layers = 0;
  int hidden_size = 0;
  int num_attention_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
  int intermediate_size = 0;
  int vocab_size = 0;
  double params = 0;         ///< total parameters (all experts)
  double params_active = 0;  ///< parameters used per token; equals params for dense models
  int num_experts = 0;       ///< routed experts per MoE layer; 0 for dense
  int experts_per_token = 0;
  int kv_lora_rank = 0;  ///< MLA latent width; 0 for MHA/GQA/MQA
  int qk_rope_head_dim = 0;
  DType weights_dtype = DType::kBf16;
  DType kv_dtype = DType::kBf16;
  double max_context = 0;  ///< tokens; 0 = unknown
  KvCompression compression;  ///< Section 3's knobs; the default is no compression
};

/// @brief Checks the fields a cost model needs; returns an empty string or a message naming the bad field.
std::string validate_model(const ModelSpec& m);

/// @brief KV bytes per token for the whole model, uncompressed (`compression` is not applied; see
/// session_kv_bytes for the compressed footprint): layers x kv_heads x head_dim x 2 (K and V) x bytes per element,
/// or layers x (kv_lora_rank + qk_rope_head_dim) x bytes per element for MLA (one shared latent, no K/V pair).
double kv_bytes_per_token(const ModelSpec& m);

/// @brief Bytes of all weights (every expert of an MoE), the HBM they occupy.
double weight_bytes(const ModelSpec& m);

/// @brief Weight bytes a forward step reads when it processes `tokens` tokens. Dense models read everything;
/// an MoE reads its dense part plus the experts that `tokens` tokens route to, in expectation with uniform
/// routing: E x (1 - (1 - k/E)^tokens) distinct experts.
double weight_bytes_read(const ModelSpec& m, double tokens);

/// @brief Width of the attention computation per layer, n_heads x head_dim, used in the attention FLOP term
/// 2 x layers x context x width per token (Kaplan et al., as in the paper's Eq. 7).
double attention_width(const ModelSpec& m);

}  // namespace kvsim
