// The early stop's rules on hand-built numbers (engine/early_stop.hpp): how many misses put a percentile over its
// bound whatever the other values, and when a queue counts as growing without bound.
#include "engine/early_stop.hpp"

#include <gtest/gtest.h>

#include <random>

#include "engine/metrics.hpp"

namespace kvsim {
namespace {

TEST(EarlyStopRule, MissesToExceedFollowsNumpyInterpolation) {
  // p90 of 100 values: pos = 0.9 x 99 = 89.1, so the value at rank 89 must be over: the 100 - 89 = 11 largest.
  EXPECT_EQ(misses_to_exceed(90, 100), 11);
  // p50 of 10: pos 4.5, rank 4 and above: 6. p99 of 1000: pos 989.01, 1000 - 989 = 11. One round: itself.
  EXPECT_EQ(misses_to_exceed(50, 10), 6);
  EXPECT_EQ(misses_to_exceed(99, 1000), 11);
  EXPECT_EQ(misses_to_exceed(90, 1), 1);
  // Nondecreasing in the count, so an upper bound on the final count is enough.
  for (double p : {50.0, 90.0, 99.0}) {
    for (std::int64_t n = 1; n < 3000; ++n) EXPECT_LE(misses_to_exceed(p, n), misses_to_exceed(p, n + 1)) << p << n;
  }
}

TEST(EarlyStopRule, ThatManyMissesPutThePercentileOverAndOneFewerNeedNot) {
  // With m values just above B = 30 and the rest far below, percentile() is above B exactly when m reaches the
  // count, for every n (one fewer interpolates between a low value and 30.001, below 30).
  for (double p : {50.0, 90.0, 99.0}) {
    for (std::int64_t n : {1, 2, 7, 10, 99, 100, 101, 1234}) {
      const std::int64_t m = misses_to_exceed(p, n);
      std::vector<double> v(std::size_t(n - m), 1.0);
      v.resize(std::size_t(n), 30.001);
      EXPECT_GT(percentile(v, p), 30) << p << " " << n;
      if (m > 1) {
        v[std::size_t(n - m)] = 1.0;  // m - 1 over
        EXPECT_LE(percentile(v, p), 30) << p << " " << n;
      }
    }
  }
  // Whatever the values: random draws with at least m above B always give a percentile above B.
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> below(0, 30), above(30.0001, 1000);
  for (int trial = 0; trial < 200; ++trial) {
    const std::int64_t n = 1 + std::int64_t(rng() % 500);
    const std::int64_t m = misses_to_exceed(90, n);
    std::vector<double> v;
    for (std::int64_t i = 0; i < n; ++i) v.push_back(i < m ? above(rng) : (rng() % 2 ? below(rng) : above(rng)));
    EXPECT_GT(percentile(v, 90), 30);
  }
}

TEST(EarlyStopRule, PercentileMissedOnlyAtTheCountForTheBound) {
  const TtftTarget t{"ttft_p90", 90, 30};
  // At most 500 rounds: 500 - floor(0.9 x 499) = 500 - 449 = 51 misses.
  EXPECT_FALSE(percentile_missed(t, 50, 500));
  const auto why = percentile_missed(t, 51, 500);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("ttft_p90 already missed: 51 rounds"), std::string::npos) << *why;
  EXPECT_NE(why->find("51 of at most 500"), std::string::npos) << *why;
  EXPECT_FALSE(percentile_missed(t, 1000, -1));  // no bound, no proof
}

TEST(EarlyStopRule, TheBoundTurnsOffIfMoreRoundsArriveThanItAllowed) {
  EarlyStop e;
  e.ttft.push_back({"ttft_p90", 90, 30});
  EarlyStopRule rule(e, 100);  // needs 100 - 89 = 11
  EXPECT_FALSE(rule.check_percentiles({10}, 50));
  EXPECT_TRUE(rule.check_percentiles({11}, 50));
  EXPECT_FALSE(rule.check_percentiles({50}, 101));  // the bound was wrong: never stop on it again
  EXPECT_FALSE(rule.percentiles_on());
  EXPECT_FALSE(rule.check_percentiles({50}, 50));
}

// Samples every 100 s: `unfinished` rounds open, arrivals 20 per window, completions chosen to match.
std::vector<QueueSample> growing(int windows, std::int64_t step) {
  std::vector<QueueSample> out;
  for (int i = 0; i <= windows; ++i) {
    QueueSample q;
    q.time_s = 100.0 * i;
    q.arrived = 20 * i + 5;
    q.finished = q.arrived - (5 + step * i);  // unfinished = 5 + step x i
    q.waiting = 3 + step * i;
    q.oldest_wait_s = 10.0 * i;
    out.push_back(q);
  }
  return out;
}

std::optional<std::string> feed(QueueGrowth& g, const std::vector<QueueSample>& v) {
  std::optional<std::string> last;
  for (const auto& q : v) last = g.add(q);
  return last;
}

TEST(EarlyStopRule, AQueueGrowingInEveryWindowFasterThanItIsServedStops) {
  // 10 windows: unfinished 5 -> 45, 200 arrivals against 160 completions (25% more, over the 5% margin), 43
  // waiting, the oldest for 100 s > 30 s.
  QueueGrowth g(10, 0.05, 30);
  const auto why = feed(g, growing(10, 4));
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("rose in each of the last 10 windows (5 to 45)"), std::string::npos) << *why;
  EXPECT_NE(why->find("720 rounds/h arrived against 576/h served"), std::string::npos) << *why;
}

TEST(EarlyStopRule, AQueueThatPausesOrIsServedOrIsYoungDoesNotStop) {
  auto v = growing(10, 4);
  v[6].finished += 4;  // no growth in window 6
  QueueGrowth paused(10, 0.05, 30);
  EXPECT_FALSE(feed(paused, v));
  // Growth of 1 per window: 200 arrivals against 190 completions (5.3% more), 13 waiting: with a 5% margin
  // it stops, with a 10% margin it does not.
  QueueGrowth slow(10, 0.10, 30);
  EXPECT_FALSE(feed(slow, growing(10, 1)));
  QueueGrowth slow_ok(10, 0.05, 30);
  EXPECT_TRUE(feed(slow_ok, growing(10, 1)));
  // The oldest waiting round has not yet missed the TTFT bound.
  QueueGrowth young(10, 0.05, 100);
  EXPECT_FALSE(feed(young, growing(10, 4)));
  // Nine windows are not ten.
  QueueGrowth short_run(10, 0.05, 30);
  EXPECT_FALSE(feed(short_run, growing(9, 4)));
}

}  // namespace
}  // namespace kvsim
