// The early stop inside a run (sim/early_stop_monitor.cpp): an overloaded run ends as soon as its TTFT p90 is
// certainly above the bound, saying why, and a light run goes to its end untouched. Each TEST runs its own SimGrid
// engine in its own process.
#include <gtest/gtest.h>

#include "engine/early_stop.hpp"
#include "sim/early_stop_monitor.hpp"
#include "sim/run.hpp"
#include "tests/sim/paper_example.hpp"

namespace kvsim {
namespace {

using paper_example::scenario;

EarlyStop p90_within(double bound_s, bool queue_growth, double percentile = 90) {
  EarlyStop e;
  e.ttft.push_back(TtftTarget{percentile == 90 ? "ttft_p90" : "ttft_p50", percentile, bound_s});
  e.queue_growth = queue_growth;
  return e;
}

// Poisson sessions of the paper's example (one A100, 50K documents, 3 rounds) over `hours` of simulated time.
Scenario poisson(const std::string& rate, const std::string& hours) {
  return scenario({"workload.rounds=3", "workload.arrival.type=poisson", "workload.arrival.rate=" + rate,
                   "workload.duration=" + hours, "seed=3"});
}

// The counted rounds over the bound when the run stopped: finished ones by their TTFT, waiting ones by their wait.
std::int64_t over_at_stop(const RunResult& r, double bound_s) {
  std::int64_t over = 0;
  for (const auto& row : r.metrics->rounds()) over += row.counted && row.ttft_s > bound_s ? 1 : 0;
  for (const auto& [id, row] : r.metrics->open_rounds()) {
    const double ttft = row.first_token_s >= 0 ? row.first_token_s - row.arrival_s : r.stopped_at_s - row.arrival_s;
    over += row.counted && ttft > bound_s ? 1 : 0;
  }
  return over;
}

TEST(EarlyStopRun, AnOverloadedRunStopsOnceItsP90IsCertainlyMissed) {
  // One A100 prefills a 50K document in about 15 s and serves about 100 sessions/h of this example at most with
  // swap (docs/sweeps.md puts the SLO capacity near 25/h): 200/h for 4 h is far over, and its queue grows.
  const Scenario s = poisson("200/h", "4h");
  const std::int64_t bound = counted_rounds_bound(s);
  const RunResult r = run_scenario(s, RunOptions{true, nullptr, {}, p90_within(30, false)});
  ASSERT_FALSE(r.stopped_early.empty());
  EXPECT_NE(r.stopped_early.find("ttft_p90 already missed"), std::string::npos) << r.stopped_early;
  EXPECT_LT(r.stopped_at_s, 4 * 3600.0);
  // It ends at the next forward step of a replica, a prefill (about 15 s) at most later.
  EXPECT_GE(r.end_s, r.stopped_at_s);
  EXPECT_LT(r.end_s, r.stopped_at_s + 30);
  // The stop is justified by the rows themselves: at least misses_to_exceed(90, bound) rounds over 30 s.
  const std::int64_t needed = misses_to_exceed(90, bound);
  EXPECT_GE(over_at_stop(r, 30), needed);
  // And it stopped at the first check (every 4h / 200 = 72 s) that could: one check earlier, fewer were over.
  std::int64_t before = 0;
  for (const auto& row : r.metrics->rounds()) {
    before += row.counted && row.end_s <= r.stopped_at_s - 72 && row.ttft_s > 30 ? 1 : 0;
  }
  EXPECT_LT(before, needed);
}

TEST(EarlyStopRun, ALightRunIsNotStoppedAndTheBoundIsItsExactRoundCount) {
  // 4 sessions/h of 3 rounds: each prefill ~15 s, so no round waits 30 s and the queue never builds.
  const Scenario s = poisson("4/h", "3h");
  const std::int64_t bound = counted_rounds_bound(s);
  const RunResult r = run_scenario(s, RunOptions{true, nullptr, {}, p90_within(30, true)});
  EXPECT_TRUE(r.stopped_early.empty()) << r.stopped_early;
  EXPECT_EQ(r.stopped_at_s, 0);
  EXPECT_EQ(r.metrics->unfinished_sessions(), 0u);
  // The bound replays the run's arrivals and session draws: it is the exact count of rounds the run had.
  EXPECT_EQ(std::int64_t(r.metrics->rounds().size()), bound);
  EXPECT_EQ(bound, std::int64_t(r.sessions_started) * 3);
  EXPECT_GT(bound, 0);
}

TEST(EarlyStopRun, AGrowingQueueStopsTheRunEarlierStill) {
  // The same overload judged on the TTFT p50, with rule (b) on: rule (a) would need half of the run's ~2,400
  // rounds late, but the queue rises in every one of 10 windows (4h / 50 = 288 s each) first, so it stops on the
  // queue, after at least those 10 windows and long before the end.
  const Scenario s = poisson("200/h", "4h");
  const RunResult r = run_scenario(s, RunOptions{true, nullptr, {}, p90_within(30, true, 50)});
  ASSERT_FALSE(r.stopped_early.empty());
  EXPECT_EQ(r.stopped_early.rfind("queue growing without bound: ", 0), 0u) << r.stopped_early;
  EXPECT_GE(r.stopped_at_s, 10 * 288.0 - 1e-6);
  EXPECT_LT(r.stopped_at_s, 4 * 3600.0);
}

}  // namespace
}  // namespace kvsim
