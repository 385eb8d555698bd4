// The early stop from the command line: `kvsim capacity` gives the same answer with and without it, and records
// which probes it stopped; `kvsim run --early-stop` says why in summary.json and on the console.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/cli/run_kvsim.hpp"

namespace {
namespace fs = std::filesystem;
using kvsim_test::fresh_dir;
using kvsim_test::run;
using kvsim_test::slurp;

const std::string& kScenario = kvsim_test::kDefaultScenario;

TEST(EarlyStopCli, CapacityGivesTheSameAnswerWithAndWithoutEarlyStop) {
  const std::string search =
      "capacity " + kScenario + " --slo ttft_p90=30s --replicates 2 --horizon 1h --precision 0.2 --max-runs 10";
  const fs::path with = fresh_dir("early_stop_on"), without = fresh_dir("early_stop_off");
  const auto a = run(search + " --out " + with.string());
  ASSERT_EQ(a.code, 0) << a.out;
  const auto b = run(search + " --no-early-stop --out " + without.string());
  ASSERT_EQ(b.code, 0) << b.out;
  const auto ra = kvsim_test::csv_rows(with / "capacity.csv"), rb = kvsim_test::csv_rows(without / "capacity.csv");
  ASSERT_EQ(ra.size(), 1u);
  ASSERT_EQ(rb.size(), 1u);
  ASSERT_EQ(ra[0].at("status"), "found");
  // The estimate and its bracket are the same, digit for digit, and so are the figures at the estimate (a stopped
  // probe misses, so it is never the estimate).
  for (const std::string col : {"max_rate_per_hour", "max_rate_ci_low_per_hour", "fail_rate_per_hour", "ttft_p90_s",
                                "ttft_p90_s_ci95", "session_throughput_per_hour"}) {
    EXPECT_EQ(ra[0].at(col), rb[0].at(col)) << col;
  }
  // A probe whose replicates all stopped is judged a sure miss; full runs of 2 replicates (t = 12.7) call most such
  // probes "uncertain", so the interval's high end can only come down (here 50/h against 320/h).
  EXPECT_LE(std::stod(ra[0].at("max_rate_ci_high_per_hour")), std::stod(rb[0].at("max_rate_ci_high_per_hour")));
  // Every rate probed in both: the same mean verdict, and the same verdict unless the early stop ended it.
  const auto pa = kvsim_test::csv_rows(with / "probes.csv"), pb = kvsim_test::csv_rows(without / "probes.csv");
  int stopped = 0, compared = 0;
  for (const auto& x : pa) {
    stopped += x.at("stopped_early") == "0" ? 0 : 1;
    if (x.at("stopped_early") != "0") {
      EXPECT_EQ(x.at("stopped_early"), "2");  // all replicates or none
      EXPECT_NE(x.at("why").find("stopped early: "), std::string::npos) << x.at("why");
    }
    for (const auto& y : pb) {
      if (y.at("rate_per_hour") != x.at("rate_per_hour")) continue;
      ++compared;
      EXPECT_EQ(y.at("stopped_early"), "0");
      EXPECT_EQ(x.at("mean_meets"), y.at("mean_meets")) << x.at("rate_per_hour");
      if (x.at("stopped_early") == "0") EXPECT_EQ(x.at("verdict"), y.at("verdict")) << x.at("rate_per_hour");
    }
  }
  EXPECT_GE(compared, 8);
  EXPECT_GE(stopped, 1);
  EXPECT_NE(a.out.find("(stopped early: "), std::string::npos) << a.out;
}

TEST(EarlyStopCli, RunSaysWhyItStopped) {
  const fs::path dir = fresh_dir("early_stop_run");
  const auto r = run("run " + kScenario +
                     " --set workload.arrival.type=poisson --set workload.arrival.rate=200/h --set "
                     "workload.duration=2h --early-stop ttft_p90=30s --out " +
                     dir.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(slurp(dir / "summary.json"));
  ASSERT_TRUE(j.contains("stopped_early")) << j.dump(2);
  const std::string why = j["stopped_early"]["reason"].get<std::string>();
  EXPECT_TRUE(why.rfind("ttft_p90 already missed", 0) == 0 || why.rfind("queue growing without bound", 0) == 0) << why;
  EXPECT_LT(j["stopped_early"]["at_s"].get<double>(), 7200);
  EXPECT_NE(r.out.find("stopped early at "), std::string::npos) << r.out;
  // Without a TTFT percentile there is nothing it can stop on: refused, exit 2.
  const auto bad = run("run " + kScenario + " --early-stop decode_rate_p50=6tok/s --out " + dir.string());
  EXPECT_EQ(bad.code, 2) << bad.out;
  EXPECT_NE(bad.out.find("--early-stop"), std::string::npos) << bad.out;
}

}  // namespace
