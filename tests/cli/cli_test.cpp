// The kvsim binary as a user runs it: output formats, the Done-when example, and exit code 2 on bad input.
#include <gtest/gtest.h>

#include "tests/cli/run_kvsim.hpp"

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace {

using kvsim_test::Result;
using kvsim_test::run;

TEST(CliAnalyze, PaperExampleJson) {
  const auto r = run("analyze --model yi-34b-200k --gpu a100-sxm-80g --context 50000 --format json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto row = nlohmann::json::parse(r.out)["rows"][0];
  EXPECT_DOUBLE_EQ(row["kv_bytes"].get<double>(), 12288000000.0);
  // Eq. 7-8: 4.6288 PFLOP / 312 TFLOP/s.
  EXPECT_NEAR(row["prefill_s"].get<double>(), 4.6288e15 / 312e12, 1e-9);
  // 250 steps reading 68 GB of weights and 50001..50250 tokens of KV at 2.039 TB/s.
  const double decode = (250 * 68e9 + 245760.0 * (250 * 50000.0 + 250 * 251 / 2.0)) / 2.039e12;
  EXPECT_NEAR(row["decode_s"].get<double>(), decode, 1e-9);
  EXPECT_NEAR(row["decode_s"].get<double>(), 9.85, 0.01);
  // Context switch over the catalog's PCIe gen4 x16, 31.5 GB/s per direction.
  EXPECT_NEAR(row["context_switch_s"].get<double>(), 2 * 12.288e9 / 31.5e9, 1e-9);
  EXPECT_EQ(row["prefill_bound"], "compute");
  EXPECT_EQ(row["decode_bound"], "memory");
}

TEST(CliAnalyze, PaperPcieFigure) {
  const auto r = run("analyze --model yi-34b-200k --gpu a100-sxm-80g --host-link-bw 20GBps --format json");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NEAR(nlohmann::json::parse(r.out)["rows"][0]["context_switch_s"].get<double>(), 1.2288, 1e-9);
}

TEST(CliAnalyze, SweepGivesTheProductAsCsv) {
  const auto r = run("analyze --model yi-34b-200k --sweep context=4K,50K,100K,200K,1M --sweep tp=1,2,4,8 --format csv");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1 + 5 * 4);
  EXPECT_EQ(r.out.rfind("model,gpu,tensor_parallel,host_link,context_tokens,", 0), 0u) << r.out;
}

TEST(CliAnalyze, TableNamesTheBounds) {
  const auto r = run("analyze --model yi-34b-200k --context 4K,50K");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("(compute)"), std::string::npos);
  EXPECT_NE(r.out.find("(memory)"), std::string::npos);
  EXPECT_NE(r.out.find("(capacity)"), std::string::npos);
}

TEST(CliAnalyze, BadInputExitsWith2) {
  for (const char* args : {"analyze --model nope", "analyze --model yi-34b-200k --gpu a100",
                           "analyze --model yi-34b-200k --context -5", "analyze --model yi-34b-200k --sweep foo=1",
                           "analyze --model yi-34b-200k --host-link-bw 20s", "analyze --format xml", "bogus",
                           "analyze --model yi-34b-200k --tp 0"}) {
    const auto r = run(args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.out;
    EXPECT_NE(r.out.find("rror"), std::string::npos) << args << "\n" << r.out;
  }
}

// A scenario of Yi-34B (the paper's variant) on one A100 with an 8K document and 120-token answers.
std::string doc8k_scenario(const std::string& test) {
  const auto dir = kvsim_test::fresh_dir("analyze_doc8k_" + test);
  std::filesystem::create_directories(dir);
  const auto file = dir / "doc8k.yaml";
  std::ofstream(file) << "model: yi-34b-200k\nhardware: {gpu: a100-sxm-80g}\n"
                         "workload: {document_tokens: 8K, question_tokens: 100, answer_tokens: 120, rounds: 5,\n"
                         "           arrival: {type: closed, users: 1}}\n";
  return file.string();
}

TEST(CliAnalyze, ScenarioGivesTheDocumentAndAnswerLengths) {
  const auto r = run("analyze " + doc8k_scenario("lengths") + " --format json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto row = nlohmann::json::parse(r.out)["rows"][0];
  EXPECT_EQ(row["context_tokens"].get<double>(), 8000);
  EXPECT_EQ(row["answer_tokens"].get<double>(), 120);
  // Eq. 1: 2 (K and V) x 60 layers x 8 KV heads x 128 head dim x 2 bytes x 8000 tokens.
  const double kv = 2.0 * 60 * 8 * 128 * 2 * 8000;
  EXPECT_DOUBLE_EQ(row["kv_bytes"].get<double>(), kv);
  // Eq. 7 with the scenario's attention count, the default causal (each token attends to itself and the tokens
  // before it): context x 2 x 34B params + 2 x 60 layers x 4096 width x context x (context + 1) / 2, then Eq. 8 at
  // the A100's 312 TFLOP/s (compute bound). The relative tolerance is double rounding only.
  const double flops = 8000 * 2 * 34e9 + 2.0 * 60 * 4096 * 8000 * 8001 / 2;
  EXPECT_NEAR(row["prefill_flops"].get<double>(), flops, 1e-12 * flops);
  EXPECT_NEAR(row["prefill_s"].get<double>(), flops / 312e12, 1e-12 * flops / 312e12);
  // Eq. 13 over the scenario's 120 answer tokens: each step reads 68 GB of weights and 8001..8120 tokens of KV.
  const double decode = (120 * 68e9 + 245760.0 * (120 * 8000.0 + 120 * 121 / 2.0)) / 2.039e12;
  EXPECT_NEAR(row["decode_s"].get<double>(), decode, 1e-12 * decode);
  EXPECT_DOUBLE_EQ(row["model_max_context"].get<double>(), 200000);
  EXPECT_NE(row["model_variant"].get<std::string>().find("paper's simplified Yi-34B"), std::string::npos);
}

TEST(CliAnalyze, FlagsOverrideTheScenarioLengths) {
  const auto r = run("analyze " + doc8k_scenario("flags") + " --context 4K --answer-tokens 250 --format json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto row = nlohmann::json::parse(r.out)["rows"][0];
  EXPECT_EQ(row["context_tokens"].get<double>(), 4000);
  EXPECT_EQ(row["answer_tokens"].get<double>(), 250);
  EXPECT_DOUBLE_EQ(row["kv_bytes"].get<double>(), 245760.0 * 4000);
}

TEST(CliAnalyze, TableNamesTheVariantAndTheWhatIfRows) {
  const auto r = run("analyze --model yi-34b-200k --context 50K,200K,1M");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("model yi-34b-200k: the paper's simplified Yi-34B"), std::string::npos) << r.out;
  // 200000 + a 250-token answer is past the 200000-token context, as is 1M; 50K is not.
  EXPECT_NE(r.out.find("the rows at 200000, 1000000 tokens exceed yi-34b-200k's context of 200000 tokens"),
            std::string::npos)
      << r.out;
}

TEST(CliAnalyze, UnknownModelSuggests) {
  const auto r = run("analyze --model yi-34b");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("valid:"), std::string::npos) << r.out;
}

}  // namespace
