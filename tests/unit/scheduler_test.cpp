// FcfsReserveScheduler driven by hand, as sim/replica_actor.cpp drives it, on a tiny model whose numbers are easy:
// batching, chunked prefill, admission limits and the ledger invariant. Offload and victim policies under HBM
// pressure are in scheduler_policy_test.cpp.
//
// The tiny replica (the rig is in scheduler_rig.hpp):
//   KV per token = layers 1 x kv_heads 1 x head_dim 8 x 2 (K, V) x 2 B (bf16) = 32 B; block = 4 tokens = 128 B.
//   weights = 1000 params x 2 B = 2000 B; HBM = 2000 + 10 x 128 B  ->  10 KV blocks = 40 tokens.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "engine/sched/fcfs_reserve.hpp"
#include "tests/unit/scheduler_rig.hpp"

namespace kvsim {

namespace {
using namespace scheduler_test;

// 1. One round alone: P = 5, A = 4.
TEST(SchedulerBatching, OneRoundAlone) {
  Rig r;
  r.arrive(1, 0, 5, 4, false);
  Plan p = r.plan();
  ASSERT_TRUE(p.has_step);
  ASSERT_EQ(p.batch.size(), 1u);
  EXPECT_EQ(p.batch[0], (BatchEntry{1, 5, 0, true}));
  EXPECT_TRUE(p.transfers.empty());
  // Causal FLOPs (the default) = 5 x (2 x 1000 + 2 x 1 layer x 8 width x (0 + (5 + 1) / 2)) = 10240 at 1e6 FLOP/s
  // = 10.24 ms; HBM bytes = 2000 + 5 x 32 = 2160 B at 1e6 B/s = 2.16 ms, so compute-bound.
  EXPECT_DOUBLE_EQ(p.cost.flops_per_gpu, 10240);
  EXPECT_DOUBLE_EQ(p.cost.hbm_bytes_per_gpu, 2160);
  EXPECT_DOUBLE_EQ(p.cost.seconds, 0.01024);
  // The prefill writes the prompt's 5 tokens and the first answer token's KV: 6 tokens = 2 blocks.
  EXPECT_EQ(r.sched.hbm().used_blocks(), 2);
  EXPECT_EQ(r.sink.count("prefill_start", 1), 1);
  EXPECT_TRUE(r.done().empty());
  EXPECT_EQ(r.sink.count("prefill_done", 1), 1);
  ASSERT_EQ(r.sink.steps.size(), 1u);
  EXPECT_EQ(r.sink.steps[0].prefill_tokens, 5);
  EXPECT_EQ(r.sink.steps[0].decode_tokens, 0);
  // A - 1 = 3 decode steps of one token each, on 6, 7 and 8 cached tokens; the round ends after the third.
  for (int i = 0; i < 3; ++i) {
    p = r.plan();
    ASSERT_EQ(p.batch.size(), 1u);
    EXPECT_EQ(p.batch[0], (BatchEntry{1, 1, 6 + i, false}));
    const auto f = r.done();
    if (i < 2) {
      EXPECT_TRUE(f.empty()) << i;
    } else {
      ASSERT_EQ(f.size(), 1u);
      EXPECT_EQ(f[0].session, 1u);
      EXPECT_EQ(f[0].round, 0);
      EXPECT_FALSE(f[0].last);
    }
  }
  EXPECT_EQ(r.sink.count("round_done", 1), 1);
  EXPECT_EQ(r.sink.of("round_done")[0].n, 4);
  // Context 5 + 4 = 9 tokens = ceil(9 / 4) = 3 blocks, kept while the session is idle between rounds.
  EXPECT_EQ(r.sched.hbm().used_blocks(), 3);
  EXPECT_FALSE(r.plan().has_step);
  EXPECT_EQ(r.sched.hbm().used_blocks(), 3);
  EXPECT_EQ(r.sched.state().resident_sessions, 1);
  EXPECT_EQ(r.sink.count("session_end"), 0);
  // The last round: prompt 2 on top of the 9 cached tokens, answer 1 (the prefill's own token) -> 12 tokens.
  r.arrive(1, 1, 2, 1, true);
  p = r.plan();
  ASSERT_EQ(p.batch.size(), 1u);
  EXPECT_EQ(p.batch[0], (BatchEntry{1, 2, 9, true}));
  EXPECT_EQ(r.sched.hbm().used_blocks(), 3);
  const auto f = r.done();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_TRUE(f[0].last);
  EXPECT_EQ(r.sched.hbm().used_blocks(), 0);
  EXPECT_EQ(r.sink.count("session_end", 1), 1);
  EXPECT_EQ(r.sched.state().resident_sessions, 0);
  EXPECT_TRUE(r.sched.idle());
}

// 2. Chunked prefill: P = 10 with 4 tokens per step -> ceil(10 / 4) = 3 chunks of 4, 4, 2.
TEST(SchedulerBatching, ChunkedPrefill) {
  Rig r("swap", "lru", 10, /*budget=*/4);
  r.arrive(1, 0, 10, 2, true);
  const std::vector<BatchEntry> chunks{{1, 4, 0, true}, {1, 4, 4, true}, {1, 2, 8, true}};
  const std::vector<std::int64_t> blocks{1, 2, 3};  // 4, 8 and 10 + 1 (first answer token) tokens
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const Plan p = r.plan();
    ASSERT_EQ(p.batch.size(), 1u);
    EXPECT_EQ(p.batch[0], chunks[i]) << i;
    EXPECT_EQ(r.sched.hbm().used_blocks(), blocks[i]) << i;
    EXPECT_TRUE(r.done().empty());
    EXPECT_EQ(r.sink.count("prefill_done", 1), i == 2 ? 1 : 0) << i;
  }
  EXPECT_EQ(r.sink.count("prefill_start", 1), 1);
  const Plan p = r.plan();
  ASSERT_EQ(p.batch.size(), 1u);
  EXPECT_EQ(p.batch[0], (BatchEntry{1, 1, 11, false}));
  EXPECT_EQ(r.done().size(), 1u);
  EXPECT_TRUE(r.sched.idle());
}

// 3. Continuous batching with 8 tokens per step: two rounds prefill together and then decode together; a third
// round's prefill joins the decodes with what is left of the budget (8 - 2 = 6 tokens).
TEST(SchedulerBatching, DecodesShareAStepAndPrefillJoinsWithinBudget) {
  Rig r("swap", "lru", 10, /*budget=*/8);
  r.arrive(1, 0, 2, 5, false);
  r.arrive(2, 0, 2, 5, false);
  Plan p = r.plan();
  EXPECT_EQ(p.batch, (std::vector<BatchEntry>{{1, 2, 0, true}, {2, 2, 0, true}}));
  r.done();
  p = r.plan();
  EXPECT_EQ(p.batch, (std::vector<BatchEntry>{{1, 1, 3, false}, {2, 1, 3, false}}));
  r.done();
  EXPECT_EQ(r.sink.steps.back().decode_tokens, 2);
  EXPECT_EQ(r.sink.steps.back().batch_size, 2);
  r.arrive(3, 0, 8, 2, false);
  p = r.plan();
  EXPECT_EQ(p.batch, (std::vector<BatchEntry>{{1, 1, 4, false}, {2, 1, 4, false}, {3, 6, 0, true}}));
  r.done();
  EXPECT_EQ(r.sink.steps.back().prefill_tokens, 6);
  EXPECT_EQ(r.sink.steps.back().decode_tokens, 2);
  EXPECT_EQ(r.sink.steps.back().batch_size, 3);
  p = r.plan();  // 3's last 2 prompt tokens and its first answer token
  EXPECT_EQ(p.batch, (std::vector<BatchEntry>{{1, 1, 5, false}, {2, 1, 5, false}, {3, 2, 6, true}}));
  EXPECT_TRUE(r.done().empty());
  p = r.plan();  // answer token 5 of 1 and 2, token 2 of 3: all three rounds end
  EXPECT_EQ(p.batch, (std::vector<BatchEntry>{{1, 1, 6, false}, {2, 1, 6, false}, {3, 1, 9, false}}));
  EXPECT_EQ(r.done().size(), 3u);
  // 7 + 7 + 10 tokens = 2 + 2 + 3 blocks stay for the next rounds.
  EXPECT_EQ(r.sched.hbm().used_blocks(), 7);
}

// 8. A round whose final context exceeds the 40 tokens of HBM can never run.
TEST(SchedulerAdmission, ImpossibleRoundThrowsWithTheTokenCount) {
  Rig r;
  r.run_round(1, 0, 10, 2, false);  // context 12
  try {
    r.arrive(1, 1, 26, 3, true);  // 12 + 26 + 3 = 41 tokens = 11 blocks > 10
    FAIL() << "no ImpossibleRound";
  } catch (const ImpossibleRound& e) {
    EXPECT_NE(std::string(e.what()).find("41 tokens"), std::string::npos) << e.what();
  }
  try {
    r.arrive(2, 0, 38, 3, true);  // a first round of 41 tokens
    FAIL() << "no ImpossibleRound";
  } catch (const ImpossibleRound& e) {
    EXPECT_NE(std::string(e.what()).find("41 tokens"), std::string::npos) << e.what();
  }
  // Exactly 40 tokens fit, and the rejected arrival left session 1 intact.
  r.run_round(1, 1, 25, 3, true);
  EXPECT_EQ(r.sink.count("session_end", 1), 1);
  EXPECT_EQ(r.sched.hbm().used_blocks(), 0);
}

// 8b. Pruning after prefill (token.keep_after_prefill 0.5) on the tiny model: KV written 32 B/token, kept 16 B; the
// ledger counts in kept tokens of 16 B, so a 4-token block is 64 B. Until the prefill ends it holds the KV as
// written, the extra (32 - 16) B per prefilled token, and then drops to the kept KV.
TEST(SchedulerCompression, PrefillHoldsTheWrittenKvUntilItEndsThenKeepsThePrunedKv) {
  ModelSpec m = tiny_model();
  m.compression.token_keep_after_prefill = 0.5;
  Deployment gpu = tiny_gpu(0);
  gpu.gpu.hbm_capacity = 2000 + 20 * 64.0;  // 20 blocks of 4 kept tokens
  Rig r(m, gpu, /*budget=*/4);
  EXPECT_EQ(r.sched.hbm().total_blocks(), 20);
  r.arrive(1, 0, 10, 3, true);
  // Chunks of 4, 4 and 2 (+ the first answer token): kept 4, 8, 11 tokens plus as many again while unpruned.
  const std::vector<std::int64_t> blocks{2, 4, 6};  // ceil(8 / 4), ceil(16 / 4), ceil(22 / 4)
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    ASSERT_TRUE(r.plan().has_step);
    EXPECT_EQ(r.sched.hbm().used_blocks(), blocks[i]) << i;
    r.done();
  }
  EXPECT_EQ(r.sink.count("prefill_done", 1), 1);
  EXPECT_EQ(r.sched.hbm().used_blocks(), 3);  // pruned: 10 + 1 kept tokens = ceil(11 / 4)
  r.finish(1);
  EXPECT_EQ(r.sched.hbm().used_blocks(), 0);
  EXPECT_TRUE(r.sched.idle());
}

// 8c. The same model with 5 blocks (320 B): the kept KV of 10 + 3 tokens (208 B) fits, but the prefill's peak of
// 11 kept + 11 unpruned ledger tokens = 22 tokens = 6 blocks never does, and the round is refused with it.
TEST(SchedulerCompression, ARoundWhosePrefillPeakCannotFitIsRefused) {
  ModelSpec m = tiny_model();
  m.compression.token_keep_after_prefill = 0.5;
  Deployment gpu = tiny_gpu(0);
  gpu.gpu.hbm_capacity = 2000 + 5 * 64.0;
  Rig r(m, gpu, 64);
  try {
    r.arrive(1, 0, 10, 3, true);
    FAIL() << "no ImpossibleRound";
  } catch (const ImpossibleRound& e) {
    EXPECT_NE(std::string(e.what()).find("13 tokens = 22 x 16 B/token"), std::string::npos) << e.what();
  }
  r.arrive(2, 0, 8, 3, true);  // peak 9 + 9 = 18 tokens = 5 blocks: fits
  r.finish(2);
  EXPECT_TRUE(r.sched.idle());
}

// 8d. A 4-token sliding window on the tiny model's only layer: the KV stops at 4 tokens (128 B, one block), so a
// 100 + 50-token round runs in one block, where without the window it would need ceil(150 / 4) = 38.
TEST(SchedulerCompression, ASlidingWindowHoldsOnlyTheWindow) {
  ModelSpec m = tiny_model();
  m.compression.window = 4;
  Rig r(m, tiny_gpu(1), 16);
  EXPECT_EQ(r.cost.ledger_tokens(150), 4);
  r.arrive(1, 0, 100, 50, false);
  r.finish(1);
  EXPECT_EQ(r.sched.hbm().used_blocks(), 1);
  // Idle between rounds, its KV (the window, 4 x 32 B) is what an eviction would move.
  EXPECT_DOUBLE_EQ(r.cost.ledger_bytes(150), 128);
}

// 9. A longer scripted run (std::mt19937 seed 7) under HBM and DDR pressure, driven as the replica actor does:
// schedule after every event, then the earliest of arrival, step end and transfer end. After every call
// allocated - released == used and used <= total (Rig::check); every session that starts ends.
TEST(SchedulerInvariants, RandomScriptedRunKeepsTheLedgerAndEndsEverySession) {
  for (const char* policy : {"swap", "recompute"}) {
    SCOPED_TRACE(policy);
    Rig r(policy, "lru", 10, /*budget=*/8, /*ddr=*/600);
    std::mt19937 rng(7);
    auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    std::map<SessionId, std::vector<RoundRequest>> script;  // rounds still to arrive, in order
    std::multimap<double, SessionId> arrivals;
    for (SessionId s = 1; s <= 16; ++s) {
      const int rounds = uniform(1, 3);
      for (int k = 0; k < rounds; ++k) {  // at most 3 x (7 + 6) = 39 tokens: always fits 40
        script[s].push_back(RoundRequest{s, k, uniform(1, 7), uniform(1, 6), k == rounds - 1, 0.1 * uniform(0, 5)});
      }
      arrivals.emplace(0.05 * uniform(0, 20), s);  // within the first second
    }
    std::set<SessionId> started;
    std::multimap<double, std::uint64_t> transfers;
    double step_end = -1;
    for (int guard = 0; guard < 100000; ++guard) {
      const Plan& p = r.sched.schedule(r.now, step_end < 0);
      r.check();
      for (const auto& t : p.transfers) transfers.emplace(r.now + t.bytes / 1000.0, t.id);
      if (p.has_step) step_end = r.now + p.cost.seconds;
      double next = 1e300;
      if (!arrivals.empty()) next = arrivals.begin()->first;
      if (step_end >= 0) next = std::min(next, step_end);
      if (!transfers.empty()) next = std::min(next, transfers.begin()->first);
      if (next == 1e300) break;
      r.now = next;
      if (!arrivals.empty() && arrivals.begin()->first == next) {
        const SessionId s = arrivals.begin()->second;
        arrivals.erase(arrivals.begin());
        started.insert(s);
        r.sched.on_round_arrival(script[s].front(), r.now);
      } else if (step_end == next) {
        step_end = -1;
        for (const auto& f : r.sched.on_step_done(r.now)) {
          const double think = script[f.session].front().expected_think_s;
          script[f.session].erase(script[f.session].begin());
          if (!f.last) arrivals.emplace(r.now + think, f.session);
        }
      } else {
        const std::uint64_t id = transfers.begin()->second;
        transfers.erase(transfers.begin());
        r.sched.on_transfer_done(id, r.now);
      }
      r.check();
      if (::testing::Test::HasFatalFailure()) return;  // a broken ledger: stop at the first event that broke it
    }
    EXPECT_EQ(started.size(), 16u);
    std::set<SessionId> ended;
    for (const auto& e : r.sink.of("session_end")) ended.insert(e.session);
    EXPECT_EQ(ended, started);
    EXPECT_TRUE(r.sched.idle());
    EXPECT_EQ(r.sched.state().resident_sessions, 0);
    EXPECT_EQ(r.sched.hbm().used_blocks(), 0);
    EXPECT_DOUBLE_EQ(r.sched.ddr().used_bytes(), 0);
    // The script does put HBM under pressure: KV was dropped (recompute, or swap with DDR full) and swapped.
    EXPECT_GT(r.sink.count("kv_dropped"), 0);
    EXPECT_EQ(r.sink.count("swap_start") > 0, std::string(policy) == "swap");
    EXPECT_EQ(r.sink.count("swap_done"), r.sink.count("swap_start"));
  }
}

// 10. Unknown policy names list the valid ones.
TEST(SchedulerPolicies, UnknownNamesListTheValidOnes) {
  try {
    make_offload_policy("nope");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("nope"), std::string::npos) << m;
    EXPECT_NE(m.find("swap"), std::string::npos) << m;
    EXPECT_NE(m.find("recompute"), std::string::npos) << m;
  }
  try {
    make_victim_policy("nope");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    const std::string m = e.what();
    for (const char* n : {"lru", "longest-idle", "largest", "smallest"}) EXPECT_NE(m.find(n), std::string::npos) << m;
  }
  EXPECT_EQ(make_offload_policy("swap")->name(), "swap");
  EXPECT_EQ(make_offload_policy("recompute")->name(), "recompute");
}

}  // namespace
}  // namespace kvsim
