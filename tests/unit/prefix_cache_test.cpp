// The prefix cache: its books alone (PrefixCache), then inside the scheduler on the tiny replica of
// scheduler_rig.hpp with 8-token prefix blocks:
//   KV per token 32 B; HBM ledger block = 4 tokens = 128 B; 10 ledger blocks = 40 tokens of KV.
//   prefix block = 8 tokens = 2 ledger blocks = 8 x 32 B = 256 B.
#include <gtest/gtest.h>

#include <vector>

#include "engine/prefix_cache.hpp"
#include "engine/sched/fcfs_reserve.hpp"
#include "tests/unit/scheduler_rig.hpp"

namespace kvsim {
namespace {
using namespace scheduler_test;

using Ids = std::vector<std::uint64_t>;

PrefixCache cache_with(const Ids& ids) {
  PrefixCache c(8, 2, 256);
  for (std::uint64_t id : ids) EXPECT_TRUE(c.insert(id));
  return c;
}

TEST(PrefixCache, ChainHitsUntilTheFirstMiss) {
  const PrefixCache c = cache_with({1, 2, 3});
  // 40 tokens = 5 full blocks, 4 ids: 4 looked up; 1, 2, 3 cached, 4 not.
  const PrefixMatch m = c.lookup(Ids{1, 2, 3, 4}, 40);
  EXPECT_EQ(m.looked_up, 4);
  EXPECT_EQ(m.hbm, 3);
  EXPECT_EQ(m.ddr, 0);
  // A miss in the middle ends the chain, though block 3 is cached: hashes match from the first block only.
  EXPECT_EQ(c.lookup(Ids{1, 9, 3}, 40).hbm, 1);
  EXPECT_EQ(c.lookup(Ids{5, 1, 2}, 40).hbm, 0);
  EXPECT_EQ(c.lookup(Ids{}, 40).looked_up, 0);
}

TEST(PrefixCache, PartialPrefixAndLastTokenAlwaysPrefilled) {
  const PrefixCache c = cache_with({1, 2});
  // 20 tokens: 2 full blocks (16 tokens) and 4 more; both blocks match.
  EXPECT_EQ(c.lookup(Ids{1, 2, 3}, 20).looked_up, 2);
  EXPECT_EQ(c.lookup(Ids{1, 2, 3}, 20).hbm, 2);
  // 16 tokens: both blocks are full, but reusing both would leave no token to prefill: only the first is used.
  EXPECT_EQ(c.lookup(Ids{1, 2}, 16).looked_up, 2);
  EXPECT_EQ(c.lookup(Ids{1, 2}, 16).hbm, 1);
  // 7 tokens: no full block.
  EXPECT_EQ(c.lookup(Ids{1}, 7).looked_up, 0);
}

TEST(PrefixCache, LeastRecentlyUsedFirstAndPinnedNever) {
  PrefixCache c = cache_with({1, 2, 3});
  EXPECT_EQ(c.oldest_in_hbm(), 1u);
  c.pin(Ids{1});
  EXPECT_EQ(c.oldest_in_hbm(), 2u);  // pinned: not evictable
  c.unpin(Ids{1}, true);             // used just now: the most recent
  EXPECT_EQ(c.oldest_in_hbm(), 2u);
  c.drop(2);
  EXPECT_EQ(c.oldest_in_hbm(), 3u);
  c.drop(3);
  EXPECT_EQ(c.oldest_in_hbm(), 1u);
  c.pin(Ids{1});
  EXPECT_FALSE(c.oldest_in_hbm());
  EXPECT_EQ(c.pins(1), 1);
  EXPECT_EQ(c.hbm_blocks(), 1);
  EXPECT_EQ(c.hbm_ledger_blocks(), 2);
  EXPECT_FALSE(c.insert(1));  // already cached: nothing changes
  EXPECT_EQ(c.size(), 1u);
}

TEST(PrefixCache, UnpinnedTogetherTheTailGoesFirst) {
  PrefixCache c = cache_with({1, 2, 3});
  c.pin(Ids{1, 2, 3});
  c.unpin(Ids{1, 2, 3}, true);
  EXPECT_EQ(c.oldest_in_hbm(), 3u);
  c.drop(3);
  EXPECT_EQ(c.oldest_in_hbm(), 2u);
}

TEST(PrefixCache, OffloadAndLoadMoveBlocksBetweenTiers) {
  PrefixCache c = cache_with({1, 2});
  c.begin_offload(1);
  EXPECT_EQ(c.hbm_blocks(), 2);                     // HBM is freed when the copy lands
  EXPECT_EQ(c.ddr_blocks(), 1);                     // DDR is reserved when it starts
  EXPECT_EQ(c.lookup(Ids{1, 2}, 24).matched(), 0);  // moving: not matched
  c.end_offload(1);
  EXPECT_EQ(c.hbm_blocks(), 1);
  EXPECT_DOUBLE_EQ(c.ddr_bytes(), 256);
  const PrefixMatch m = c.lookup(Ids{1, 2}, 24);
  EXPECT_EQ(m.ddr, 1);
  EXPECT_EQ(m.hbm, 1);
  EXPECT_EQ(c.oldest_in_ddr(), 1u);
  c.pin(Ids{1, 2});
  EXPECT_FALSE(c.oldest_in_ddr());
  EXPECT_EQ(c.begin_load(Ids{1, 2}), 1);
  EXPECT_EQ(c.hbm_blocks(), 2);
  c.end_load(Ids{1, 2});
  EXPECT_EQ(c.ddr_blocks(), 0);
  EXPECT_EQ(c.tier(1), BlockTier::kHbm);
  EXPECT_EQ(c.recount(), (std::pair<std::int64_t, std::int64_t>{2, 0}));
}

// The scheduler on the tiny replica, with 8-token prefix blocks.
struct PrefixRig : Rig {
  explicit PrefixRig(const std::string& policy = "swap") : Rig(policy, "lru", 10, 64, 1e6, 1000, 8) {}
  void arrive_ids(SessionId s, std::int64_t prompt, std::int64_t answer, const Ids& ids) {
    kept.push_back(ids);
    RoundRequest req{s, 0, prompt, answer, true, 0};
    req.prefix_blocks = kept.back();
    sched.on_round_arrival(req, now);
    check();
  }
  std::vector<Ids> kept;  ///< the rounds' block ids outlive them, as the trace does in a run
};

// Request 1 (20 tokens, blocks 11 12 + 4 tokens) misses and leaves its 2 full blocks in the cache; request 2
// extends that prefix and prefills only its 4-token suffix on top of 16 cached tokens.
TEST(SchedulerPrefix, SecondRequestPrefillsOnlyTheSuffix) {
  PrefixRig r;
  r.arrive_ids(1, 20, 2, {11, 12, 13});
  r.finish(1);
  ASSERT_EQ(r.sink.lookups.size(), 1u);
  EXPECT_EQ(r.sink.lookups[0].blocks, 2);  // 20 tokens = 2 full blocks of 8
  EXPECT_EQ(r.sink.lookups[0].hbm_hits, 0);
  // 22 tokens of KV (prompt + answer) = 6 ledger blocks; the 2 full prompt blocks (4 ledger blocks) stay cached.
  EXPECT_EQ(r.sched.prefix().hbm_blocks(), 2);
  EXPECT_EQ(r.sched.hbm().used_blocks(), 4);
  EXPECT_EQ(r.sink.of("session_end").back().n, 22);

  r.arrive_ids(2, 20, 2, {11, 12, 99});
  const Plan p = r.plan();
  ASSERT_EQ(p.batch.size(), 1u);
  EXPECT_EQ(p.batch[0], (BatchEntry{2, 4, 16, true}));
  // Causal FLOPs = 4 x (2 x 1000 + 2 x 1 x 8 x (16 + (4 + 1) / 2)) = 9184 at 1e6 FLOP/s = 9.184 ms (HBM: 2000 +
  // 20 x 32 B = 2.64 ms).
  EXPECT_DOUBLE_EQ(p.cost.seconds, 0.009184);
  EXPECT_DOUBLE_EQ(p.cost.seconds, r.cost.prefill(4, 16).seconds);
  ASSERT_EQ(r.sink.lookups.size(), 2u);
  EXPECT_EQ(r.sink.lookups[1].hbm_hits, 2);
  EXPECT_EQ(r.sink.lookups[1].ddr_hits, 0);
  EXPECT_EQ(r.sink.lookups[1].tokens_saved, 16);
  EXPECT_EQ(r.sched.prefix().pins(11), 1);
  // Cache 4 blocks + the round's own 4 prompt tokens and first answer token = 2 blocks.
  EXPECT_EQ(r.sched.hbm().used_blocks(), 6);
  r.done();
  r.finish(2);
  EXPECT_EQ(r.sched.prefix().pins(11), 0);
  EXPECT_EQ(r.sink.of("session_end").back().n, 6);  // its own 4 + 2 tokens; the prefix is the cache's
}

// Request 3 (no ids, 30 + 2 tokens = 8 ledger blocks) needs 2 more than the 6 free: the least recently used cache
// block, the chain's tail (12), is offloaded (256 B to DDR). Request 4 then finds 11 in HBM and 12 in DDR and
// loads exactly 1 block x 8 tokens x 32 B = 256 B before its suffix prefill.
TEST(SchedulerPrefix, EvictedPrefixIsLoadedBackFromDdr) {
  PrefixRig r;
  r.arrive_ids(1, 20, 2, {11, 12, 13});
  r.finish(1);
  r.arrive(3, 0, 30, 2, true);
  Plan p = r.plan();
  EXPECT_FALSE(p.has_step);
  ASSERT_EQ(p.transfers.size(), 1u);
  EXPECT_TRUE(p.transfers[0].to_host());
  EXPECT_DOUBLE_EQ(p.transfers[0].bytes, 256);
  EXPECT_EQ(r.sched.prefix().tier(12), BlockTier::kOffloading);
  EXPECT_EQ(r.sched.prefix().tier(11), BlockTier::kHbm);
  r.landed(p.transfers[0]);
  EXPECT_EQ(r.sched.prefix().tier(12), BlockTier::kDdr);
  EXPECT_DOUBLE_EQ(r.sched.ddr().used_bytes(), 256);
  ASSERT_EQ(r.sink.prefix_offloads.size(), 1u);
  r.finish(3);

  r.arrive_ids(4, 20, 2, {11, 12, 99});
  p = r.plan();
  EXPECT_FALSE(p.has_step);  // stalled until its prefix lands
  ASSERT_EQ(p.transfers.size(), 1u);
  EXPECT_FALSE(p.transfers[0].to_host());
  EXPECT_EQ(p.transfers[0].session, 4u);
  EXPECT_DOUBLE_EQ(p.transfers[0].bytes, 1 * 8 * 32);
  EXPECT_EQ(r.sink.lookups.back().hbm_hits, 1);
  EXPECT_EQ(r.sink.lookups.back().ddr_hits, 1);
  EXPECT_EQ(r.sink.lookups.back().tokens_saved, 16);
  r.landed(p.transfers[0]);
  EXPECT_DOUBLE_EQ(r.sched.ddr().used_bytes(), 0);
  p = r.plan();
  ASSERT_EQ(p.batch.size(), 1u);
  EXPECT_EQ(p.batch[0], (BatchEntry{4, 4, 16, true}));
  r.done();
  r.finish(4);
}

// Under `recompute` the evicted cache block is dropped, not offloaded: no transfer, and request 4 reuses block 11
// only (8 tokens) and prefills 12 again.
TEST(SchedulerPrefix, RecomputePolicyDropsCacheBlocks) {
  PrefixRig r("recompute");
  r.arrive_ids(1, 20, 2, {11, 12, 13});
  r.finish(1);
  r.arrive(3, 0, 30, 2, true);
  Plan p = r.plan();
  EXPECT_TRUE(p.transfers.empty());
  EXPECT_TRUE(p.has_step);
  EXPECT_FALSE(r.sched.prefix().tier(12));
  EXPECT_EQ(r.sched.prefix().tier(11), BlockTier::kHbm);
  r.done();
  r.finish(3);
  r.arrive_ids(4, 20, 2, {11, 12, 99});
  p = r.plan();
  ASSERT_EQ(p.batch.size(), 1u);
  EXPECT_EQ(p.batch[0], (BatchEntry{4, 12, 8, true}));
  EXPECT_EQ(r.sink.lookups.back().hbm_hits, 1);
  EXPECT_EQ(r.sink.lookups.back().tokens_saved, 8);
}

// While request 2 runs, its prefix (4 ledger blocks) is pinned: request 5 (30 + 2 tokens = 8 blocks) waits rather
// than evict it, and is admitted once request 2 ends, evicting the least recently used unpinned block.
TEST(SchedulerPrefix, PinnedBlocksAreNotEvicted) {
  PrefixRig r("recompute");
  r.arrive_ids(1, 20, 2, {11, 12, 13});
  r.finish(1);
  r.arrive_ids(2, 20, 2, {11, 12, 99});
  r.plan();
  r.arrive(5, 0, 30, 2, true);
  r.done();
  const Plan p = r.plan();
  ASSERT_EQ(p.batch.size(), 1u);
  EXPECT_EQ(p.batch[0].session, 2u);
  EXPECT_EQ(r.sched.prefix().tier(11), BlockTier::kHbm);
  EXPECT_EQ(r.sched.prefix().tier(12), BlockTier::kHbm);
  r.done();  // request 2's last token: it ends and unpins
  const Plan q = r.plan();
  ASSERT_EQ(q.batch.size(), 1u);
  EXPECT_EQ(q.batch[0], (BatchEntry{5, 30, 0, true}));
  EXPECT_FALSE(r.sched.prefix().tier(12));  // the tail, least recently used, dropped: 6 + 2 = 8 blocks free
  EXPECT_EQ(r.sched.prefix().tier(11), BlockTier::kHbm);
}

// With the cache switched off, block ids change nothing.
TEST(SchedulerPrefix, SwitchedOffPrefillsEverything) {
  RecordingSink sink;
  CostModel cost(tiny_model(), tiny_gpu(10));
  FcfsReserveScheduler sched(cost, SchedulerConfig{64, 256, 4, false, 8, false}, 1e6, make_offload_policy("swap"),
                         make_victim_policy("lru"), sink);
  const Ids ids{11, 12};
  RoundRequest req{1, 0, 20, 2, true, 0};
  req.prefix_blocks = ids;
  sched.on_round_arrival(req, 0);
  const Plan& p = sched.schedule(0, true);
  ASSERT_EQ(p.batch.size(), 1u);
  EXPECT_EQ(p.batch[0], (BatchEntry{1, 20, 0, true}));
  EXPECT_TRUE(sink.lookups.empty());
}

}  // namespace
}  // namespace kvsim
