// Model descriptions: the declared keys shared by models.yaml and a scenario's inline `model:` section,
// and Hugging Face config.json import.
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "sim/catalog.hpp"
#include "sim/plausible.hpp"

namespace kvsim {
namespace {

std::string join_path(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

// A structural count of the model, within plausible::kModelDim (or kModelDimOrNone when 0 is allowed).
KeySpec int_key(const std::string& prefix, const std::string& key, std::string desc, bool required, double min) {
  return plausible::within(KeySpec{.path = join_path(prefix, key),
                                   .type = KeyType::kInteger,
                                   .required = required,
                                   .description = std::move(desc)},
                           min > 0 ? plausible::kModelDim : plausible::kModelDimOrNone);
}

KeySpec dtype_key(const std::string& prefix, const std::string& key, std::string desc) {
  return KeySpec{.path = join_path(prefix, key),
                 .type = KeyType::kChoice,
                 .default_value = "",
                 .choices = {"fp32", "bf16", "fp16", "fp8", "int8", "fp4", "int4", "int2"},
                 .description = std::move(desc)};
}

}  // namespace

std::vector<KeySpec> model_keys(const std::string& prefix, bool catalog_entry) {
  const bool req = catalog_entry;
  KeySpec params = plausible::within(KeySpec{.path = join_path(prefix, "params"),
                                             .type = KeyType::kQuantity,
                                             .dim = Dim::kCount,
                                             .required = req,
                                             .description = "total parameters, all experts included (e.g. 34B)"},
                                     plausible::kParams);
  KeySpec active = params;
  active.path = join_path(prefix, "params_active");
  active.required = false;
  active.description = "parameters used per token (MoE); default: params";
  KeySpec context = plausible::within(
      KeySpec{.path = join_path(prefix, "max_context"),
              .type = KeyType::kQuantity,
              .dim = Dim::kTokens,
              .required = req,
              .description = "longest context the model supports, in tokens: a session's document, questions "
                             "and answers together"},
      plausible::kTokens);
  context.whole = true;
  if (!catalog_entry) {
    context.description +=
        "; default: the catalog entry's, or config.json's max_position_embeddings (a larger "
        "value makes the run a what-if)";
  }
  std::vector<KeySpec> keys{
      KeySpec{.path = join_path(prefix, "description"), .type = KeyType::kString, .description = "what the model is"},
      int_key(prefix, "layers", "transformer layers", req, 1),
      int_key(prefix, "hidden_size", "model width", req, 1),
      int_key(prefix, "num_attention_heads", "query heads; a multiple of num_kv_heads", req, 1),
      int_key(prefix, "num_kv_heads", "KV heads (GQA), dividing num_attention_heads; = it for MHA, 1 for MQA", req, 1),
      int_key(prefix, "head_dim", "width of one head", req, 1),
      int_key(prefix, "intermediate_size", "MLP width", false, 1),
      int_key(prefix, "vocab_size", "vocabulary", false, 1),
      params,
      active,
      int_key(prefix, "num_experts", "routed experts per MoE layer (0 = dense)", false, 0),
      int_key(prefix, "experts_per_token", "experts each token is routed to", false, 0),
      int_key(prefix, "num_shared_experts", "always-on experts (informational; counted in params_active)", false, 0),
      int_key(prefix, "kv_lora_rank", "MLA latent KV width (0 = not MLA)", false, 0),
      int_key(prefix, "qk_rope_head_dim", "MLA decoupled RoPE key width, cached beside the latent", false, 0),
      dtype_key(prefix, "weights_dtype", "weight element type (default bf16)"),
      dtype_key(prefix, "kv_dtype", "KV element type (default bf16)"),
      context};
  if (catalog_entry) {
    keys.push_back(KeySpec{.path = "variant",
                           .type = KeyType::kString,
                           .description = "one line saying which variant of the model the entry is (a paper's "
                                          "simplification, the released checkpoint), printed in reports"});
    keys.push_back(KeySpec{.path = "hf_name",
                           .type = KeyType::kString,
                           .description = "the Hugging Face repository name of the checkpoint (e.g. "
                                          "meta-llama/Llama-3.1-8B), by which `kvsim replay` finds the entry"});
    keys.push_back(KeySpec{.path = "source",
                           .type = KeyType::kStringMap,
                           .required = true,
                           .description = "map from each numeric field to its source"});
  }
  return keys;
}

ModelSpec model_from_values(const ValueMap& v, const std::string& prefix, ModelSpec m) {
  // The schema reads integers as long; a model's fields are int, and a value that does not fit must not wrap
  // (4294967297 layers would silently become 1).
  auto get_int = [&](const char* key, int& slot) {
    const auto path = join_path(prefix, key);
    if (!v.has(path)) return;
    const long value = v.integer(path);
    if (value > std::numeric_limits<int>::max()) {  // the schema has checked the lower bound
      throw InputError(std::vector<Diagnostic>{v.at(
          path, fmt::format("value {} is too large; expected at most {}", value, std::numeric_limits<int>::max()))});
    }
    slot = int(value);
  };
  auto get_q = [&](const char* key, double& slot) {
    if (v.has(join_path(prefix, key))) slot = v.quantity(join_path(prefix, key));
  };
  const bool params_given = v.has(join_path(prefix, "params"));
  if (v.has(join_path(prefix, "description"))) m.description = v.string(join_path(prefix, "description"));
  if (v.has(join_path(prefix, "variant"))) m.variant = v.string(join_path(prefix, "variant"));
  get_int("layers", m.layers);
  get_int("hidden_size", m.hidden_size);
  get_int("num_attention_heads", m.num_attention_heads);
  get_int("num_kv_heads", m.num_kv_heads);
  get_int("head_dim", m.head_dim);
  get_int("intermediate_size", m.intermediate_size);
  get_int("vocab_size", m.vocab_size);
  get_int("num_experts", m.num_experts);
  get_int("experts_per_token", m.experts_per_token);
  get_int("kv_lora_rank", m.kv_lora_rank);
  get_int("qk_rope_head_dim", m.qk_rope_head_dim);
  get_q("params", m.params);
  get_q("max_context", m.max_context);
  if (params_given && m.num_experts == 0) m.params_active = m.params;
  get_q("params_active", m.params_active);
  if (m.params_active == 0) m.params_active = m.params;
  for (auto [key, slot] : {std::pair{"weights_dtype", &m.weights_dtype}, std::pair{"kv_dtype", &m.kv_dtype}}) {
    const auto path = join_path(prefix, key);
    if (v.has(path) && !v.string(path).empty()) *slot = *parse_dtype(v.string(path));
  }
  return m;
}

KvCompression compression_from_values(const ValueMap& v, Diagnostics& diag) {
  const std::string prefix = "model.kv_compression.";
  KvCompression c;
  for (const KnobField& f : knob_fields()) {
    const std::string key = prefix + f.key;
    if (!v.has(key)) continue;
    if (f.real) c.*f.real = v.quantity(key);
    if (f.integer) c.*f.integer = int(std::min<long>(v.integer(key), std::numeric_limits<int>::max()));
  }
  if (auto err = validate_compression(c); !err.empty()) {
    // Messages start with the knob's path below model.kv_compression; the diagnostic points at its line.
    diag.add(v.at(prefix + err.substr(0, err.find(':')), err.substr(err.find(':') + 2)));
  }
  return c;
}

}  // namespace kvsim
