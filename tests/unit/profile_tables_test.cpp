// Measured kernel profiles as a step model: the interpolation of the tables against hand-computed values, the step
// time of a real LLMServingSim bundle against its CSV rows read here independently, and the loader's refusals.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/cost/profile_tables.hpp"
#include "engine/cost/step_model.hpp"
#include "sim/catalog.hpp"
#include "sim/diagnostics.hpp"
#include "sim/profile_bundle.hpp"

namespace kvsim {
namespace {
namespace fs = std::filesystem;

const fs::path kBundle =
    fs::path(KVSIM_SOURCE_DIR) / "../shared/vllm-runs/profiles/RTXPRO6000/meta-llama/Llama-3.1-8B/bf16";

TEST(ProfileTables, Table1DInterpolatesAndExtrapolatesFromTheTopTwo) {
  const Table1D t{{1, 2, 4}, {10, 12, 20}};
  EXPECT_DOUBLE_EQ(t.at(1), 10);
  EXPECT_DOUBLE_EQ(t.at(1.5), 11);  // halfway between 10 and 12
  EXPECT_DOUBLE_EQ(t.at(3), 16);    // halfway between 12 and 20
  EXPECT_DOUBLE_EQ(t.at(8), 36);    // 20 + (8 - 4) x (20 - 12) / 2
  EXPECT_DOUBLE_EQ(t.at(0.5), 10);  // below the grid: the first sample
}

// A nested grid: n_decode 2 has a kv_decode of 64 that n_decode 1 lacks; prefill rows have no decode.
AttentionTable tiny_attention() {
  return AttentionTable({{0, 0, 1, 16, 10},
                         {0, 0, 1, 32, 14},
                         {0, 0, 2, 16, 12},
                         {0, 0, 2, 32, 18},
                         {0, 0, 2, 64, 30},
                         {16, 0, 0, 0, 20},
                         {16, 16, 0, 0, 24},
                         {32, 0, 0, 0, 36}});
}

TEST(ProfileTables, AttentionInterpolatesAxisByAxisOnANestedGrid) {
  const AttentionTable a = tiny_attention();
  EXPECT_DOUBLE_EQ(a.at(0, 0, 2, 32), 18);    // a grid point
  EXPECT_DOUBLE_EQ(a.at(0, 0, 1, 24), 12);    // kv_decode: halfway between 10 and 14
  EXPECT_DOUBLE_EQ(a.at(0, 0, 1.5, 16), 11);  // n_decode: halfway between 10 and 12
  // n_decode 1 has no kv 48: extrapolated from 16 and 32 to 14 + 4 = 18; n_decode 2 brackets it between 32 and
  // 64: 18 + 12 / 2 = 24; blended halfway: 21.
  EXPECT_DOUBLE_EQ(a.at(0, 0, 1.5, 48), 21);
  EXPECT_DOUBLE_EQ(a.at(24, 0, 0, 0), 28);  // prefill_chunk: halfway between 20 and 36
  EXPECT_DOUBLE_EQ(a.at(16, 8, 0, 0), 22);  // kv_prefill: halfway between 20 and 24
  EXPECT_DOUBLE_EQ(a.at(64, 0, 0, 0), 68);  // above the top chunk: 36 + (64 - 32) x (36 - 20) / 16
}

TEST(ProfileTables, SeveralPrefillChunksUseTheQueryWeightedKey) {
  // Chunks of 100 tokens over 0 and 300 over 1000: sum c (k + c / 2) / sum c = (100 x 50 + 300 x 1150) / 400 =
  // 875, minus 400 / 2 is the legacy kv_prefill 675. Decodes at 1000 and 3000 average 2000.
  const SeqWork batch[] = {{100, 0}, {300, 1000}, {1, 1000, true}, {1, 3000, true}};
  const AttentionShape s = attention_shape(batch);
  EXPECT_DOUBLE_EQ(s.prefill_chunk, 400);
  EXPECT_DOUBLE_EQ(s.kv_prefill, 675);
  EXPECT_DOUBLE_EQ(s.n_decode, 2);
  EXPECT_DOUBLE_EQ(s.kv_decode, 2000);
}

// The legacy skew correction on the tiny grid: decodes at 16 and 48 tokens (mean 32, skew rate (32 - 16) / 32 =
// 0.5) look up 18 at the mean and 18 + (48 - 32) / 32 x (30 - 18) = 24 at the longest; alpha 0.5 gives 21.
TEST(ProfileTables, SkewFitMovesUnequalDecodesTowardTheLongest) {
  ProfileTables t;
  t.attention = tiny_attention();
  SkewFit fit;
  fit.n_bins = {0, 2, 1e6};
  fit.n_labels = {"n<=2", "n>2"};
  fit.skew_rate_bins = {-0.01, 0.4, 1.01};
  fit.skew_rate_labels = {"sr<=40%", "sr>40%"};
  fit.kv_big_bins = {0, 32, 1e9};
  fit.kv_big_labels = {"kvB<=32", "kvB>32"};
  fit.kp_bins = {-1, 0, 1e9};
  fit.kp_labels = {"kp=0", "kp>0"};
  fit.alpha[SkewFit::bucket_key("0", "n<=2", "sr>40%", "kvB>32", "kp=0")] = 0.5;
  fit.alpha_default = 0.1;
  t.skew = fit;
  const SeqWork unequal[] = {{1, 16, true}, {1, 48, true}};
  EXPECT_DOUBLE_EQ(t.attention_us(attention_shape(unequal)), 21);
  const SeqWork equal[] = {{1, 32, true}, {1, 32, true}};
  EXPECT_DOUBLE_EQ(t.attention_us(attention_shape(equal)), 18);  // no skew: the table at 32
  t.skew->alpha.clear();
  EXPECT_DOUBLE_EQ(t.attention_us(attention_shape(unequal)), 18 + 0.1 * 6);  // no bucket: the pooled alpha
}

TEST(ProfileTables, MoeExpertsAreTheExpectedDistinctOnesOfUniformTopK) {
  ProfileTables t;
  t.moe = {{1, 8, 50}, {2, 8, 56}, {2, 16, 134}, {4, 32, 200}, {16, 128, 400}};
  EXPECT_DOUBLE_EQ(t.moe_experts(), 128);
  EXPECT_DOUBLE_EQ(t.moe_top_k(), 8);
  EXPECT_DOUBLE_EQ(t.activated_experts(1), 8);
  EXPECT_DOUBLE_EQ(t.activated_experts(2), 128 * (1 - (120.0 / 128) * (120.0 / 128)));  // 15.5
}

// The CSV rows of a file as strings, split on commas, header dropped: read here independently of the loader.
std::vector<std::vector<std::string>> csv_rows(const fs::path& file) {
  std::ifstream in(file);
  EXPECT_TRUE(in.is_open()) << file;
  std::vector<std::vector<std::string>> rows;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
    rows.push_back(f);
  }
  return rows;
}

TEST(ProfileTables, RealBundleGridPointsReturnTheirRowsExactly) {
  const ProfileTables t = load_profile_bundle(kBundle, 1);
  EXPECT_EQ(t.model, "meta-llama/Llama-3.1-8B");
  EXPECT_EQ(t.hardware, "RTXPRO6000");
  const auto rows = csv_rows(kBundle / "tp1/attention.csv");
  ASSERT_EQ(rows.size(), 19364u);
  for (std::size_t i = 0; i < rows.size(); i += 997) {
    const auto& r = rows[i];
    EXPECT_EQ(t.attention.at(std::stod(r[0]), std::stod(r[1]), std::stod(r[2]), std::stod(r[3])), std::stod(r[4]))
        << "line " << i + 2;
  }
}

// The skew fit of the real bundles: the PRO6000 tp1 row `0,n<=128,sr<=15%,kvB<=16k,kp=0,0.0328,4` is the bucket of
// 100 decodes at skew rate 0.1, longest 8000 tokens, no prefill; the RTX4090 bundle has the fit disabled.
TEST(ProfileTables, RealBundleSkewFitIsReadByBucket) {
  const ProfileTables t = load_profile_bundle(kBundle, 1);
  ASSERT_TRUE(t.skew);
  EXPECT_DOUBLE_EQ(t.skew->alpha_for(0, 100, 0.1, 8000, 0), 0.0328);
  EXPECT_DOUBLE_EQ(t.skew->alpha_default, 0.0543);  // meta.yaml skew_fit.per_tp.1.alpha_default
  const ProfileTables rtx = load_profile_bundle(kBundle / "../../../../RTX4090/meta-llama/Llama-3.1-8B/bf16", 1);
  EXPECT_FALSE(rtx.skew);
}

TEST(ProfileTables, RealBundleDecodeStepAddsItsMeasuredRows) {
  const ProfileTables t = load_profile_bundle(kBundle, 1);
  double embedding = 0, final_norm = 0, layer = 0, per_sequence = 0, attention = 0;
  for (const auto& r : csv_rows(kBundle / "tp1/dense.csv")) {
    if (r[1] != "1") continue;
    const double us = std::stod(r[2]);
    if (r[0] == "embedding")
      embedding = us;
    else if (r[0] == "final_layernorm")
      final_norm = us;
    else
      layer += (r[0] == "layernorm" ? 2 : 1) * us;  // input and post-attention RMSNorm
  }
  for (const auto& r : csv_rows(kBundle / "tp1/per_sequence.csv")) {
    if (r[1] == "1") per_sequence += std::stod(r[2]);  // lm_head + sampler
  }
  for (const auto& r : csv_rows(kBundle / "tp1/attention.csv")) {
    if (r[0] == "0" && r[1] == "0" && r[2] == "1" && r[3] == "4096") attention = std::stod(r[4]);
  }
  ASSERT_GT(embedding * final_norm * layer * per_sequence * attention, 0);
  const SeqWork decode{1, 4096, true};
  const auto b = t.step(std::span<const SeqWork>(&decode, 1), 32);
  const double expected = embedding + 32 * (layer + attention) + final_norm + per_sequence;
  EXPECT_NEAR(b.total_us, expected, 1e-9 * expected);
  EXPECT_NEAR(b.attention_per_layer_us, attention, 1e-12 * attention);
  EXPECT_EQ(b.moe_per_layer_us, 0);
}

// The step model at tensor_parallel 2: the tp2 tables' time as GPU compute, no HBM demand, and the roofline's
// NVLink all-reduce: 2 per layer x 32 layers x 2048 tokens x 4096 x 2 B, times 2 (n - 1) / n = 1 per GPU, over
// the GPU's NVLink.
TEST(ProfileTables, ProfiledStepModelAddsTheAllReduceAtTp2) {
  const Catalog c = Catalog::load(KVSIM_PLATFORMS_DIR);
  Deployment d;
  d.gpu = c.gpu("h100-sxm");
  d.tensor_parallel = 2;
  const CostModel cost(c.model("llama-3.1-8b"), d);
  auto tables = std::make_shared<const ProfileTables>(load_profile_bundle(kBundle, 2));
  const auto model = step_models().make("profiled", {}, StepModelInputs{cost, tables, nullptr});
  const SeqWork prefill{2048, 0};
  const StepCost s = model->prefill(2048, 0);
  const double bytes = 2.0 * 32 * 2048 * 4096 * 2;
  EXPECT_DOUBLE_EQ(s.nvlink_bytes_per_gpu, bytes);
  EXPECT_DOUBLE_EQ(s.nvlink_s, bytes / d.gpu.nvlink.bandwidth);
  EXPECT_DOUBLE_EQ(s.compute_s, tables->step(std::span<const SeqWork>(&prefill, 1), 32).total_us * 1e-6);
  EXPECT_EQ(s.hbm_s, 0);
  EXPECT_DOUBLE_EQ(s.seconds, std::max(s.compute_s, s.nvlink_s));
  EXPECT_DOUBLE_EQ(s.flops_per_gpu, cost.step(std::span<const SeqWork>(&prefill, 1)).flops_per_gpu);
}

// Qwen3-30B-A3B's bundle: moe.csv gives 128 experts, top-8 (8 activated at 1 token); a one-token decode step
// charges the measured MoE row at (1 token, 8 experts) per layer. The bundle has no moe.csv at tp2: refused for
// the MoE model there, as is a model whose top-k differs.
TEST(ProfileTables, RealMoeBundleChargesTheMeasuredExpertBlock) {
  const fs::path dir = kBundle / "../../../../RTXPRO6000/Qwen/Qwen3-30B-A3B-Instruct-2507/bf16";
  const ProfileTables t = load_profile_bundle(dir, 1);
  EXPECT_EQ(t.moe_experts(), 128);
  EXPECT_EQ(t.moe_top_k(), 8);
  double row = 0;
  for (const auto& r : csv_rows(dir / "tp1/moe.csv")) {
    if (r[0] == "1" && r[1] == "8") row = std::stod(r[2]);
  }
  ASSERT_GT(row, 0);
  const SeqWork decode{1, 1000, true};
  EXPECT_DOUBLE_EQ(t.step(std::span<const SeqWork>(&decode, 1), 48).moe_per_layer_us, row);
  ModelSpec m;
  m.name = "Qwen3-30B-A3B-Instruct-2507";
  m.num_experts = 128;
  m.experts_per_token = 8;
  EXPECT_EQ(profile_model_mismatch(t, m), "");
  EXPECT_NE(profile_model_mismatch(load_profile_bundle(dir, 2), m).find("no tp2/moe.csv"), std::string::npos);
  m.experts_per_token = 4;
  EXPECT_NE(profile_model_mismatch(t, m).find("moe.csv measures 128 experts, top-8"), std::string::npos);
  m.name = "llama-3.1-8b";
  EXPECT_NE(profile_model_mismatch(t, m).find("the bundle measures Qwen/Qwen3-30B-A3B-Instruct-2507"),
            std::string::npos);
}

// A copy of the real bundle's small files, written under a temp dir, with one file replaced.
fs::path bad_bundle(const std::string& name, const std::string& file, const std::string& text) {
  const fs::path dir = fs::temp_directory_path() / ("kvsim_profile_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir / "tp1");
  fs::copy_file(kBundle / "meta.yaml", dir / "meta.yaml");
  for (const char* f : {"dense.csv", "per_sequence.csv", "attention.csv"})
    fs::copy_file(kBundle / "tp1" / f, dir / "tp1" / f);
  if (!file.empty()) std::ofstream(dir / file) << text;
  return dir;
}

// The message of the InputError that loading `dir` at `tp` throws.
std::string refusal(const fs::path& dir, int tp = 1) {
  try {
    load_profile_bundle(dir, tp);
  } catch (const InputError& e) {
    return e.items().at(0).str();
  }
  return "(accepted)";
}

TEST(ProfileTables, BadBundlesAreRefusedNamingFileAndLine) {
  const auto missing_meta = bad_bundle("meta", "", "");
  fs::remove(missing_meta / "meta.yaml");
  EXPECT_NE(refusal(missing_meta).find("meta.yaml"), std::string::npos) << refusal(missing_meta);
  const auto no_tp = bad_bundle("tp", "", "");
  EXPECT_NE(refusal(no_tp, 2).find("no profile at tensor_parallel 2 (it has: tp1)"), std::string::npos)
      << refusal(no_tp, 2);
  const std::string dense = "layer,tokens,time_us\nembedding,1,2\nfinal_layernorm,1,2\nqkv_proj,1,";
  struct Case {
    std::string name, text, expect;
  } cases[] = {
      {"nan", dense + "fast\n", "dense.csv:4:12: time_us: expected a number (got 'fast')"},
      {"neg", dense + "-3\n", "dense.csv:4:12: time_us: expected a number >= 0 (got '-3')"},
      {"cols", dense + "3,4\n", "dense.csv:4:1: expected 3 columns (layer,tokens,time_us), got 4"},
      {"header", "layer,tokens,us\n", "dense.csv:1:1: header: expected the header 'layer,tokens,time_us'"},
      {"dup", dense + "3\nqkv_proj,1,4\n", "dense.csv:5:10: tokens: layer qkv_proj at tokens 1 is already on line 4"},
  };
  for (const auto& c : cases) {
    const std::string got = refusal(bad_bundle(c.name, "tp1/dense.csv", c.text));
    EXPECT_NE(got.find(c.expect), std::string::npos) << c.name << ": " << got;
  }
}

}  // namespace
}  // namespace kvsim
