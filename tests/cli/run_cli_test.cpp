// `kvsim run` as a user runs it: determinism, the exit code and absence of outputs on bad input, and the
// closed-loop saturation curve of the paper's example. Each run is its own process.
#include <gtest/gtest.h>

#include "tests/cli/run_kvsim.hpp"

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace {
namespace fs = std::filesystem;

using kvsim_test::Result;
using kvsim_test::run;

using kvsim_test::fresh_dir;
using kvsim_test::slurp;

const std::string& kScenario = kvsim_test::kDefaultScenario;

TEST(CliRun, SameSeedGivesByteIdenticalOutputs) {
  const fs::path a = fresh_dir("det_a"), b = fresh_dir("det_b");
  ASSERT_EQ(run("run " + kScenario + " --audit --quiet --seed 7 --out " + a.string()).code, 0);
  ASSERT_EQ(run("run " + kScenario + " --audit --quiet --seed 7 --out " + b.string()).code, 0);
  for (const char* f : {"summary.json", "sessions.csv", "rounds.csv", "timeline.csv", "transfers.csv"}) {
    EXPECT_FALSE(slurp(a / f).empty()) << f;
    EXPECT_EQ(slurp(a / f), slurp(b / f)) << f;
  }
}

TEST(CliRun, SummaryHasTheDocumentedKeys) {
  const fs::path d = fresh_dir("keys");
  ASSERT_EQ(run("run " + kScenario + " --quiet --out " + d.string()).code, 0);
  const auto j = nlohmann::json::parse(slurp(d / "summary.json"));
  for (const char* k : {"/session_throughput_per_hour", "/sessions_completed", "/rounds_completed",
                        "/concurrency/mean_resident", "/concurrency/max_resident", "/concurrency/mean_active",
                        "/prefill/mean_s", "/prefill/p50_s", "/prefill/p99_s", "/decode/mean_s", "/decode/tpot_p50_s",
                        "/decode/rate_p50_tok_per_s", "/decode/rate_p10_tok_per_s",
                        "/ttft/p50_s", "/ttft/p90_s", "/ttft/p99_s", "/swap/bytes_out", "/swap/bytes_in",
                        "/swap/count", "/swap/total_s", "/swap/stall_mean_s", "/utilization/gpu_compute",
                        "/utilization/hbm_bandwidth", "/utilization/host_link", "/time_breakdown/prefill",
                        "/time_breakdown/decode", "/time_breakdown/idle", "/time_breakdown/stalled",
                        "/slo/ttft_attainment", "/slo/decode_rate_attainment"}) {
    EXPECT_TRUE(j.contains(nlohmann::json::json_pointer(k))) << k;
  }
  // The GPU time breakdown covers the whole window.
  const double sum = j["time_breakdown"]["prefill"].get<double>() + j["time_breakdown"]["decode"].get<double>() +
                     j["time_breakdown"]["idle"].get<double>() + j["time_breakdown"]["stalled"].get<double>();
  EXPECT_NEAR(sum, 1.0, 1e-9);
}

TEST(CliRun, ReportAndSummaryNameTheModelVariant) {
  // The default scenario runs yi-34b-200k, the paper's simplified Yi-34B (32 query heads, not the checkpoint's 56).
  const fs::path d = fresh_dir("variant");
  const Result r = run("run " + kScenario + " --out " + d.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string variant =
      "the paper's simplified Yi-34B (32 query heads, 34B params); the real checkpoint is yi-34b-200k-hf";
  EXPECT_NE(r.out.find("  model variant: " + variant + "\n"), std::string::npos) << r.out;
  const auto j = nlohmann::json::parse(slurp(d / "summary.json"));
  EXPECT_EQ(j["scenario"]["model_variant"], variant);
  EXPECT_EQ(j["scenario"]["model_max_context"], 200000);
  // A scenario that changes the model says so: 56 query heads make it the real checkpoint's attention width.
  const fs::path e = fresh_dir("variant_set");
  const Result set = run("run " + kScenario + " --quiet --out " + e.string() + " --set model.num_attention_heads=56");
  ASSERT_EQ(set.code, 0) << set.out;
  EXPECT_EQ(nlohmann::json::parse(slurp(e / "summary.json"))["scenario"]["model_variant"],
            variant + "; the scenario sets model.num_attention_heads=56");
}

TEST(CliRun, BadInputExitsWith2AndWritesNothing) {
  const fs::path d = fresh_dir("bad");
  for (const std::string set : {"hardware.gpu=a100", "workload.think_time=-5s", "workload.rounds=0",
                                "scheduler.kv_offload.policy=swapp", "hardware.host_link.bandwidth=20s",
                                "workload.arival.rate=1/s", "model=yi-34b"}) {
    const Result r = run("run " + kScenario + " --out " + d.string() + " --set " + set);
    EXPECT_EQ(r.code, 2) << set << "\n" << r.out;
    EXPECT_NE(r.out.find("error:"), std::string::npos) << set << "\n" << r.out;
    EXPECT_FALSE(fs::exists(d)) << set;
  }
}

TEST(CliRun, ImpossibleDeploymentsShowTheArithmetic) {
  const fs::path d = fresh_dir("impossible");
  Result r = run("run " + kScenario + " --out " + d.string() + " --set hardware.gpu=rtx-4090");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("weights do not fit"), std::string::npos) << r.out;
  r = run("run " + kScenario + " --out " + d.string() + " --set workload.document_tokens=150K");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("can never fit"), std::string::npos) << r.out;
  // 200K + 5 x (100 + 250) tokens: longer than Yi-34B-200K's 200000-token context, whatever the hardware.
  r = run("run " + kScenario + " --out " + d.string() + " --set workload.document_tokens=200K --set hardware.gpu=b200");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("= 201750 tokens > yi-34b-200k's context 200000"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(d));
}

double throughput(int users) {
  const fs::path d = fresh_dir("curve" + std::to_string(users));
  const std::string scenario = std::string(KVSIM_SOURCE_DIR) + "/scenarios/paper/yi34b-50k-a100.yaml";
  const Result r = run("run " + scenario + " --audit --quiet --out " + d.string() +
                       " --set workload.duration=3h --set workload.warmup=30min --set workload.arrival.users=" +
                       std::to_string(users));
  EXPECT_EQ(r.code, 0) << r.out;
  return nlohmann::json::parse(slurp(d / "summary.json"))["session_throughput_per_hour"].get<double>();
}

TEST(CliRun, ClosedLoopThroughputRisesThenSaturates) {
  // One 50K session fits on the A100: one user leaves the GPU idle while thinking, more users fill the idle time,
  // and past about six the GPU is busy and users only queue. docs/paper-example.md shows the whole curve.
  const double t1 = throughput(1), t2 = throughput(2), t4 = throughput(4), t8 = throughput(8), t16 = throughput(16);
  EXPECT_GT(t2, 1.3 * t1);
  EXPECT_GT(t4, 1.1 * t2);
  EXPECT_GT(t8, t4);
  // Saturated: within 10%. Completions are counted in a 2.5 h window, and with 16 users a session lasts about
  // 20 minutes, so the sessions in flight at either end of the window move the count by several percent.
  EXPECT_NEAR(t16, t8, 0.1 * t8);
}

}  // namespace
