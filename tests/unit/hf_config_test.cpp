// Hugging Face config.json import: shapes, derived head_dim, MoE and MLA fields, and parameter counts derived
// from the shapes (checked against the formula here and against the published totals within 2%, the share of
// norms, biases and rounding the shape formula leaves out).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "sim/catalog.hpp"

namespace kvsim {
namespace {

std::filesystem::path hf(const char* name) {
  return std::filesystem::path(KVSIM_TEST_DATA) / "hf" / name;
}

std::filesystem::path write_temp(const std::string& name, const std::string& text) {
  const auto p = std::filesystem::temp_directory_path() / ("kvsim_hf_" + name);
  std::ofstream(p) << text;
  return p;
}

TEST(HfConfig, Llama3_8B) {
  const ModelSpec m = load_hf_config(hf("llama-3-8b.json"));
  EXPECT_EQ(m.layers, 32);
  EXPECT_EQ(m.num_kv_heads, 8);
  EXPECT_EQ(m.head_dim, 128);  // 4096 / 32: the file has no head_dim
  // embeddings 128256 x 4096 x 2 (untied) + 32 x (q 4096^2 + k,v 2 x 4096 x 1024 + o 4096^2 + MLP 3 x 4096 x 14336)
  const double expected = 128256.0 * 4096 * 2 + 32 * (2 * 4096.0 * 4096 + 2 * 4096.0 * 1024 + 3 * 4096.0 * 14336);
  EXPECT_DOUBLE_EQ(m.params, expected);
  EXPECT_NEAR(m.params, 8.03e9, 0.02 * 8.03e9);
  EXPECT_EQ(m.params_active, m.params);
  EXPECT_DOUBLE_EQ(kv_bytes_per_token(m), 32.0 * 8 * 128 * 2 * 2);
  EXPECT_DOUBLE_EQ(m.max_context, 8192);  // max_position_embeddings
}

TEST(HfConfig, ContextIsUnknownWithoutMaxPositionEmbeddings) {
  // A scenario then asks for model.max_context (tests/bad_input/hf_config_without_context.yaml).
  const ModelSpec m = load_hf_config(
      write_temp("nocontext.json", R"({"num_hidden_layers": 2, "hidden_size": 64, "num_attention_heads": 4})"));
  EXPECT_EQ(m.max_context, 0);
  EXPECT_NE(m.variant.find("nocontext.json"), std::string::npos) << m.variant;
}

TEST(HfConfig, MinimalDerivesHeadDim) {
  const ModelSpec m = load_hf_config(hf("minimal.json"));
  EXPECT_EQ(m.head_dim, 2048 / 32);
  EXPECT_EQ(m.num_kv_heads, 4);
  EXPECT_NEAR(m.params, 1.1e9, 0.02 * 1.1e9);
}

TEST(HfConfig, MixtralIsMoe) {
  const ModelSpec m = load_hf_config(hf("mixtral-8x7b.json"));
  EXPECT_EQ(m.num_experts, 8);
  EXPECT_EQ(m.experts_per_token, 2);
  EXPECT_NEAR(m.params, 46.7e9, 0.02 * 46.7e9);
  EXPECT_NEAR(m.params_active, 12.9e9, 0.02 * 12.9e9);
}

TEST(HfConfig, DeepSeekV2IsMlaAndMoe) {
  const ModelSpec m = load_hf_config(hf("deepseek-v2.json"));
  EXPECT_EQ(m.kv_lora_rank, 512);
  EXPECT_EQ(m.qk_rope_head_dim, 64);
  EXPECT_EQ(m.head_dim, 128 + 64);
  EXPECT_DOUBLE_EQ(kv_bytes_per_token(m), 60.0 * (512 + 64) * 2);
  EXPECT_EQ(m.num_experts, 160);
  EXPECT_NEAR(m.params, 236e9, 0.02 * 236e9);
  EXPECT_NEAR(m.params_active, 21e9, 0.02 * 21e9);
}

TEST(HfConfig, Qwen2_72B) {
  const ModelSpec m = load_hf_config(hf("qwen2-72b.json"));
  EXPECT_EQ(m.layers, 80);
  EXPECT_NEAR(m.params, 72.7e9, 0.02 * 72.7e9);
}

TEST(HfConfig, ErrorsNameFileAndField) {
  try {
    load_hf_config(write_temp("nolayers.json", R"({"hidden_size": 4096, "num_attention_heads": 32})"));
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("num_hidden_layers"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("kvsim_hf_nolayers.json"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_hf_config(write_temp("bad.json", "{not json")), InputError);
  EXPECT_THROW(load_hf_config(write_temp("neg.json", R"({"num_hidden_layers": -3})")), InputError);
  EXPECT_THROW(load_hf_config(write_temp("str.json", R"({"num_hidden_layers": "32"})")), InputError);
  EXPECT_THROW(load_hf_config("/nonexistent/config.json"), InputError);
}

// The message of load_hf_config on a config.json holding `text` ("" if it loads).
std::string refusal(const std::string& name, const std::string& text) {
  try {
    load_hf_config(write_temp(name, text));
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(HfConfig, AbsurdShapesAreRefusedWithTheKeyAndTheRange) {
  const std::string base = R"("num_hidden_layers": 32, "hidden_size": 4096, "num_attention_heads": 32)";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"num_hidden_layers": 10000000, "hidden_size": 4096, "num_attention_heads": 32})",
       "num_hidden_layers: 10000000 is outside the plausible range [1, 1000000]"},
      {R"({"num_hidden_layers": 32, "hidden_size": 4294967360, "num_attention_heads": 32})",
       "hidden_size: 4294967360 is outside the plausible range [1, 1000000]"},
      {R"({"num_hidden_layers": 32, "hidden_size": 4096, "num_attention_heads": 0})",
       "num_attention_heads: 0 is outside the plausible range [1, 1000000]"},
      {"{" + base + R"(, "num_key_value_heads": 4294967296})",
       "num_key_value_heads: 4294967296 is outside the plausible range [1, 1000000]"},
      {"{" + base + R"(, "head_dim": -1})", "head_dim: -1 is outside the plausible range [1, 1000000]"},
      {"{" + base + R"(, "intermediate_size": 2000000})",
       "intermediate_size: 2000000 is outside the plausible range [1, 1000000]"},
      {"{" + base + R"(, "vocab_size": 5000000})", "vocab_size: 5000000 is outside the plausible range [1, 1000000]"},
      {"{" + base + R"(, "num_local_experts": 2000000, "num_experts_per_tok": 2})",
       "num_local_experts: 2000000 is outside the plausible range [0, 1000000]"},
      {"{" + base + R"(, "max_position_embeddings": 1000000000000})",
       "max_position_embeddings: 1000000000000 is outside the plausible range [1, 100000000]"},
      {R"({"num_hidden_layers": 1000000, "hidden_size": 1000000, "num_attention_heads": 1000})",
       "the parameters its shapes give:"}};
  for (const auto& [text, message] : cases) {
    const std::string got = refusal("absurd.json", text);
    EXPECT_NE(got.find(message), std::string::npos) << text << "\n" << got;
    EXPECT_NE(got.find("kvsim_hf_absurd.json"), std::string::npos) << got;
  }
  EXPECT_EQ(refusal("edges.json", R"({"num_hidden_layers": 1000000, "hidden_size": 64, "num_attention_heads": 1,
                                      "max_position_embeddings": 100000000})"),
            "");
}

TEST(HfConfig, ADeviceOrADirectoryIsRefusedByItsPath) {
  try {
    load_hf_config("/dev/zero");
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "/dev/zero: is a device; expected a config.json file");
  }
  EXPECT_THROW(load_hf_config(std::filesystem::temp_directory_path()), InputError);
}

}  // namespace
}  // namespace kvsim
