// `kvsim capacity`: the rate it reports meets the SLOs and the next one it tried does not, as separate runs show.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "tests/cli/run_kvsim.hpp"

namespace {
namespace fs = std::filesystem;
using kvsim_test::fresh_dir;
using kvsim_test::run;
using kvsim_test::slurp;

const std::string& kScenario = kvsim_test::kDefaultScenario;

// The mean ttft p90 of plain `kvsim run`s at `rate` sessions per hour, one per replicate seed 1 + r x 1000003 (the
// default scenario's seed is 1), each over 2 h: what capacity's replicates of a probe at that rate ran.
double mean_ttft_p90_at(double rate, int replicates, const std::string& dir_name) {
  double sum = 0;
  for (int r = 0; r < replicates; ++r) {
    const fs::path d = fresh_dir(fmt::format("{}_{}", dir_name, r));
    const auto out = run("run " + kScenario + " --quiet --set workload.duration=2h --set workload.arrival.type=poisson" +
                         fmt::format(" --set workload.arrival.rate={:.6g}/h --seed {} --out {}", rate, 1 + r * 1000003,
                                     d.string()));
    EXPECT_EQ(out.code, 0) << out.out;
    sum += nlohmann::json::parse(slurp(d / "summary.json"))["ttft"]["p90_s"].get<double>();
  }
  return sum / replicates;
}

TEST(CapacityCli, TheEstimateMeetsTheSloOnAverageAndItsIntervalBracketsIt) {
  const fs::path dir = fresh_dir("capacity");
  const auto r = run("capacity " + kScenario +
                     " --slo ttft_p90=30s --replicates 3 --horizon 2h --precision 0.05 --out " + dir.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const auto rows = kvsim_test::csv_rows(dir / "capacity.csv");
  ASSERT_EQ(rows.size(), 1u);
  const auto at = [&](const std::string& name) { return std::stod(rows[0].at(name)); };
  ASSERT_EQ(rows[0].at("status"), "found");
  const double pass = at("max_rate_per_hour"), fail = at("fail_rate_per_hour");
  EXPECT_LE((fail - pass) / fail, 0.05 + 1e-12);
  EXPECT_GT(fail, pass);
  // A sure pass has a passing mean and a sure miss a failing one, so the interval holds the estimate's bracket.
  EXPECT_LE(at("max_rate_ci_low_per_hour"), pass);
  EXPECT_GE(at("max_rate_ci_high_per_hour"), fail);
  EXPECT_EQ(at("replicates"), 3);
  EXPECT_EQ(at("horizon_s"), 7200);
  // Independent runs at both rates with the replicates' seeds: the mean flips across the SLO between them.
  const double at_pass = mean_ttft_p90_at(pass, 3, "capacity_pass"), at_fail = mean_ttft_p90_at(fail, 3, "capacity_fail");
  EXPECT_LE(at_pass, 30.0);
  EXPECT_GT(at_fail, 30.0);
  EXPECT_NEAR(at("ttft_p90_s"), at_pass, 1e-9 * at_pass);  // capacity.csv keeps 10 digits
  // Every probe's verdict is on its interval: a "meets" probe's upper end is under the bound.
  for (const auto& p : kvsim_test::csv_rows(dir / "probes.csv")) {
    if (p.at("verdict") != "meets") continue;
    EXPECT_LE(std::stod(p.at("ttft_p90_s")) + std::stod(p.at("ttft_p90_s_ci95")), 30.0) << p.at("rate_per_hour");
  }
}

TEST(CapacityCli, BadObjectivesExit2) {
  for (const std::string bad : {"ttft_p95=30s", "ttft_p90=30", "decode_rate_p50=6GBps", "ttft_p90", "ttft_p90=-1s",
                                "ttft_p90=30s,ttft_p90=20s", "ttft_attainment=150%", "decode_rate_p50=0tok/s"}) {
    const fs::path dir = fresh_dir("capacity_bad");
    const auto r = run("capacity " + kScenario + " --slo " + bad + " --out " + dir.string());
    EXPECT_EQ(r.code, 2) << bad << "\n" << r.out;
    EXPECT_NE(r.out.find("--slo"), std::string::npos) << r.out;
    EXPECT_FALSE(fs::exists(dir));
  }
  const auto r = run("capacity " + kScenario + " --slo ttft_p90=30s --param workload.arrival.rate=1/h,2/h");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("capacity searches the arrival rate itself"), std::string::npos) << r.out;
}

}  // namespace
