// Hugging Face config.json import: the architecture fields users already have, with parameter counts
// derived from the shapes (embeddings, attention, gated MLP or MoE experts), since config.json has none.
#include <fmt/format.h>

#include <cstdint>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "sim/catalog.hpp"
#include "sim/input_file.hpp"
#include "sim/plausible.hpp"

namespace kvsim {
namespace {
using nlohmann::json;

using plausible::kModelDim;
using plausible::kModelDimOrNone;

struct Reader {
  const json& j;
  std::string file;

  [[noreturn]] void fail(const std::string& field, const std::string& message) const {
    throw InputError(std::vector<Diagnostic>{{file, field, 0, 0, "", message}});
  }
  bool has(const char* key) const { return j.contains(key) && !j.at(key).is_null(); }
  // A whole number within the plausible range of its kind (plausible.hpp): model dimensions 1..1M, so they fit the
  // ints they are stored in and their products in derive_params stay finite (4294967360 would wrap to 64).
  long integer(const char* key, plausible::Range range = kModelDim) const {
    if (!has(key)) fail(key, "missing; required to describe the model");
    const json& v = j.at(key);
    if (!v.is_number_integer()) fail(key, "expected an integer, got " + v.dump().substr(0, 40));
    const KeySpec spec = plausible::within(KeySpec{.path = key, .type = KeyType::kInteger}, range);
    const double value = v.is_number_unsigned() ? double(v.get<std::uint64_t>()) : double(v.get<std::int64_t>());
    if (std::string why = check_range(spec, value); !why.empty()) fail(key, why);
    return long(value);
  }
  long integer_or(const char* key, long fallback, plausible::Range range = kModelDim) const {
    return has(key) ? integer(key, range) : fallback;
  }
};

// Parameter counts of one decoder layer's attention block.
double attention_params(const Reader& r, const ModelSpec& m) {
  const double h = m.hidden_size;
  if (m.kv_lora_rank > 0) {  // MLA (DeepSeek-V2): low-rank Q and KV projections
    const double nope = r.integer_or("qk_nope_head_dim", m.head_dim - m.qk_rope_head_dim, kModelDimOrNone);
    const double v_dim = r.integer_or("v_head_dim", long(nope));
    const double q_rank = r.integer_or("q_lora_rank", 0, kModelDimOrNone);
    const double q_out = double(m.num_attention_heads) * (nope + m.qk_rope_head_dim);
    const double q = q_rank > 0 ? h * q_rank + q_rank * q_out : h * q_out;
    const double kv = h * (double(m.kv_lora_rank) + m.qk_rope_head_dim) +
                      double(m.kv_lora_rank) * m.num_attention_heads * (nope + v_dim);
    return q + kv + m.num_attention_heads * v_dim * h;
  }
  const double q = double(m.num_attention_heads) * m.head_dim;
  const double kv = double(m.num_kv_heads) * m.head_dim;
  return h * q + 2.0 * h * kv + q * h;
}

void derive_params(const Reader& r, ModelSpec& m) {
  const double h = m.hidden_size;
  const bool tied = r.has("tie_word_embeddings") && r.j.at("tie_word_embeddings").is_boolean() &&
                    r.j.at("tie_word_embeddings").get<bool>();
  const double embed = double(m.vocab_size) * h * (tied ? 1.0 : 2.0);
  const double attn = attention_params(r, m);
  const double dense_mlp = 3.0 * h * m.intermediate_size;  // gated MLP: gate, up, down
  if (m.num_experts == 0) {
    m.params = embed + m.layers * (attn + dense_mlp);
    m.params_active = m.params;
    return;
  }
  const double expert = 3.0 * h * r.integer_or("moe_intermediate_size", m.intermediate_size);
  const double shared = r.integer_or("n_shared_experts", 0, kModelDimOrNone) * expert;
  const long dense_layers = r.integer_or("first_k_dense_replace", 0, {0, double(m.layers)});
  const long moe_layers = m.layers - dense_layers;
  const double router = h * m.num_experts;
  const double common = embed + m.layers * attn + dense_layers * dense_mlp + moe_layers * (shared + router);
  m.params = common + moe_layers * m.num_experts * expert;
  m.params_active = common + moe_layers * m.experts_per_token * expert;
}

// The architecture fields, each within its plausible range.
void read_shapes(const Reader& r, ModelSpec& m) {
  m.layers = int(r.integer("num_hidden_layers"));
  m.hidden_size = int(r.integer("hidden_size"));
  m.num_attention_heads = int(r.integer("num_attention_heads"));
  m.num_kv_heads = int(r.integer_or("num_key_value_heads", m.num_attention_heads));
  m.intermediate_size = int(r.integer_or("intermediate_size", 4L * m.hidden_size));  // <= 4M: fits an int
  m.vocab_size = int(r.integer_or("vocab_size", 0));
  m.kv_lora_rank = int(r.integer_or("kv_lora_rank", 0, kModelDimOrNone));
  m.qk_rope_head_dim = m.kv_lora_rank > 0 ? int(r.integer_or("qk_rope_head_dim", 0, kModelDimOrNone)) : 0;
  if (m.kv_lora_rank > 0 && r.has("qk_nope_head_dim")) {
    m.head_dim = int(r.integer("qk_nope_head_dim", kModelDimOrNone) + m.qk_rope_head_dim);  // both <= 1M
  } else if (r.has("head_dim")) {
    m.head_dim = int(r.integer("head_dim"));
  } else {
    m.head_dim = m.hidden_size / m.num_attention_heads;  // num_attention_heads >= 1
  }
  m.num_experts = int(r.integer_or("num_local_experts", r.integer_or("n_routed_experts", 0, kModelDimOrNone),
                                   kModelDimOrNone));
  m.experts_per_token = m.num_experts > 0 ? int(r.integer("num_experts_per_tok")) : 0;
  if (r.has("max_position_embeddings")) {  // 0 (unknown) otherwise: a scenario then needs model.max_context
    m.max_context = double(r.integer("max_position_embeddings", plausible::kTokens));
  }
}

}  // namespace

ModelSpec load_hf_config(const std::filesystem::path& path) {
  check_input_file(path, "a config.json file", kMaxConfigBytes, "2 MiB");
  std::ifstream in(path);
  if (!in) throw InputError(std::vector<Diagnostic>{{path.string(), "", 0, 0, "", "cannot open file"}});
  json j;
  try {
    j = json::parse(in);
  } catch (const json::parse_error& e) {  // e.what() quotes the text read so far: give the position only
    throw InputError(
        std::vector<Diagnostic>{{path.string(), "", 0, 0, "",
                                 fmt::format("invalid JSON (at byte {}); expected a config.json object", e.byte)}});
  } catch (const json::exception&) {  // out_of_range: a number too large for a double
    throw InputError(std::vector<Diagnostic>{{path.string(), "", 0, 0, "", "invalid JSON: a number out of range"}});
  }
  if (!j.is_object()) throw InputError(std::vector<Diagnostic>{{path.string(), "", 0, 0, "", "expected a JSON object"}});
  const Reader r{j, path.string()};
  ModelSpec m;
  m.name = path.stem().string();
  m.description = "imported from " + path.filename().string();
  m.variant = "as " + path.filename().string() + " describes it";
  read_shapes(r, m);
  if (r.has("torch_dtype") && r.j.at("torch_dtype").is_string()) {
    if (auto t = parse_dtype(r.j.at("torch_dtype").get<std::string>())) m.weights_dtype = *t;
  }
  derive_params(r, m);
  const KeySpec params = plausible::within(KeySpec{.path = "params", .type = KeyType::kQuantity}, plausible::kParams);
  if (std::string why = check_range(params, m.params); !why.empty()) {
    r.fail("", "the parameters its shapes give: " + why);
  }
  if (auto err = validate_model(m); !err.empty()) r.fail("", err);
  return m;
}

}  // namespace kvsim
