// fcfs-reserve handing sessions between replicas (clusters), on the tiny rig (tests/unit/scheduler_rig.hpp): 32 B
// of KV per token, 4-token blocks of 128 B, 10 blocks of HBM.
#include <gtest/gtest.h>

#include "engine/cluster/topology.hpp"
#include "tests/unit/scheduler_rig.hpp"

namespace kvsim {
namespace {
using namespace scheduler_test;

TEST(SchedulerMove, DepartedKvStaysPinnedUntilReleased) {
  // Session 1 ends a round with 12 tokens (3 blocks) in HBM, then departs under swap: its KV is kept for the next
  // replica to pull, in HBM, and no eviction may take it; release() frees the 3 blocks.
  Rig r;
  r.idle(1);
  const Departure d = r.sched.depart(1, false, r.now);
  EXPECT_EQ(d.context_tokens, 12);
  EXPECT_EQ(d.kv_tokens, 12);
  EXPECT_EQ(d.tier, Tier::kHbm);
  EXPECT_EQ(r.sched.hbm().used_blocks(), 3);
  // A round of 30 tokens needs 8 blocks: only 7 are free, and the pinned session is no victim, so it waits.
  r.arrive(2, 0, 26, 4, false);
  EXPECT_FALSE(r.plan().has_step);
  r.sched.release(1, r.now);
  EXPECT_EQ(r.sched.hbm().used_blocks(), 0);
  EXPECT_TRUE(r.plan().has_step);  // the freed blocks admit it
}

TEST(SchedulerMove, RecomputePolicyDropsTheKvOnDeparture) {
  Rig r("recompute");
  r.idle(1);
  const Departure d = r.sched.depart(1, false, r.now);
  EXPECT_EQ(d.kv_tokens, 0);  // dropped: the next replica prefills the 12 tokens again
  EXPECT_EQ(d.context_tokens, 12);
  EXPECT_EQ(r.sched.hbm().used_blocks(), 0);
  EXPECT_EQ(r.sink.count("kv_dropped", 1), 1);
}

TEST(SchedulerMove, ArrivingSessionPullsItsKvFromTheOtherReplicaOnAdmission) {
  // A session with 12 tokens of KV on replica 3 arrives for its second round: admission allocates 12 + 5 + 3 = 20
  // tokens (5 blocks) and pulls 12 x 32 = 384 B from replica 3's HBM; the round prefills only its 5 new tokens.
  Rig r;
  RoundRequest req{7, 1, 5, 3, false, 0};
  req.context_tokens = 12;
  req.remote_kv_tokens = 12;
  req.remote = KvPlace{3, Tier::kHbm};
  r.sched.on_round_arrival(req, r.now);
  const Plan p = r.plan();
  ASSERT_EQ(p.transfers.size(), 1u);
  const TransferOrder& t = p.transfers[0];
  EXPECT_FALSE(t.local());
  EXPECT_EQ(t.from.replica, 3);
  EXPECT_EQ(t.from.tier, Tier::kHbm);
  EXPECT_DOUBLE_EQ(t.bytes, 384);
  EXPECT_FALSE(p.has_step);  // stalled until the KV lands
  r.landed(t);
  const Plan after = r.plan();
  ASSERT_EQ(after.batch.size(), 1u);
  EXPECT_EQ(after.batch[0], (BatchEntry{7, 5, 12, true}));
  EXPECT_EQ(r.sched.hbm().used_blocks(), 5);
}

TEST(SchedulerMove, ArrivingSessionWithoutKvRecomputesItsContext) {
  Rig r;
  RoundRequest req{7, 1, 5, 3, false, 0};
  req.context_tokens = 12;  // its KV was dropped where it was
  r.sched.on_round_arrival(req, r.now);
  const Plan p = r.plan();
  EXPECT_TRUE(p.transfers.empty());
  ASSERT_EQ(p.batch.size(), 1u);
  EXPECT_EQ(p.batch[0], (BatchEntry{7, 17, 0, true}));  // 12 recomputed + 5 new
}

TEST(SchedulerMove, PrefillLegHandsOffAtItsFirstTokenAndKeepsTheKv) {
  Rig r;
  RoundRequest req{1, 0, 10, 1, false, 0};
  req.leg = Leg::kPrefill;
  r.sched.on_round_arrival(req, r.now);
  r.finish(1);
  EXPECT_EQ(r.sink.count("round_done", 1), 0);  // the round goes on elsewhere
  EXPECT_EQ(r.sched.hbm().used_blocks(), 3);    // 11 tokens: the prompt and the first token
  const Departure d = r.sched.depart(1, true, r.now);
  EXPECT_EQ(d.kv_tokens, 11);
  r.sched.release(1, r.now);
  EXPECT_EQ(r.sched.hbm().used_blocks(), 0);
  EXPECT_TRUE(r.sched.idle());
}

TEST(SchedulerMove, LayerwisePrefillStreamsAllButTheLastLayersShare) {
  // With one layer, the last chunk streams (1 - 1/1) = nothing; a first chunk of 8 of 10 tokens streams all its
  // 8 x 32 = 256 B. Budget 8 makes the prefill two chunks.
  Rig r("swap", "lru", 10, 8);
  RoundRequest req{1, 0, 10, 1, false, 0};
  req.leg = Leg::kPrefill;
  req.stream_to = 4;
  r.sched.on_round_arrival(req, r.now);
  const Plan first = r.plan();
  ASSERT_EQ(first.streams.size(), 1u);
  EXPECT_EQ(first.streams[0].to, 4);
  EXPECT_DOUBLE_EQ(first.streams[0].bytes, 256);
  r.done();
  EXPECT_TRUE(r.plan().streams.empty());
  r.done();  // the last chunk makes the first token: the prefill leg is over
  EXPECT_DOUBLE_EQ(r.sched.depart(1, true, r.now).streamed_bytes, 256);
}

TEST(Topology, ReplicasFillNodesAndPoolsShareThemOnlyWhenAlike) {
  Deployment a100;
  a100.gpu.name = "a100";
  Deployment h100 = a100;
  h100.gpu.name = "h100";
  Topology t;
  a100.tensor_parallel = 2;
  t.pools.push_back(Pool{"a", PoolRole::kDecode, a100, 3, "", "", 8});  // 6 GPUs: node 0
  a100.tensor_parallel = 1;
  t.pools.push_back(Pool{"b", PoolRole::kPrefill, a100, 3, "", "", 8});  // 2 on node 0, 1 on node 1
  t.pools.push_back(Pool{"c", PoolRole::kPrefill, h100, 1, "", "", 8});  // another GPU: node 2
  h100.tensor_parallel = 16;
  t.pools.push_back(Pool{"d", PoolRole::kPrefill, h100, 1, "", "", 8});  // 16 GPUs: nodes 3 and 4
  EXPECT_EQ(t.node_of(0), 0);
  EXPECT_EQ(t.node_of(2), 0);
  EXPECT_EQ(t.node_of(3), 0);
  EXPECT_EQ(t.node_of(4), 0);
  EXPECT_EQ(t.node_of(5), 1);
  EXPECT_EQ(t.node_of(6), 2);
  EXPECT_EQ(t.node_of(7), 4);
  t.pools[1].own_nodes = true;
  EXPECT_EQ(t.node_of(3), 1);
  EXPECT_EQ(t.gpu_count(), 6 + 3 + 1 + 16);
  EXPECT_TRUE(t.disaggregated());
}

}  // namespace
}  // namespace kvsim
