#include "engine/model.hpp"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <utility>

namespace kvsim {
namespace {
constexpr std::array<std::pair<const char*, DType>, 9> kDtypes{{{"fp32", DType::kFp32},
                                                                {"bf16", DType::kBf16},
                                                                {"fp16", DType::kFp16},
                                                                {"fp8", DType::kFp8},
                                                                {"int8", DType::kInt8},
                                                                {"fp4", DType::kFp4},
                                                                {"int4", DType::kInt4},
                                                                {"int2", DType::kInt2},
                                                                {"float16", DType::kFp16}}};
}  // namespace

double dtype_bytes(DType t) {
  switch (t) {
    case DType::kFp32:
      return 4.0;
    case DType::kBf16:
    case DType::kFp16:
      return 2.0;
    case DType::kFp8:
    case DType::kInt8:
      return 1.0;
    case DType::kFp4:
    case DType::kInt4:
      return 0.5;
    case DType::kInt2:
      return 0.25;
  }
  return 2.0;
}

std::optional<DType> parse_dtype(const std::string& name) {
  for (const auto& [n, t] : kDtypes) {
    if (name == n) return t;
  }
  if (name == "bfloat16") return DType::kBf16;
  return std::nullopt;
}

std::string dtype_names() {
  return "fp32, bf16, fp16, fp8, int8, fp4, int4, int2";
}

std::string dtype_name(DType t) {
  for (const auto& [n, d] : kDtypes) {
    if (d == t) return n;
  }
  return "bf16";
}

std::string validate_model(const ModelSpec& m) {
  if (m.layers <= 0) return fmt::format("layers must be > 0 (got {})", m.layers);
  if (m.num_attention_heads <= 0) return fmt::format("num_attention_heads must be > 0 (got {})", m.num_attention_heads);
  if (m.kv_lora_rank == 0 && (m.num_kv_heads <= 0 || m.num_kv_heads > m.num_attention_heads)) {
    return fmt::format("num_kv_heads must be in 1..num_attention_heads={} (got {})", m.num_attention_heads,
                       m.num_kv_heads);
  }
  if (m.kv_lora_rank == 0 && m.num_attention_heads % m.num_kv_heads != 0) {  // GQA: each KV head serves a group
    return fmt::format(
        "num_kv_heads must divide num_attention_heads: {} heads / {} KV heads = {:.4g} query heads per "
        "KV head",
        m.num_attention_heads, m.num_kv_heads, double(m.num_attention_heads) / m.num_kv_heads);
  }
  if (m.head_dim <= 0) return fmt::format("head_dim must be > 0 (got {})", m.head_dim);
  if (!(m.params > 0)) return fmt::format("params must be > 0 (got {})", m.params);
  if (!(m.params_active > 0) || m.params_active > m.params) {
    return fmt::format("params_active must be in (0, params={:g}] (got {:g})", m.params, m.params_active);
  }
  if (m.num_experts > 0 && (m.experts_per_token <= 0 || m.experts_per_token > m.num_experts)) {
    return fmt::format("experts_per_token must be in 1..num_experts={} (got {})", m.num_experts, m.experts_per_token);
  }
  if (m.num_experts == 0 && m.params_active != m.params) {
    return fmt::format("params_active ({:g}) differs from params ({:g}) but num_experts is 0", m.params_active,
                       m.params);
  }
  return {};
}

double kv_bytes_per_token(const ModelSpec& m) {
  const double elem = dtype_bytes(m.kv_dtype);
  if (m.kv_lora_rank > 0) return double(m.layers) * (m.kv_lora_rank + m.qk_rope_head_dim) * elem;
  return double(m.layers) * m.num_kv_heads * m.head_dim * 2.0 * elem;
}

double weight_bytes(const ModelSpec& m) {
  return m.params * dtype_bytes(m.weights_dtype);
}

double weight_bytes_read(const ModelSpec& m, double tokens) {
  if (m.num_experts == 0 || m.params_active >= m.params) return weight_bytes(m);
  const double e = m.num_experts;
  const double k = m.experts_per_token;
  const double per_expert = (m.params - m.params_active) / (e - k);
  const double dense = m.params - e * per_expert;
  const double touched = tokens <= 0 ? 0.0 : e * (1.0 - std::pow(1.0 - k / e, tokens));
  return (dense + touched * per_expert) * dtype_bytes(m.weights_dtype);
}

double attention_width(const ModelSpec& m) {
  return double(m.num_attention_heads) * m.head_dim;
}

}  // namespace kvsim
