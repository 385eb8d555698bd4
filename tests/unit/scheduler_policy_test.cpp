// FcfsReserveScheduler's offload and victim policies under HBM pressure, driven by hand on the tiny replica of
// scheduler_test.cpp (the rig is in scheduler_rig.hpp):
//   KV per token = layers 1 x kv_heads 1 x head_dim 8 x 2 (K, V) x 2 B (bf16) = 32 B; block = 4 tokens = 128 B.
//   weights = 1000 params x 2 B = 2000 B; HBM = 2000 + 10 x 128 B  ->  10 KV blocks = 40 tokens.
#include <gtest/gtest.h>

#include <map>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "engine/sched/fcfs_reserve.hpp"
#include "tests/unit/scheduler_rig.hpp"

namespace kvsim {

namespace {
using namespace scheduler_test;

// 4. Swap: A (session 1) ends round 0 with 10 + 2 = 12 tokens = 3 blocks and idles. B (2) needs 28 + 4 = 32
// tokens = 8 blocks with 7 free: A's 12 x 32 = 384 B go to DDR (exactly its 384 B), B waits for them to land.
TEST(SchedulerSwap, IdleSessionSwapsOutAndBackIn) {
  Rig r("swap", "lru", 10, 64, /*ddr=*/384);
  r.run_round(1, 0, 10, 2, false);
  EXPECT_EQ(r.sched.hbm().used_blocks(), 3);
  r.arrive(2, 0, 28, 4, true);
  Plan p = r.plan();
  EXPECT_FALSE(p.has_step);
  ASSERT_EQ(p.transfers.size(), 1u);
  const TransferOrder out = p.transfers[0];
  EXPECT_EQ(out.session, 1u);
  EXPECT_TRUE(out.to_host());
  EXPECT_DOUBLE_EQ(out.bytes, 384);
  EXPECT_DOUBLE_EQ(r.sched.ddr().used_bytes(), 384);  // reserved when the swap-out starts
  EXPECT_EQ(r.sched.hbm().used_blocks(), 3);          // freed when it lands
  EXPECT_EQ(r.sink.count("swap_start", 1), 1);
  p = r.plan();  // nothing new while the blocks are on their way out
  EXPECT_FALSE(p.has_step);
  EXPECT_TRUE(p.transfers.empty());
  r.landed(out);
  EXPECT_EQ(r.sched.hbm().used_blocks(), 0);
  EXPECT_DOUBLE_EQ(r.sched.ddr().used_bytes(), 384);
  EXPECT_EQ(r.sink.count("swap_done", 1), 1);
  p = r.plan();
  ASSERT_EQ(p.batch.size(), 1u);
  EXPECT_EQ(p.batch[0], (BatchEntry{2, 28, 0, true}));
  EXPECT_EQ(r.sched.hbm().used_blocks(), 8);  // 28 + 1 tokens
  r.done();
  // A's last round (2 + 2 tokens, 16 in all = 4 blocks) cannot come back while B holds 8 of 10 blocks.
  r.arrive(1, 1, 2, 2, true);
  EXPECT_EQ(r.finish(2), 3);  // B's 3 decode steps
  EXPECT_EQ(r.sink.count("swap_start", 1), 1);
  EXPECT_EQ(r.sched.hbm().used_blocks(), 0);
  // B ended; C (3) arrives behind A. A is admitted and swapped in (3 blocks); C (1 + 3 tokens) runs meanwhile.
  r.arrive(3, 0, 1, 3, true);
  p = r.plan();
  ASSERT_EQ(p.transfers.size(), 1u);
  const TransferOrder in = p.transfers[0];
  EXPECT_EQ(in.session, 1u);
  EXPECT_FALSE(in.to_host());
  EXPECT_DOUBLE_EQ(in.bytes, 384);
  EXPECT_EQ(p.batch, (std::vector<BatchEntry>{{3, 1, 0, true}}));
  EXPECT_EQ(r.sched.hbm().used_blocks(), 3 + 1);
  EXPECT_EQ(r.sink.state.stalled_rounds, 1);
  r.done();
  p = r.plan();  // A stalls: no entry for it until its KV lands
  EXPECT_EQ(p.batch, (std::vector<BatchEntry>{{3, 1, 2, false}}));
  EXPECT_TRUE(p.transfers.empty());
  r.done();
  EXPECT_DOUBLE_EQ(r.sched.ddr().used_bytes(), 384);
  r.landed(in);
  EXPECT_DOUBLE_EQ(r.sched.ddr().used_bytes(), 0);
  EXPECT_EQ(r.sink.state.stalled_rounds, 0);
  p = r.plan();  // A prefills only its new prompt on top of its 12 swapped-in tokens
  EXPECT_EQ(p.batch, (std::vector<BatchEntry>{{3, 1, 3, false}, {1, 2, 12, true}}));
  EXPECT_EQ(r.done().size(), 1u);  // C ends
  EXPECT_EQ(r.sched.hbm().used_blocks(), 4);  // A: 12 + 2 + 1 = 15 tokens
  p = r.plan();
  EXPECT_EQ(p.batch, (std::vector<BatchEntry>{{1, 1, 15, false}}));
  EXPECT_EQ(r.done().size(), 1u);
  EXPECT_EQ(r.sink.count("kv_dropped"), 0);
  EXPECT_TRUE(r.sched.idle());
  EXPECT_EQ(r.sched.hbm().used_blocks(), 0);
}

// 5. Recompute under the same pressure: A's 12 tokens are dropped at once, B starts in the same plan, and A's next
// round prefills its 12 old tokens and its 2 new ones from scratch: 14 tokens on 0 cached.
TEST(SchedulerRecompute, DroppedSessionRePrefillsItsWholeContext) {
  Rig r("recompute");
  r.run_round(1, 0, 10, 2, false);
  r.arrive(2, 0, 28, 4, true);
  Plan p = r.plan();
  EXPECT_TRUE(p.transfers.empty());
  EXPECT_EQ(p.batch, (std::vector<BatchEntry>{{2, 28, 0, true}}));
  const auto dropped = r.sink.of("kv_dropped");
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0].session, 1u);
  EXPECT_EQ(dropped[0].n, 12);
  EXPECT_DOUBLE_EQ(dropped[0].bytes, 384);
  EXPECT_EQ(r.sched.hbm().used_blocks(), 8);
  EXPECT_DOUBLE_EQ(r.sched.ddr().used_bytes(), 0);
  r.done();
  r.arrive(1, 1, 2, 2, true);
  EXPECT_EQ(r.finish(2), 3);
  p = r.plan();
  EXPECT_EQ(p.batch, (std::vector<BatchEntry>{{1, 14, 0, true}}));
  EXPECT_EQ(r.sched.hbm().used_blocks(), 4);  // 14 + 1 tokens
  EXPECT_TRUE(r.done().empty());
  EXPECT_EQ(r.sink.steps.back().prefill_tokens, 14);
  EXPECT_EQ(r.sink.count("prefill_done", 1), 2);
  p = r.plan();
  EXPECT_EQ(p.batch, (std::vector<BatchEntry>{{1, 1, 15, false}}));
  EXPECT_EQ(r.done().size(), 1u);
  EXPECT_EQ(r.sink.count("swap_start"), 0);
  EXPECT_TRUE(r.sched.idle());
}

// 6. Swap with 383 B of DDR cannot hold A's 384 B: the KV is dropped instead and B starts at once.
TEST(SchedulerSwap, FallsBackToDropWhenDdrIsTooSmall) {
  Rig r("swap", "lru", 10, 64, /*ddr=*/383);
  r.run_round(1, 0, 10, 2, false);
  r.arrive(2, 0, 28, 4, true);
  const Plan p = r.plan();
  EXPECT_TRUE(p.transfers.empty());
  EXPECT_EQ(p.batch, (std::vector<BatchEntry>{{2, 28, 0, true}}));
  ASSERT_EQ(r.sink.count("kv_dropped", 1), 1);
  EXPECT_EQ(r.sink.of("kv_dropped")[0].n, 12);
  EXPECT_EQ(r.sink.count("swap_start"), 0);
  EXPECT_DOUBLE_EQ(r.sched.ddr().used_bytes(), 0);
  r.done();
  r.arrive(1, 1, 2, 2, true);
  r.finish(2);
  EXPECT_EQ(r.plan().batch, (std::vector<BatchEntry>{{1, 14, 0, true}}));
}

// 7. Victim order. Three idle sessions, run one after the other (so last used 1 < 2 < 3):
//   1: 6 + 2 = 8 tokens = 2 blocks, 256 B, think 5   -> expected back at ~5
//   2: 10 + 2 = 12 tokens = 3 blocks, 384 B, think 100 -> ~100
//   3: 2 + 2 = 4 tokens = 1 block, 128 B, think 50   -> ~50
// A newcomer of 16 + 4 = 20 tokens = 5 blocks against 4 free evicts exactly the first victim; one of 36 + 4 = 40
// tokens = 10 blocks evicts all three, in the policy's order.
TEST(SchedulerVictims, EachPolicyPicksItsVictimFirst) {
  const std::vector<std::pair<std::string, std::vector<SessionId>>> cases{
      {"lru", {1, 2, 3}}, {"largest", {2, 1, 3}}, {"smallest", {3, 1, 2}}, {"longest-idle", {2, 3, 1}}};
  const std::map<SessionId, double> bytes{{1, 256}, {2, 384}, {3, 128}};
  for (const auto& [name, order] : cases) {
    for (const std::int64_t prompt : {16, 36}) {
      SCOPED_TRACE(name + " prompt " + std::to_string(prompt));
      Rig r("swap", name);
      r.run_round(1, 0, 6, 2, false, 5);
      r.run_round(2, 0, 10, 2, false, 100);
      r.run_round(3, 0, 2, 2, false, 50);
      EXPECT_EQ(r.sched.hbm().used_blocks(), 6);
      r.arrive(4, 0, prompt, 4, true);
      const Plan p = r.plan();
      EXPECT_FALSE(p.has_step);
      const std::size_t n = prompt == 16 ? 1 : 3;
      ASSERT_EQ(p.transfers.size(), n);
      for (std::size_t i = 0; i < n; ++i) {
        EXPECT_EQ(p.transfers[i].session, order[i]) << i;
        EXPECT_TRUE(p.transfers[i].to_host());
        EXPECT_DOUBLE_EQ(p.transfers[i].bytes, bytes.at(order[i]));
      }
      for (const auto& t : p.transfers) r.landed(t);
      EXPECT_EQ(r.finish(4), 4);  // one prefill and three decodes once the blocks are free
    }
  }
}

}  // namespace
}  // namespace kvsim
