// The kvsim binary as a user runs it: output formats, the Done-when example, and exit code 2 on bad input.
#include <gtest/gtest.h>

#include "tests/cli/run_kvsim.hpp"

#include <array>
#include <cstdio>
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

TEST(CliAnalyze, UnknownModelSuggests) {
  const auto r = run("analyze --model yi-34b");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("valid:"), std::string::npos) << r.out;
}

}  // namespace
