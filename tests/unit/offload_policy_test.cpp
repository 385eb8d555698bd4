// The offload policies beyond swap and recompute (offload-idle, prefetch, layerwise, cost-aware),
// driven by hand on the tiny replica of scheduler_rig.hpp:
//   KV per token = 32 B; block = 4 tokens = 128 B; 10 KV blocks = 40 tokens; host link 1000 B/s (efficiency 1, so
//   kv_transfer_bandwidth() = 1000 B/s and a transfer of b bytes alone takes b / 1000 s).
//   Step time = max(flops / 1e6, bytes / 1e6), bytes = 2000 + 32 (cached + new), and with causal attention FLOPs
//   (the default) flops = 2000 new + 16 new (cached + (new + 1) / 2); a decode step {1 on c} is 2000 + 16 (c + 1).
// The recurring session: 10 prompt + 2 answer tokens -> 12 tokens of KV = 3 blocks = 384 B; its round takes
//   prefill {10 on 0}: 10 x (2000 + 16 x 5.5) = 20880 flops -> 0.02088 s, then decode {1 on 11}: 2192 flops,
//   2384 B -> 0.002384 s; it ends at t0 = 0.023264 s. Its next round (2 prompt on 12 cached):
//   2 x (2000 + 16 x 13.5) = 4432 flops, 2448 B -> 0.004432 s.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/sched/fcfs_reserve.hpp"
#include "tests/unit/scheduler_rig.hpp"

namespace kvsim {
namespace {
using namespace scheduler_test;

constexpr double kT0 = 0.023264;      // end of the recurring session's first round
constexpr double kBytes = 12 * 32.0;  // its KV: 384 B

/// A transfer order as "s<session> out|in <bytes>", to compare in one line.
std::string order(const TransferOrder& t) {
  return "s" + std::to_string(t.session) + (t.to_host() ? " out " : " in ") + std::to_string(int(t.bytes));
}

/// The tiny replica with a host link of `link_bps` (transfers take bytes / link_bps s) and a 1 MB DDR.
Rig linked(const std::string& policy, double link_bps) { return Rig(policy, "lru", 10, 64, 1e6, link_bps); }

// ---------------------------------------------------------------------------------------------------- offload-idle

// Session 1's first round ends with 7 of 10 blocks free: no pressure, yet its 12 x 32 = 384 B leave at once.
TEST(OffloadIdle, SwapsOutWhenTheRoundEndsAndBackInOnReturn) {
  Rig r("offload-idle");
  EXPECT_EQ(r.run_round(1, 0, 10, 2, false), 2);
  EXPECT_NEAR(r.now, kT0, 1e-12);
  EXPECT_EQ(r.sched.hbm().used_blocks(), 3);
  Plan p = r.plan();
  EXPECT_FALSE(p.has_step);
  ASSERT_EQ(p.transfers.size(), 1u);
  const TransferOrder out = p.transfers[0];
  EXPECT_EQ(order(out), "s1 out 384");
  EXPECT_DOUBLE_EQ(r.sched.ddr().used_bytes(), kBytes);  // reserved at once
  EXPECT_EQ(r.sched.hbm().used_blocks(), 3);             // released only when it lands
  EXPECT_TRUE(r.plan().transfers.empty());               // handed out once
  r.landed(out);                                         // at t0 + 0.384
  EXPECT_EQ(r.sched.hbm().used_blocks(), 0);
  EXPECT_DOUBLE_EQ(r.sched.ddr().used_bytes(), kBytes);
  EXPECT_EQ(r.sink.state.resident_sessions, 0);
  // The next round (2 + 2 tokens, 16 in all) swaps the 384 B back in and stalls until they land (0.384 s).
  r.arrive(1, 1, 2, 2, true);
  p = r.plan();
  EXPECT_FALSE(p.has_step);
  ASSERT_EQ(p.transfers.size(), 1u);
  const TransferOrder in = p.transfers[0];
  EXPECT_EQ(order(in), "s1 in 384");
  EXPECT_EQ(r.sched.hbm().used_blocks(), 3);
  EXPECT_EQ(r.sink.state.stalled_rounds, 1);
  p = r.plan();
  EXPECT_FALSE(p.has_step);
  EXPECT_TRUE(p.transfers.empty());
  r.landed(in);  // 0.384 s later
  EXPECT_EQ(r.sink.state.stalled_rounds, 0);
  EXPECT_DOUBLE_EQ(r.sched.ddr().used_bytes(), 0);
  p = r.plan();
  EXPECT_EQ(p.batch, (std::vector<BatchEntry>{{1, 2, 12, true}}));
  r.done();
  EXPECT_EQ(r.finish(1), 1);  // one decode after that prefill
  EXPECT_EQ(r.sink.count("swap_start", 1), 2);
  EXPECT_EQ(r.sink.count("kv_dropped"), 0);
  EXPECT_TRUE(r.sched.idle());
}

// 383 B of DDR cannot take the 384 B: nothing moves, the KV stays in HBM and the next round starts at once.
TEST(OffloadIdle, KeepsKvInHbmWhenDdrIsTooSmall) {
  Rig r("offload-idle", "lru", 10, 64, /*ddr=*/383);
  r.run_round(1, 0, 10, 2, false);
  Plan p = r.plan();
  EXPECT_TRUE(p.transfers.empty());
  EXPECT_EQ(r.sched.hbm().used_blocks(), 3);
  EXPECT_DOUBLE_EQ(r.sched.ddr().used_bytes(), 0);
  r.arrive(1, 1, 2, 2, true);
  p = r.plan();
  EXPECT_TRUE(p.transfers.empty());
  EXPECT_EQ(p.batch, (std::vector<BatchEntry>{{1, 2, 12, true}}));
  EXPECT_EQ(r.sink.count("swap_start"), 0);
  EXPECT_EQ(r.sink.count("kv_dropped"), 0);
}

// A newcomer of 28 + 4 = 32 tokens = 8 blocks arrives while session 1's 3 blocks are on their way out (7 free): the
// blocks in flight count as coming, so no second transfer is started; it is admitted when they land.
TEST(OffloadIdle, NewcomerWaitsForTheIdleSwapOutWithoutASecondOne) {
  Rig r("offload-idle");
  r.run_round(1, 0, 10, 2, false);
  Plan p = r.plan();
  ASSERT_EQ(p.transfers.size(), 1u);
  const TransferOrder out = p.transfers[0];
  r.arrive(2, 0, 28, 4, true);
  p = r.plan();
  EXPECT_FALSE(p.has_step);
  EXPECT_TRUE(p.transfers.empty());
  r.landed(out);
  p = r.plan();
  EXPECT_EQ(p.batch, (std::vector<BatchEntry>{{2, 28, 0, true}}));
  EXPECT_EQ(r.sink.count("swap_start"), 1);
}

// -------------------------------------------------------------------------------------------------------- prefetch

/// The prefetch policy whose think-time quantile (at the default 0.5) is `guess_s`.
struct PrefetchRig : Rig {
  explicit PrefetchRig(double guess_s)
      : Rig("prefetch", "lru", 10, 64, 1e6, 1000, 512, PolicyEnv{[guess_s](double) { return guess_s; }}) {}
};

// Session 1's first round; returns its swap-out, handed out when the round ended at t0.
TransferOrder first_round(Rig& r) {
  r.sched.on_round_arrival(RoundRequest{1, 0, 10, 2, false, 100}, r.now);
  r.finish(1);
  const Plan p = r.plan();
  EXPECT_EQ(p.transfers.size(), 1u);
  EXPECT_TRUE(p.transfers.at(0).to_host());
  return p.transfers.at(0);
}

// Guess G = 10 s: prefetch at t0 + 10 - 384 / 1000 = 0.023264 + 9.616 = 9.639264 s, landing at t0 + 10 = 10.023264.
TEST(OffloadPrefetch, SwapInStartsSoThatItLandsAtTheGuessedReturn) {
  PrefetchRig r(10);
  r.landed(first_round(r));  // t0 + 0.384
  Plan p = r.plan();
  EXPECT_TRUE(p.transfers.empty());
  EXPECT_NEAR(p.wake_at_s, kT0 + 10 - kBytes / 1000, 1e-12);  // 9.639264 s
  const double wake = p.wake_at_s;
  r.now = wake - 0.001;  // not yet due
  EXPECT_TRUE(r.plan().transfers.empty());
  r.now = wake;
  p = r.plan();
  ASSERT_EQ(p.transfers.size(), 1u);
  const TransferOrder in = p.transfers[0];
  EXPECT_EQ(order(in), "s1 in 384");
  EXPECT_EQ(r.sched.hbm().used_blocks(), 3);  // its HBM is taken when the prefetch starts
  EXPECT_EQ(r.sink.state.stalled_rounds, 0);  // no round waits for it
  EXPECT_TRUE(std::isinf(p.wake_at_s));
  r.landed(in);
  EXPECT_NEAR(r.now, kT0 + 10, 1e-12);
  EXPECT_DOUBLE_EQ(r.sched.ddr().used_bytes(), 0);
  // The user comes back after it landed: the first plan prefills on the whole cached context, no transfer, no stall.
  r.now += 0.5;
  r.arrive(1, 1, 2, 2, true);
  p = r.plan();
  EXPECT_TRUE(p.transfers.empty());
  EXPECT_EQ(p.batch, (std::vector<BatchEntry>{{1, 2, 12, true}}));
  EXPECT_EQ(r.sink.state.stalled_rounds, 0);
  EXPECT_EQ(r.sink.count("swap_start", 1), 2);  // out once, in once
}

// The user comes back 0.1 s into the prefetch: the round stalls for the remaining 0.284 s only.
TEST(OffloadPrefetch, ReturnDuringThePrefetchStallsForTheRest) {
  PrefetchRig r(10);
  r.landed(first_round(r));
  r.now = r.plan().wake_at_s;
  const TransferOrder in = r.plan().transfers.at(0);
  const double lands = r.now + 0.384;
  r.now += 0.1;
  r.arrive(1, 1, 2, 2, true);
  Plan p = r.plan();
  EXPECT_FALSE(p.has_step);
  EXPECT_TRUE(p.transfers.empty());  // no second swap-in
  EXPECT_EQ(r.sink.state.stalled_rounds, 1);
  r.now = lands;
  r.sched.on_transfer_done(in.id, r.now);
  EXPECT_EQ(r.sink.state.stalled_rounds, 0);
  EXPECT_EQ(r.plan().batch, (std::vector<BatchEntry>{{1, 2, 12, true}}));
}

// The prefetch lands at t0 + 10, but session 2 (28 + 4 = 32 tokens = 8 blocks, 7 free) arrives first and evicts
// the prefetched KV again. Session 1's PCIe traffic: out, in (prefetch), out again, in on demand = 4 x 384 = 1536 B,
// twice the 768 B of a right guess.
TEST(OffloadPrefetch, TooEarlyGuessIsEvictedAgain) {
  PrefetchRig r(10);
  r.landed(first_round(r));
  r.now = r.plan().wake_at_s;
  r.landed(r.plan().transfers.at(0));
  EXPECT_EQ(r.sched.hbm().used_blocks(), 3);
  r.arrive(2, 0, 28, 4, true);
  Plan p = r.plan();
  EXPECT_FALSE(p.has_step);
  ASSERT_EQ(p.transfers.size(), 1u);
  EXPECT_EQ(order(p.transfers[0]), "s1 out 384");
  r.landed(p.transfers[0]);
  EXPECT_EQ(r.finish(2), 4);
  EXPECT_TRUE(std::isinf(r.plan().wake_at_s));  // no new prefetch after an eviction
  r.arrive(1, 1, 2, 2, true);
  p = r.plan();
  ASSERT_EQ(p.transfers.size(), 1u);
  EXPECT_FALSE(p.transfers[0].to_host());
  EXPECT_EQ(r.sink.state.stalled_rounds, 1);
  r.landed(p.transfers[0]);
  EXPECT_EQ(r.finish(1), 2);
  double pcie = 0;
  for (const auto& e : r.sink.of("swap_done")) pcie += e.session == 1 ? e.bytes : 0;
  EXPECT_DOUBLE_EQ(pcie, 4 * kBytes);
  EXPECT_EQ(r.sink.count("swap_start", 1), 4);
}

// Guess G = 0.5 s: the prefetch is due at t0 + 0.116, before the swap-out lands at t0 + 0.384. Session 2 (8 blocks)
// arrived meanwhile and is admitted first when the blocks come back: 10 - 8 reserved = 2 free < 3 needed, so the
// prefetch is given up (no transfer, no later wake-up) and the return swaps in on demand.
TEST(OffloadPrefetch, GivenUpWithoutFreeHbm) {
  PrefetchRig r(0.5);
  const TransferOrder out = first_round(r);
  r.now += 0.1;
  r.arrive(2, 0, 28, 4, true);
  EXPECT_FALSE(r.plan().has_step);
  r.now = kT0 + 0.384;
  r.sched.on_transfer_done(out.id, r.now);
  Plan p = r.plan();
  EXPECT_TRUE(p.transfers.empty());
  EXPECT_EQ(p.batch, (std::vector<BatchEntry>{{2, 28, 0, true}}));
  EXPECT_TRUE(std::isinf(p.wake_at_s));
  r.done();
  EXPECT_EQ(r.finish(2), 3);  // its 3 decodes; session 2 then ends and all 10 blocks are free
  EXPECT_TRUE(r.plan().transfers.empty());  // the prefetch stays given up
  EXPECT_EQ(r.sink.count("swap_start", 1), 1);
  r.arrive(1, 1, 2, 2, true);
  p = r.plan();
  ASSERT_EQ(p.transfers.size(), 1u);
  EXPECT_FALSE(p.transfers[0].to_host());
  EXPECT_EQ(r.sink.state.stalled_rounds, 1);
}

// ------------------------------------------------------------------------------------------------------- layerwise

// Session 1 idles with 384 B, session 2 (28 + 4 tokens = 8 blocks, 7 free) swaps it out and runs to its end, then
// session 1's last round (2 + 2 tokens) arrives.
void evict_and_return(Rig& r) {
  r.idle(1);
  r.arrive(2, 0, 28, 4, true);
  const Plan p = r.plan();
  ASSERT_EQ(p.transfers.size(), 1u);
  r.landed(p.transfers[0]);
  r.finish(2);
  r.arrive(1, 1, 2, 2, true);
}

// Session 1's return is admitted with no swap-in order: its first step prefills 2 tokens on 12 cached and loads the
// 384 B meanwhile. Planned compute 0.004432 s; the load alone takes 384 / 1000 = 0.384 s, so the step really lasts
// 0.384 s and the stall passed is 0.384 - 0.004432 = 0.379568 s.
TEST(OffloadLayerwise, ReturningRoundLoadsItsKvDuringItsFirstStep) {
  Rig r = linked("layerwise", 1000);
  evict_and_return(r);
  Plan p = r.plan();
  EXPECT_TRUE(p.transfers.empty());
  ASSERT_TRUE(p.has_step);
  EXPECT_EQ(p.batch, (std::vector<BatchEntry>{{1, 2, 12, true}}));
  EXPECT_DOUBLE_EQ(p.load_bytes, kBytes);
  EXPECT_NEAR(p.cost.seconds, 0.004432, 1e-15);
  EXPECT_EQ(r.sched.hbm().used_blocks(), 4);  // 12 + 2 + 1 tokens
  EXPECT_DOUBLE_EQ(r.sched.ddr().used_bytes(), kBytes);
  EXPECT_EQ(r.sink.state.stalled_rounds, 0);
  const double start = r.now;
  EXPECT_TRUE(r.done(0.384 - 0.004432).empty());
  ASSERT_EQ(r.sink.loads.size(), 1u);
  EXPECT_EQ(r.sink.loads[0].session, 1u);
  EXPECT_DOUBLE_EQ(r.sink.loads[0].bytes, kBytes);
  EXPECT_DOUBLE_EQ(r.sink.loads[0].start, start);
  EXPECT_NEAR(r.sink.loads[0].end, start + 0.384, 1e-12);
  EXPECT_NEAR(r.sink.loads[0].stall, 0.379568, 1e-12);
  EXPECT_DOUBLE_EQ(r.sched.ddr().used_bytes(), 0);
  p = r.plan();  // the next step neither loads nor moves anything
  EXPECT_EQ(p.batch, (std::vector<BatchEntry>{{1, 1, 15, false}}));
  EXPECT_DOUBLE_EQ(p.load_bytes, 0);
  EXPECT_TRUE(p.transfers.empty());
  EXPECT_EQ(r.done().size(), 1u);
  EXPECT_EQ(r.sink.count("swap_start", 1), 2);
  EXPECT_EQ(r.sink.count("swap_done", 1), 1);  // the swap-out; the load is reported as kv_loaded_in_step
  EXPECT_TRUE(r.sched.idle());
}

// A link of 1e6 B/s loads 384 B in 0.000384 s < 0.004432 s of compute: the step keeps its planned time, no stall.
TEST(OffloadLayerwise, LoadHiddenByComputeStallsNothing) {
  Rig r = linked("layerwise", 1e6);
  evict_and_return(r);
  EXPECT_DOUBLE_EQ(r.plan().load_bytes, kBytes);
  r.done();
  ASSERT_EQ(r.sink.loads.size(), 1u);
  EXPECT_NEAR(r.sink.loads[0].stall, 0, 1e-15);
  EXPECT_GE(r.sink.loads[0].stall, 0);
}

// ------------------------------------------------------------------------------------------------------ cost-aware
// The rule: swap when the swap-in at the link share, kv_bytes / (bandwidth / (transfers in flight + 1)), is cheaper
// than the re-prefill of the victim's context times (active rounds + 1), active = rounds running or waiting, and
// DDR has room; otherwise drop. The victim here: session 1 idle with 12 tokens = 384 B; its re-prefill {12 on 0}
// = 24000 + 16 x 144 = 26304 flops -> 0.026304 s (2384 B -> 0.002384 s). The newcomer that evicts it waits, so
// active >= 1 and the recompute side is at least 2 x 0.026304 = 0.052608 s.

// Session 2 (28 + 4 tokens = 8 blocks, 7 free) forces the eviction. At 1e5 B/s: swap 384 / 1e5 = 0.00384 s <
// 0.052608 s: swap out.
TEST(OffloadCostAware, SwapsWhenTheLinkIsFast) {
  Rig r = linked("cost-aware", 1e5);
  r.idle(1);
  r.arrive(2, 0, 28, 4, true);
  const Plan p = r.plan();
  EXPECT_FALSE(p.has_step);
  ASSERT_EQ(p.transfers.size(), 1u);
  EXPECT_TRUE(p.transfers[0].to_host());
  EXPECT_DOUBLE_EQ(p.transfers[0].bytes, kBytes);
  EXPECT_EQ(r.sink.count("kv_dropped"), 0);
}

// At the rig's 1000 B/s: swap 384 / 1000 = 0.384 s > 0.052608 s: drop, and session 2 starts at once.
TEST(OffloadCostAware, RecomputesWhenTheLinkIsSlow) {
  Rig r("cost-aware");
  r.run_round(1, 0, 10, 2, false);
  r.arrive(2, 0, 28, 4, true);
  Plan p = r.plan();
  EXPECT_TRUE(p.transfers.empty());
  EXPECT_EQ(p.batch, (std::vector<BatchEntry>{{2, 28, 0, true}}));
  const auto dropped = r.sink.of("kv_dropped");
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0].session, 1u);
  EXPECT_EQ(dropped[0].n, 12);
  EXPECT_DOUBLE_EQ(dropped[0].bytes, kBytes);
}

// The link share counts the transfers already in flight. Three idle sessions of 384 B each (9 blocks); a newcomer of
// 36 + 4 = 40 tokens = 10 blocks evicts all three, in LRU order, at 2e4 B/s, against 0.052608 s each:
//   1st: 0 in flight, 384 / 2e4 = 0.0192 s -> swap;  2nd: 1 in flight, 384 / 1e4 = 0.0384 s -> swap;
//   3rd: 2 in flight, 384 / (2e4 / 3) = 0.0576 s -> drop.
TEST(OffloadCostAware, SharesTheLinkWithTransfersInFlight) {
  Rig r = linked("cost-aware", 2e4);
  for (SessionId s : {1u, 2u, 3u}) {
    r.idle(s);
  }
  EXPECT_EQ(r.sched.hbm().used_blocks(), 9);
  r.arrive(4, 0, 36, 4, true);
  const Plan p = r.plan();
  EXPECT_FALSE(p.has_step);
  ASSERT_EQ(p.transfers.size(), 2u);
  EXPECT_EQ(p.transfers[0].session, 1u);
  EXPECT_EQ(p.transfers[1].session, 2u);
  const auto dropped = r.sink.of("kv_dropped");
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0].session, 3u);
  for (const auto& t : p.transfers) r.landed(t);
  EXPECT_EQ(r.finish(4), 4);
}

// The recompute side counts the rounds sharing the GPU. At 6000 B/s the swap costs 384 / 6000 = 0.064 s.
//   Only the newcomer active: 2 x 0.026304 = 0.052608 s < 0.064 s -> drop.
//   Session 3 (2 prompt + 20 answer = 22 tokens = 6 blocks) decoding as well: 3 x 0.026304 = 0.078912 s > 0.064 s
//   -> swap. There the newcomer (4 + 4 tokens = 2 blocks) finds 10 - 3 - 1 = 6 blocks free against 5 still
//   reserved for session 3 + its own 2.
TEST(OffloadCostAware, ChargesRecomputeOncePerActiveRound) {
  {
    Rig r = linked("cost-aware", 6000);
    r.idle(1);
    r.arrive(2, 0, 28, 4, true);
    EXPECT_TRUE(r.plan().transfers.empty());
    EXPECT_EQ(r.sink.count("kv_dropped", 1), 1);
  }
  Rig r = linked("cost-aware", 6000);
  r.idle(1);
  r.arrive(3, 0, 2, 20, true);
  EXPECT_EQ(r.plan().batch, (std::vector<BatchEntry>{{3, 2, 0, true}}));
  r.done();
  r.arrive(2, 0, 4, 4, true);
  const Plan p = r.plan();
  ASSERT_EQ(p.transfers.size(), 1u);
  EXPECT_EQ(p.transfers[0].session, 1u);
  EXPECT_TRUE(p.transfers[0].to_host());
  EXPECT_EQ(p.batch, (std::vector<BatchEntry>{{3, 1, 3, false}}));
  EXPECT_EQ(r.sink.count("kv_dropped"), 0);
}

// The decision itself, on the same numbers, plus DDR room.
TEST(OffloadCostAware, DecisionArithmetic) {
  const auto policy = make_offload_policy("cost-aware");
  const VictimInfo v{1, 384, 12, 0, 0};
  auto ctx = [](double ddr, int in_flight, int active) {
    return PolicyContext{0, ddr, 2e4, in_flight, 0.026304, active};
  };
  EXPECT_EQ(policy->on_evict(v, ctx(1e6, 0, 0)), EvictAction::kSwapOut);  // 0.0192 < 0.026304
  EXPECT_EQ(policy->on_evict(v, ctx(1e6, 1, 0)), EvictAction::kDrop);     // 0.0384 > 0.026304
  EXPECT_EQ(policy->on_evict(v, ctx(1e6, 1, 1)), EvictAction::kSwapOut);  // 0.0384 < 0.052608
  EXPECT_EQ(policy->on_evict(v, ctx(1e6, 2, 1)), EvictAction::kDrop);     // 0.0576 > 0.052608
  EXPECT_EQ(policy->on_evict(v, ctx(1e6, 2, 2)), EvictAction::kSwapOut);  // 0.0576 < 0.078912
  EXPECT_EQ(policy->on_evict(v, ctx(384, 0, 0)), EvictAction::kSwapOut);  // DDR exactly big enough
  EXPECT_EQ(policy->on_evict(v, ctx(383, 0, 0)), EvictAction::kDrop);     // cheaper, but no room
}

}  // namespace
}  // namespace kvsim
