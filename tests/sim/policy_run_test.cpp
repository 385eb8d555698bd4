// Whole SimGrid runs of the paper's two-user context switch (as in run_test.cpp's TwoUsers) under each offload
// policy: A starts at 0 s and B at 30 s, one 50K session each, two rounds, 60 s of think time, 20 GB/s PCIe. Only
// one session's KV fits in 80 GiB - 68 GB = 17.9 GB. A's first round ends at about 20 s, B's at about 50 s, and A
// comes back at about 80 s while B is idle. Each TEST runs its own SimGrid engine in its own process, audited.
//   KV per session at the end of round 1 = (50100 prompt + 250 answer) = 50350 tokens x 245760 B = 12.374e9 B;
//   alone on one direction of the link it moves in 12.374e9 / 20e9 = 0.6187 s.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "sim/run.hpp"
#include "tests/sim/paper_example.hpp"

namespace kvsim {
namespace {

using paper_example::kKvPerToken;
using paper_example::row;
using paper_example::summary;

constexpr double kKv = 50350 * kKvPerToken;             // 12.374e9 B
constexpr double kMove = kKv / 20e9;                    // 0.6187 s alone on one direction

// The two-user case under `policy`, plus `extra` overrides.
Scenario scenario(const std::string& policy, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> sets{"workload.rounds=2", "workload.arrival.times=0s,30s",
                                "scheduler.kv_offload.policy=" + policy};
  sets.insert(sets.end(), extra.begin(), extra.end());
  return paper_example::scenario(sets);
}

// KV conservation over the run. The scheduler drops only KV that is in HBM, never an offloaded copy, and at the end
// every session has ended (its last round's KV was in HBM), so DDR is empty:
//   swap-out bytes = swap-in bytes + bytes dropped from DDR (0) + bytes still in DDR at the end (0).
// The per-round charges add up to the same totals, and KV dropped from HBM comes back as recomputed tokens:
//   dropped bytes = recompute tokens x 245760 = `dropped_sessions` x 12.374e9 B here.
void check_conservation(const RunResult& r, int dropped_sessions, bool only_pcie = true) {
  ASSERT_EQ(r.metrics->unfinished_sessions(), 0u);
  double out = 0, in = 0;
  for (const auto& t : r.metrics->transfers()) {
    if (!t.demotion) (t.to_host ? out : in) += t.bytes;
    // Each transfer (a layerwise load included) was alone on its direction: it took exactly bytes / 20 GB/s.
    if (only_pcie) {
      EXPECT_NEAR(t.end_s - t.start_s, t.bytes / 20e9, 1e-9) << "session " << t.session << (t.to_host ? " out" : " in");
    }
  }
  const double ddr_dropped = 0, ddr_at_end = 0;
  EXPECT_NEAR(out, in + ddr_dropped + ddr_at_end, 1);
  double rows_out = 0, rows_in = 0;
  std::int64_t recomputed = 0;
  for (const auto& x : r.metrics->rounds()) {
    rows_out += x.swap_out_bytes;
    rows_in += x.swap_in_bytes;
    recomputed += x.recompute_tokens;
  }
  const auto m = summary(r);
  EXPECT_NEAR(m.at("swap.bytes_out"), out, 1);
  EXPECT_NEAR(m.at("swap.bytes_in"), in, 1);
  EXPECT_NEAR(rows_out, out, 1);
  EXPECT_NEAR(rows_in, in, 1);
  EXPECT_EQ(double(recomputed), m.at("recompute.tokens"));
  EXPECT_EQ(recomputed, std::int64_t(dropped_sessions) * 50350);
  EXPECT_NEAR(double(recomputed) * kKvPerToken, dropped_sessions * kKv, 1);
}

double out_bytes(const RunResult& r) {
  double out = 0;
  for (const auto& t : r.metrics->transfers()) out += t.to_host ? t.bytes : 0;
  return out;
}

// A's round 2 prefills its 100-token question on 50350 cached tokens, alone on the replica.
double prefill_alone(const Scenario& s) {
  return CostModel(s.model, s.deployment, s.scheduler.attention_flops).prefill(100, 50350).seconds;
}

// swap: at A's return B's KV goes out (queue), then A's comes in (stall): 2 x 0.6187 = 1.2374 s before the prefill.
// Traffic: A out at 30 s, B out and A in at 80 s, B in at 110 s: 4 x KV.
TEST(PolicyRun, SwapPaysBothDirectionsAtTheReturn) {
  const Scenario s = scenario("swap");
  const RunResult r = run_scenario(s, RunOptions{true});
  const RoundRow& a2 = row(r, 0, 2);
  EXPECT_NEAR(a2.queue_s, kMove, 1e-9);
  EXPECT_NEAR(a2.swap_in_stall_s, kMove, 1e-9);
  EXPECT_NEAR(a2.queue_s + a2.swap_in_stall_s, 2 * kMove, 1e-9);
  EXPECT_NEAR(a2.prefill_s, prefill_alone(s), 1e-9);
  EXPECT_NEAR(a2.swap_in_bytes, kKv, 1);
  EXPECT_NEAR(out_bytes(r), 2 * kKv, 1);
  check_conservation(r, 0);
}

// offload-idle: B's KV left as soon as B's round ended (about 50 s), so at A's return (about 80 s) only A's swap-in
// remains: stall 0.6187 s, no queue.
TEST(PolicyRun, OffloadIdleLeavesOnlyTheSwapIn) {
  const Scenario s = scenario("offload-idle");
  const RunResult r = run_scenario(s, RunOptions{true});
  const RoundRow& a2 = row(r, 0, 2);
  EXPECT_NEAR(a2.swap_in_stall_s, kMove, 1e-9);
  EXPECT_NEAR(a2.queue_s, 0, 1e-9);
  EXPECT_NEAR(a2.prefill_s, prefill_alone(s), 1e-9);
  EXPECT_NEAR(a2.ttft_s, kMove + prefill_alone(s), 1e-9);
  // B's first round did not wait for A's KV either: it had left at about 20 s.
  EXPECT_NEAR(row(r, 1, 1).queue_s, 0, 1e-9);
  EXPECT_NEAR(row(r, 1, 1).swap_in_stall_s, 0, 1e-9);
  // Every non-last round's KV went out at its end: A and B once each.
  EXPECT_NEAR(out_bytes(r), 2 * kKv, 1);
  check_conservation(r, 0);
}

// prefetch: the think time is a constant 60 s, so its 0.5 quantile is 60 s. A's swap-in starts 60 - 0.6187 s after
// its round ended and lands exactly when A comes back: no stall, no queue, TTFT = the prefill alone.
TEST(PolicyRun, PrefetchLandsExactlyAtTheReturn) {
  const Scenario s = scenario("prefetch");
  const RunResult r = run_scenario(s, RunOptions{true});
  const RoundRow& a2 = row(r, 0, 2);
  EXPECT_NEAR(a2.swap_in_stall_s, 0, 1e-9);
  EXPECT_NEAR(a2.queue_s, 0, 1e-9);
  EXPECT_NEAR(a2.ttft_s, a2.prefill_s, 1e-9);
  EXPECT_NEAR(a2.prefill_s, prefill_alone(s), 1e-9);
  EXPECT_NEAR(a2.swap_in_bytes, kKv, 1);  // the prefetched KV is charged to the round it served
  const RoundRow& a1 = row(r, 0, 1);
  bool found = false;
  for (const auto& t : r.metrics->transfers()) {
    if (t.session == 0 && !t.to_host) {
      found = true;
      EXPECT_NEAR(t.start_s, a1.end_s + 60 - kMove, 1e-6);
      EXPECT_NEAR(t.end_s, a2.arrival_s, 1e-6);
    }
  }
  EXPECT_TRUE(found);
  // B is prefetched as well, while A's last round runs or after it ended: no stall for B's return either.
  EXPECT_NEAR(row(r, 1, 2).swap_in_stall_s, 0, 1e-9);
  check_conservation(r, 0);
}

// layerwise: A waits for B's swap-out (queue 0.6187 s), then its first step prefills 100 tokens on 50350 cached and
// loads its KV meanwhile. The step lasts max(prefill alone, 0.6187 s) = 0.6187 s; the stall is the load the compute
// does not hide: 0.6187 - prefill alone. TTFT = B's swap-out + the load step = 2 x 0.6187 s.
TEST(PolicyRun, LayerwiseHidesThePrefillUnderTheLoad) {
  const Scenario s = scenario("layerwise");
  const RunResult r = run_scenario(s, RunOptions{true});
  const double alone = prefill_alone(s);
  ASSERT_LT(alone, kMove);
  const RoundRow& a2 = row(r, 0, 2);
  EXPECT_NEAR(a2.queue_s, kMove, 1e-9);
  EXPECT_NEAR(a2.swap_in_stall_s, kMove - alone, 1e-9);
  EXPECT_NEAR(a2.overlapped_stall_s, kMove - alone, 1e-9);
  EXPECT_NEAR(a2.prefill_s, alone, 1e-9);
  EXPECT_NEAR(a2.ttft_s, 2 * kMove, 1e-9);
  EXPECT_NEAR(a2.swap_in_bytes, kKv, 1);
  check_conservation(r, 0);
}

// recompute: A's KV was dropped at B's arrival, so its round 2 prefills 50350 + 100 tokens from scratch; B's is
// dropped at A's return. Nothing crosses the link.
TEST(PolicyRun, RecomputePrefillsTheWholeContext) {
  const Scenario s = scenario("recompute");
  const RunResult r = run_scenario(s, RunOptions{true});
  const RoundRow& a2 = row(r, 0, 2);
  EXPECT_EQ(a2.recompute_tokens, 50350);
  EXPECT_NEAR(a2.prefill_s, CostModel(s.model, s.deployment, s.scheduler.attention_flops).prefill(50450, 0).seconds,
              1e-9);
  EXPECT_NEAR(a2.swap_in_stall_s, 0, 1e-12);
  EXPECT_TRUE(r.metrics->transfers().empty());
  check_conservation(r, 2);
}

// cost-aware: both evictions (A at B's arrival, B at A's return) find the link idle and one round waiting, so the
// swap-in costs 12.374e9 / 20e9 = 0.6187 s against a re-prefill of 50350 tokens (over 10 s) x (1 active + 1): it
// swaps, exactly as `swap` does.
TEST(PolicyRun, CostAwareSwapsLikeSwapHere) {
  const Scenario s = scenario("cost-aware");
  const double recompute_s = CostModel(s.model, s.deployment, s.scheduler.attention_flops).prefill(50350, 0).seconds;
  ASSERT_GT(recompute_s, 10);
  ASSERT_LT(kMove, 2 * recompute_s);
  const RunResult r = run_scenario(s, RunOptions{true});
  const RoundRow& a2 = row(r, 0, 2);
  EXPECT_NEAR(a2.queue_s, kMove, 1e-9);
  EXPECT_NEAR(a2.swap_in_stall_s, kMove, 1e-9);
  EXPECT_NEAR(a2.queue_s + a2.swap_in_stall_s, 2 * kMove, 1e-9);
  EXPECT_EQ(a2.recompute_tokens, 0);
  EXPECT_NEAR(out_bytes(r), 2 * kKv, 1);
  check_conservation(r, 0);
}

// tiered with no room in DDR (1 GB): every copy goes to the 7 GB/s NVMe tier. The path HBM -> NVMe crosses the
// 20 GB/s host link and the NVMe write link, so it moves at 7 GB/s: 12.374e9 / 7e9 = 1.768 s, and so does the
// read back. At A's return B goes out to NVMe, then A comes back from it: 2 x 1.768 s.
TEST(PolicyRun, TieredReadsFromNvmeAtNvmeSpeed) {
  const Scenario s = scenario("tiered", {"hardware.host_memory=1GB", "hardware.nvme.capacity=1TB",
                                         "hardware.nvme.bandwidth=7GBps"});
  const RunResult r = run_scenario(s, RunOptions{true});
  const double nvme_move = kKv / 7e9;
  const RoundRow& a2 = row(r, 0, 2);
  EXPECT_NEAR(a2.swap_in_stall_s, nvme_move, 1e-9);
  EXPECT_NEAR(a2.queue_s, nvme_move, 1e-9);
  EXPECT_EQ(a2.recompute_tokens, 0);
  for (const auto& t : r.metrics->transfers()) EXPECT_NEAR(t.end_s - t.start_s, t.bytes / 7e9, 1e-9);
  check_conservation(r, 0, false);
}

// tiered with DDR for one copy (13 GB): A's KV lands in DDR in 0.6187 s, and the demotion that keeps DDR free for
// the next copy then moves it to NVMe (DDR -> NVMe at 7 GB/s, 1.768 s). At A's return B goes out to DDR (0.6187 s)
// and A comes back from NVMe (1.768 s).
TEST(PolicyRun, TieredDemotesTheLeastRecentlyUsedCopyToNvme) {
  const Scenario s = scenario("tiered", {"hardware.host_memory=13GB", "hardware.nvme.capacity=1TB",
                                         "hardware.nvme.bandwidth=7GBps"});
  const RunResult r = run_scenario(s, RunOptions{true});
  const RoundRow& a2 = row(r, 0, 2);
  EXPECT_NEAR(a2.queue_s, kMove, 1e-9);
  EXPECT_NEAR(a2.swap_in_stall_s, kKv / 7e9, 1e-9);
  int demotions = 0;
  for (const auto& t : r.metrics->transfers()) {
    if (t.demotion) {
      ++demotions;
      EXPECT_NEAR(t.end_s - t.start_s, kKv / 7e9, 1e-9);
    }
  }
  EXPECT_GE(demotions, 1);
  EXPECT_NEAR(summary(r).at("swap.bytes_demoted"), demotions * kKv, 1);
  check_conservation(r, 0, false);
}

}  // namespace
}  // namespace kvsim
