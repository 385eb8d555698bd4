// The accuracy docs/validation.md reports: `kvsim replay` of both real vLLM runs of /work/shared/vllm-runs with the
// matching kernel profile (bound 5%) and with a model calibrated on that profile (bound 10%), on mean, p50 and p90
// of TTFT, TPOT and latency. The one figure the docs show missing, the RTX PRO 6000's TTFT p50 (-6.5% profiled,
// -14.3% fitted: its early completions come from the arrival burst's mixed steps, which the eager-mode kernel
// tables time too fast), is held to the figure the docs give plus one point, so a change that makes it worse fails.
// The RTX 4090 run must preempt, and its queue and KV timelines must follow timeseries.csv.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/cli/run_kvsim.hpp"

namespace {
using kvsim_test::run;
namespace fs = std::filesystem;

const fs::path kData = fs::path(KVSIM_SOURCE_DIR) / ".." / "shared" / "vllm-runs";

fs::path run_dir(const std::string& gpu) {
  return kData / "runs" / gpu / "Llama-3.1-8B";
}
fs::path bundle(const std::string& gpu) {
  return kData / "profiles" / gpu / "meta-llama" / "Llama-3.1-8B" / "bf16";
}

nlohmann::json replay(const std::string& gpu, const std::string& step_args, const std::string& tag) {
  const auto out = kvsim_test::fresh_dir("validate_" + tag);
  const auto r = run("replay " + run_dir(gpu).string() + " " + step_args + " --quiet --out " + out.string());
  EXPECT_EQ(r.code, 0) << r.out;
  return nlohmann::json::parse(kvsim_test::slurp(out / "comparison.json"));
}

nlohmann::json calibrated_replay(const std::string& gpu) {
  const auto dir = kvsim_test::fresh_dir("calibrate_" + gpu);
  fs::create_directories(dir);
  const fs::path file = dir / "fit.json";
  const auto r = run("calibrate " + bundle(gpu).string() + " -o " + file.string());
  EXPECT_EQ(r.code, 0) << r.out;
  return replay(gpu, "--step-model fitted:" + file.string(), gpu + "_fitted");
}

// Checks |error| <= bound on mean, p50, p90 of each metric; `exceptions` holds metric/stat pairs with their own bound.
void expect_within(const nlohmann::json& c, double bound, const std::map<std::string, double>& exceptions = {}) {
  for (const char* metric : {"ttft_s", "tpot_s", "latency_s"}) {
    for (const char* stat : {"mean", "p50", "p90"}) {
      const std::string key = std::string(metric) + "/" + stat;
      const auto it = exceptions.find(key);
      const double b = it == exceptions.end() ? bound : it->second;
      const double err = c["metrics"][metric][stat]["error"].get<double>();
      EXPECT_LE(std::abs(err), b) << key << ": measured " << c["metrics"][metric][stat]["measured"] << ", simulated "
                                  << c["metrics"][metric][stat]["simulated"];
    }
  }
}

TEST(ReplayValidation, ProfiledIsWithinFivePercentOnBothRuns) {
  ASSERT_TRUE(fs::is_directory(kData / "runs")) << "the test needs " << kData;
  expect_within(replay("RTX4090", "--profile " + bundle("RTX4090").string(), "4090_profiled"), 0.05);
  // docs/validation.md: -6.5%, explained there.
  expect_within(replay("RTXPRO6000", "--profile " + bundle("RTXPRO6000").string(), "pro_profiled"), 0.05,
                {{"ttft_s/p50", 0.075}});
}

TEST(ReplayValidation, FittedIsWithinTenPercentOnBothRuns) {
  ASSERT_TRUE(fs::is_directory(kData / "runs")) << "the test needs " << kData;
  expect_within(calibrated_replay("RTX4090"), 0.10);
  // docs/validation.md: -14.3%, explained there.
  expect_within(calibrated_replay("RTXPRO6000"), 0.10, {{"ttft_s/p50", 0.153}});
}

// 2,588 blocks of 16 tokens for 300 requests of 857 + 653 tokens on average: the pool holds about 27 requests at
// their full length, so the replay must preempt; the docs report 190 preemptions of 115 requests. Timelines: vLLM's
// running, waiting and KV use peak at 48, 232 and 99.8%; the profiled replay's RMSEs are 1.9, 3.1 and 3.7 (bounds
// at about twice those), the roofline's 11.8, 21.6 and 24.0.
TEST(ReplayValidation, TheRtx4090RunPreemptsAndItsTimelinesFollowTheRun) {
  ASSERT_TRUE(fs::is_directory(kData / "runs")) << "the test needs " << kData;
  const auto c = replay("RTX4090", "--profile " + bundle("RTX4090").string(), "4090_timeline");
  EXPECT_GE(c["counts"]["preemptions_simulated"].get<double>(), 100);
  EXPECT_GE(c["counts"]["preempted_requests_simulated"].get<double>(), 50);
  EXPECT_LE(c["timeseries"]["running_rmse"].get<double>(), 4.0);
  EXPECT_LE(c["timeseries"]["waiting_rmse"].get<double>(), 8.0);
  EXPECT_LE(c["timeseries"]["kv_use_pct_rmse"].get<double>(), 8.0);
}

}  // namespace
