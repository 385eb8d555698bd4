// `kvsim capacity`'s statistics and search, against hand-computed t-intervals and a synthetic SLO curve whose
// crossing points are known in closed form.
#include <gtest/gtest.h>

#include <cmath>

#include "sim/cli/capacity_search.hpp"

namespace kvsim::cli {
namespace {

const Slo kTtft{"ttft_p90", "/ttft/p90_s", true, 30.0, "30s", "ttft_p90_s"};

std::vector<nlohmann::json> summaries(const std::vector<double>& ttft_p90) {
  std::vector<nlohmann::json> out;
  for (double v : ttft_p90) out.push_back({{"rounds_completed", 10.0}, {"ttft", {{"p90_s", v}}}});
  return out;
}

TEST(CapacityStats, MeanAndHalfWidthAreStudentsT) {
  // 1..5: mean 3, s = sqrt(2.5), half = t(0.975, 4) s / sqrt(5) = 2.776 x 1.58114 / 2.23607 = 1.96292.
  const MeanCi m = mean_ci({1, 2, 3, 4, 5});
  EXPECT_DOUBLE_EQ(m.mean, 3.0);
  EXPECT_NEAR(m.half, 2.776 * std::sqrt(2.5) / std::sqrt(5.0), 1e-12);
  EXPECT_DOUBLE_EQ(mean_ci({7}).half, 0.0);  // one replicate: no interval, the mean decides
}

TEST(CapacityStats, AProbeIsJudgedOnItsInterval) {
  // Three replicates 2 apart: s = 2, half = 4.303 x 2 / sqrt(3) = 4.969.
  const Judgement meets = judge({kTtft}, summaries({20, 22, 24}));  // [17.03, 26.97] <= 30
  EXPECT_EQ(meets.verdict, Verdict::kMeets);
  EXPECT_TRUE(meets.mean_meets);
  const Judgement straddles = judge({kTtft}, summaries({27, 29, 31}));  // [24.03, 33.97] holds 30
  EXPECT_EQ(straddles.verdict, Verdict::kUncertain);
  EXPECT_TRUE(straddles.mean_meets);
  EXPECT_NE(straddles.why.find("straddles"), std::string::npos) << straddles.why;
  const Judgement misses = judge({kTtft}, summaries({36, 38, 40}));  // [33.03, 42.97] > 30
  EXPECT_EQ(misses.verdict, Verdict::kMisses);
  EXPECT_FALSE(misses.mean_meets);
  auto idle = summaries({1, 1, 1});
  idle[1]["rounds_completed"] = 0.0;
  EXPECT_EQ(judge({kTtft}, idle).verdict, Verdict::kMisses);
}

// Runs a search against TTFT p90 = rate (seconds per session/h) with replicates at rate - 2, rate, rate + 2.
CapacitySearch search_linear(double precision) {
  CapacitySearch s(10, precision, 60);
  while (!s.done()) {
    const double r = s.next();
    s.record(true, judge({kTtft}, summaries({r - 2, r, r + 2})));
  }
  return s;
}

TEST(CapacitySearch, BracketsTheEstimateAndBothEndsOfTheInterval) {
  // The mean crosses 30 at rate 30; the interval (half 4.969) is surely below 30 up to 30 - 4.969 = 25.031 and
  // surely above from 30 + 4.969 = 34.969. Each end is found to within the precision, on its safe side.
  const double half = 4.303 * 2 / std::sqrt(3.0), p = 0.01;
  const CapacitySearch s = search_linear(p);
  ASSERT_FALSE(s.broken());
  ASSERT_TRUE(s.estimate() && s.ci_low() && s.ci_high() && s.mean_fail());
  EXPECT_LE(*s.estimate(), 30.0);
  EXPECT_GE(*s.estimate(), 30.0 * (1 - p));
  EXPECT_GT(*s.mean_fail(), 30.0);
  EXPECT_LE(*s.ci_low(), 30.0 - half);
  EXPECT_GE(*s.ci_low(), (30.0 - half) * (1 - p));
  EXPECT_GT(*s.ci_high(), 30.0 + half);
  EXPECT_LE(*s.ci_high(), (30.0 + half) / (1 - p));
  EXPECT_LE(s.probes(), 60);
}

TEST(CapacitySearch, NoRateMeetingStopsAtTheFloor) {
  CapacitySearch s(10, 0.05, 30);
  while (!s.done()) s.record(true, judge({kTtft}, summaries({100, 100, 100})));
  EXPECT_FALSE(s.estimate());
  EXPECT_FALSE(s.broken());
  EXPECT_LE(s.next(), 10.0 / 1024);  // halved from 10/h until below 10/1024 per hour: 11 probes
  EXPECT_EQ(s.probes(), 11);
}

TEST(CapacitySearch, AFailedRunBreaksTheSearch) {
  CapacitySearch s(10, 0.05, 30);
  s.record(false, {});
  EXPECT_TRUE(s.done());
  EXPECT_TRUE(s.broken());
}

}  // namespace
}  // namespace kvsim::cli
