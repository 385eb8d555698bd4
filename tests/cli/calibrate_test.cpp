// `kvsim calibrate` and the `fitted` step model end to end: bad bundles refused with exit 2, a hand-written
// coefficient file driving a run, and (in builds with the profile bundle reader) a fit on a real bundle.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/cli/run_kvsim.hpp"

namespace {
using kvsim_test::run;
namespace fs = std::filesystem;

const std::string kSource = std::string(KVSIM_SOURCE_DIR) + "/";
const fs::path kProfiles = fs::path(KVSIM_SOURCE_DIR) / ".." / "shared" / "vllm-runs" / "profiles";

TEST(Calibrate, NotABundleExits2) {
  const fs::path out = kvsim_test::fresh_dir("calibrate_bad") / "fit.json";
  // The output's directory is missing: refused before any work, naming the flag.
  auto r = run("calibrate /nonexistent/bundle -o " + out.string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--out: directory '" + out.parent_path().string() + "' does not exist (or is not a directory)"),
            std::string::npos)
      << r.out;

  fs::create_directories(out.parent_path());
  r = run("calibrate /nonexistent/bundle -o " + out.string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("/nonexistent/bundle"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("is not a directory"), std::string::npos) << r.out;

  r = run("calibrate " + out.parent_path().string() + " -o " + out.string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("holds no meta.yaml"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(out));
}

TEST(Calibrate, UnknownCatalogNamesExit2) {
  const fs::path bundle = kProfiles / "RTX4090" / "meta-llama" / "Llama-3.1-8B" / "bf16";
  ASSERT_TRUE(fs::exists(bundle / "meta.yaml")) << "the profile bundles are missing: " << bundle;
  const fs::path out = kvsim_test::fresh_dir("calibrate_names") / "fit.json";
  fs::create_directories(out.parent_path());
  auto r = run("calibrate " + bundle.string() + " --model llama-9 -o " + out.string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--model"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("llama-3.1-8b"), std::string::npos) << r.out;  // lists the valid ones
  r = run("calibrate " + bundle.string() + " --tp 4 -o " + out.string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("the bundle measured TP 1 only"), std::string::npos) << r.out;
}

// Coefficients making every step last exactly `per_step` seconds (all else 0): a lone user's answer of A tokens
// after its prefill then takes A - 1 steps of it after the first token, whatever the model and GPU.
TEST(FittedStepModel, StepsLastTheirCoefficients) {
  const fs::path dir = kvsim_test::fresh_dir("fitted_run");
  fs::create_directories(dir);
  nlohmann::ordered_json j{
      {"format", "kvsim-fitted-step-model"},
      {"version", 1},
      {"fitted_on", {{"source", "test"}, {"hardware", "x"}, {"model", "y"}, {"tensor_parallel", 1}}}};
  for (const char* k : {"gemm_compute", "gemm_memory", "gemm_roofline", "prefill_attention", "prefill_kv", "decode_kv",
                        "mixed_decode_kv", "per_layer", "per_sequence"}) {
    j["coefficients"][k] = 0.0;
  }
  j["coefficients"]["per_step"] = 0.02;
  std::ofstream(dir / "fit.json") << j.dump(2);
  const auto r = run("run " + kSource + "scenarios/default.yaml --quiet --set workload.arrival.users=1 " +
                     "--set step_model.type=fitted --set step_model.coefficients=" + (dir / "fit.json").string() +
                     " --out " + (dir / "out").string());
  ASSERT_EQ(r.code, 0) << r.out;
  const auto rounds = kvsim_test::csv_rows(dir / "out" / "rounds.csv");
  ASSERT_FALSE(rounds.empty());
  // The 50,100-token prompt fits one step (max_batch_tokens 65536): 0.02 s. 250 answer tokens: the first comes with
  // the prefill, 249 decode steps of 0.02 s follow: 4.98 s.
  const auto& first = rounds.front();
  EXPECT_NEAR(std::stod(first.at("prefill_s")), 0.02, 1e-9) << r.out;
  EXPECT_NEAR(std::stod(first.at("decode_s")), 249 * 0.02, 1e-6) << r.out;
}

// Fast-forward sums identical decode steps through the step model: with fitted coefficients on every term (the
// RTX PRO 6000 Llama-3.1-8B fit's, rounded), every round ends at the same time with it on and off.
TEST(FittedStepModel, FastForwardAgrees) {
  const fs::path dir = kvsim_test::fresh_dir("fitted_ff");
  fs::create_directories(dir);
  nlohmann::ordered_json j{
      {"format", "kvsim-fitted-step-model"},
      {"version", 1},
      {"fitted_on", {{"source", "test"}, {"hardware", "x"}, {"model", "y"}, {"tensor_parallel", 1}}},
      {"coefficients",
       {{"gemm_compute", 0.48},
        {"gemm_memory", 0.54},
        {"gemm_roofline", 0.68},
        {"prefill_attention", 2.9},
        {"prefill_kv", 9.3},
        {"decode_kv", 1.3},
        {"mixed_decode_kv", 2.7},
        {"per_layer", 1e-5},
        {"per_step", 2e-5},
        {"per_sequence", 6e-6}}}};
  std::ofstream(dir / "fit.json") << j.dump(2);
  std::string rounds[2];
  for (int ff = 0; ff < 2; ++ff) {
    const fs::path out = dir / ("out" + std::to_string(ff));
    const auto r = run("run " + kSource + "scenarios/default.yaml --quiet --set step_model.type=fitted " +
                       "--set step_model.coefficients=" + (dir / "fit.json").string() +
                       " --set scheduler.fast_forward=" + (ff ? "true" : "false") + " --out " + out.string());
    ASSERT_EQ(r.code, 0) << r.out;
    rounds[ff] = kvsim_test::slurp(out / "rounds.csv");
  }
  EXPECT_GT(rounds[0].size(), 1000u);
  EXPECT_EQ(rounds[0], rounds[1]);
}

// The fit on the RTX 4090's Llama-3.1-8B bundle: every coefficient written, and the fit within 6% mean relative
// error on its own shapes (docs/validation.md: 4.55%; prefill 4.2%, decode 2.6%, mixed 10.4%).
TEST(Calibrate, FitsARealBundle) {
  const fs::path bundle = kProfiles / "RTX4090" / "meta-llama" / "Llama-3.1-8B" / "bf16";
  ASSERT_TRUE(fs::exists(bundle / "meta.yaml")) << "the profile bundles are missing: " << bundle;
  const fs::path out = kvsim_test::fresh_dir("calibrate_real") / "fit.json";
  fs::create_directories(out.parent_path());
  const auto r = run("calibrate " + bundle.string() + " -o " + out.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(kvsim_test::slurp(out));
  EXPECT_EQ(j["coefficients"].size(), 10u);
  EXPECT_EQ(j["fitted_on"]["model"], "llama-3.1-8b");
  EXPECT_LT(j["fit_error"]["all"]["mean"].get<double>(), 0.06) << r.out;
}

// Qwen3-30B-A3B: found in the catalog by its Hugging Face name (Qwen/Qwen3-30B-A3B-Instruct-2507), fitted at tp1;
// at tp2 the bundle has no moe.csv, so its step times would leave the experts out: refused, naming the file.
TEST(Calibrate, MoeBundleFitsWhereItsMoeTableIsAndIsRefusedWhereNot) {
  const fs::path bundle = kProfiles / "RTXPRO6000" / "Qwen" / "Qwen3-30B-A3B-Instruct-2507" / "bf16";
  ASSERT_TRUE(fs::exists(bundle / "meta.yaml")) << "the profile bundles are missing: " << bundle;
  const fs::path out = kvsim_test::fresh_dir("calibrate_moe") / "fit.json";
  fs::create_directories(out.parent_path());
  auto r = run("calibrate " + bundle.string() + " -o " + out.string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(nlohmann::json::parse(kvsim_test::slurp(out))["fitted_on"]["model"], "qwen3-30b-a3b");
  fs::remove(out);
  r = run("calibrate " + bundle.string() + " --tp 2 -o " + out.string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("no tp2/moe.csv"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
