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

// ttft p90 of a plain `kvsim run` at `rate` sessions per hour.
double ttft_p90_at(double rate, const std::string& dir_name) {
  const fs::path d = fresh_dir(dir_name);
  const auto r = run("run " + kScenario + " --quiet --set workload.duration=2h --set workload.arrival.type=poisson" +
                     fmt::format(" --set workload.arrival.rate={:.6g}/h --out {}", rate, d.string()));
  EXPECT_EQ(r.code, 0) << r.out;
  return nlohmann::json::parse(slurp(d / "summary.json"))["ttft"]["p90_s"].get<double>();
}

TEST(CapacityCli, TheReportedRateMeetsTheSloAndTheFailingRateMissesIt) {
  const fs::path dir = fresh_dir("capacity");
  const auto r = run("capacity " + kScenario +
                     " --slo ttft_p90=30s --set workload.duration=2h --precision 0.05"
                     " --out " +
                     dir.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const auto rows = kvsim_test::csv_rows(dir / "capacity.csv");
  ASSERT_EQ(rows.size(), 1u);
  const auto at = [&](const std::string& name) { return rows[0].at(name); };
  ASSERT_EQ(at("status"), "found");
  const double pass = std::stod(at("max_rate_per_hour")), fail = std::stod(at("fail_rate_per_hour"));
  EXPECT_LE((fail - pass) / fail, 0.05 + 1e-12);
  EXPECT_GT(fail, pass);
  // Independent runs at both rates: the SLO flips between them.
  const double at_pass = ttft_p90_at(pass, "capacity_pass"), at_fail = ttft_p90_at(fail, "capacity_fail");
  EXPECT_LE(at_pass, 30.0);
  EXPECT_GT(at_fail, 30.0);
  EXPECT_NEAR(std::stod(at("ttft_p90_s")), at_pass, 1e-9 * at_pass);  // capacity.csv keeps 10 digits
}

TEST(CapacityCli, BadObjectivesExit2) {
  for (const std::string bad : {"ttft_p95=30s", "ttft_p90=30", "decode_rate_p50=6GBps", "ttft_p90"}) {
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
