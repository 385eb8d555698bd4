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
      "capacity " + kScenario + " --slo ttft_p90=30s --replicates 2 --horizon 1h --precision 0.1";
  const fs::path with = fresh_dir("early_stop_on"), without = fresh_dir("early_stop_off");
  const auto a = run(search + " --out " + with.string());
  ASSERT_EQ(a.code, 0) << a.out;
  const auto b = run(search + " --no-early-stop --out " + without.string());
  ASSERT_EQ(b.code, 0) << b.out;
  const auto ra = kvsim_test::csv_rows(with / "capacity.csv"), rb = kvsim_test::csv_rows(without / "capacity.csv");
  ASSERT_EQ(ra.size(), 1u);
  ASSERT_EQ(rb.size(), 1u);
  ASSERT_EQ(ra[0].at("status"), "found");
  // The search took the same path, so every rate it reports is the same, digit for digit.
  for (const std::string col : {"max_rate_per_hour", "max_rate_ci_low_per_hour", "max_rate_ci_high_per_hour",
                                "fail_rate_per_hour", "probes", "ttft_p90_s"}) {
    EXPECT_EQ(ra[0].at(col), rb[0].at(col)) << col;
  }
  // The probes had the same verdicts; some were stopped early (doubling from 10/h overshoots), none without it.
  const auto pa = kvsim_test::csv_rows(with / "probes.csv"), pb = kvsim_test::csv_rows(without / "probes.csv");
  ASSERT_EQ(pa.size(), pb.size());
  int stopped = 0;
  for (std::size_t i = 0; i < pa.size(); ++i) {
    EXPECT_EQ(pa[i].at("rate_per_hour"), pb[i].at("rate_per_hour")) << i;
    EXPECT_EQ(pa[i].at("verdict"), pb[i].at("verdict")) << i;
    EXPECT_EQ(pa[i].at("mean_meets"), pb[i].at("mean_meets")) << i;
    EXPECT_EQ(pb[i].at("stopped_early"), "0") << i;
    if (pa[i].at("stopped_early") == "0") continue;
    ++stopped;
    EXPECT_EQ(pa[i].at("stopped_early"), "2") << i;  // all replicates or none
    EXPECT_EQ(pa[i].at("why").rfind("stopped early: ", 0), 0u) << pa[i].at("why");
  }
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
