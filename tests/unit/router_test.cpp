// The routers of engine/cluster/, each deciding on a hand-built cluster state: which candidate a round goes to given
// the candidates' live sessions, rounds in flight, free KV blocks, where the session's KV lives and what the
// router has sent where before.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "engine/cluster/router.hpp"

namespace kvsim {
namespace {

/// A candidate: global replica index, live sessions, running and waiting rounds, free KV blocks (of 1000).
ReplicaLoad load(int replica, long sessions, int active = 0, int waiting = 0, std::int64_t free_blocks = 1000) {
  ReplicaLoad r;
  r.replica = replica;
  r.sessions = sessions;
  r.state.active_rounds = active;
  r.state.waiting_rounds = waiting;
  r.kv_blocks = 1000;
  r.free_kv_blocks = free_blocks;
  return r;
}

/// A round of session 1: round `round`, its KV on `home` (-1: none) with `context` tokens, prompt blocks `blocks`
/// of 512 tokens each.
RouteRequest round_of(int round, int home, std::int64_t context, const std::vector<std::uint64_t>& blocks = {}) {
  return RouteRequest{.session = 1,
                      .round = round,
                      .home = home,
                      .context_tokens = context,
                      .prompt_tokens = 100,
                      .prefix_blocks = blocks,
                      .prefix_block_tokens = 512};
}

TEST(Routers, NamesInRegistrationOrder) {
  const std::vector<std::string> names{"round-robin", "least-loaded", "least-kv", "session-affinity", "prefix-aware"};
  EXPECT_EQ(routers().names(), names);
  for (const auto& n : names) EXPECT_EQ(routers().make(n)->name(), n);
}

// Seven rounds over three candidates (replicas 4-6 of a second pool) go 0, 1, 2, 0, 1, 2, 0 whatever the load
// (replica 4 is the busiest) and wherever the KV is (always replica 5).
TEST(RoundRobinRouter, RoundIToCandidateIModN) {
  const auto router = routers().make("round-robin");
  const std::vector<ReplicaLoad> pool{load(4, 9, 8, 8, 0), load(5, 0), load(6, 1)};
  for (int i = 0; i < 7; ++i) EXPECT_EQ(router->route(round_of(i, i == 0 ? -1 : 5, 1000 * i), pool), i % 3u) << i;
}

// Sessions {3, 1, 1, 2}: candidate 1 (the first of the two with one). A later round of a session whose KV is on
// replica 0 is moved to candidate 1 too: the rule applies to every round.
TEST(LeastLoadedRouter, FewestSessionsTiesToLowestIndexEvenAwayFromHome) {
  const auto router = routers().make("least-loaded");
  const std::vector<ReplicaLoad> pool{load(0, 3), load(1, 1, 5, 5), load(2, 1), load(3, 2)};
  EXPECT_EQ(router->route(round_of(0, -1, 0), pool), 1u);
  EXPECT_EQ(router->route(round_of(2, 0, 20000), pool), 1u);
}

// Free blocks {10, 30, 30, 5} with sessions {0, 2, 1, 0}: candidates 1 and 2 have the most, 2 has fewer sessions.
// With free blocks and sessions all equal, the lowest index.
TEST(LeastKvRouter, MostFreeBlocksThenFewerSessionsThenLowestIndex) {
  const auto router = routers().make("least-kv");
  const std::vector<ReplicaLoad> pool{load(0, 0, 0, 0, 10), load(1, 2, 0, 0, 30), load(2, 1, 0, 0, 30),
                                      load(3, 0, 0, 0, 5)};
  EXPECT_EQ(router->route(round_of(0, -1, 0), pool), 2u);
  EXPECT_EQ(router->route(round_of(1, 0, 5000), pool), 2u);  // moves the session off replica 0
  const std::vector<ReplicaLoad> even{load(7, 1, 0, 0, 50), load(8, 1, 0, 0, 50)};
  EXPECT_EQ(router->route(round_of(0, -1, 0), even), 0u);
}

// Candidates are replicas 4-6 with sessions {2, 0, 1}. A first round goes to the fewest sessions (candidate 1); a
// later round whose KV is on replica 6 goes there (candidate 2) though it has more; one whose KV is on replica 2,
// outside this pool (a prefill replica, say), is placed like a first round.
TEST(SessionAffinityRouter, LaterRoundsGoHomeFirstRoundsToFewestSessions) {
  const auto router = routers().make("session-affinity");
  const std::vector<ReplicaLoad> pool{load(4, 2), load(5, 0), load(6, 1, 3, 4, 0)};
  EXPECT_EQ(router->route(round_of(0, -1, 0), pool), 1u);
  EXPECT_EQ(router->route(round_of(3, 6, 30000), pool), 2u);
  EXPECT_EQ(router->route(round_of(3, 2, 30000), pool), 1u);
  const std::vector<ReplicaLoad> tie{load(4, 1), load(5, 1)};
  EXPECT_EQ(router->route(round_of(0, -1, 0), tie), 0u);
}

// Default load cap 4. Blocks {1, 2, 3} first go to candidate 0 (all idle: lowest index), so the index holds them on
// replica 10. A prompt {1, 2, 9} matches 2 blocks = 1024 tokens there and none on replica 11: it goes to replica 10
// while that has at most 0 + 4 live sessions, and to replica 11 at 5 (over the cap).
TEST(PrefixAwareRouter, LongestCachedPrefixWithinTheLoadCap) {
  const auto router = routers().make("prefix-aware");
  EXPECT_EQ(router->route(round_of(0, -1, 0, {1, 2, 3}), std::vector{load(10, 0), load(11, 0)}), 0u);
  EXPECT_EQ(router->route(round_of(0, -1, 0, {1, 2, 9}), std::vector{load(10, 4, 9, 9), load(11, 0)}), 0u);
  EXPECT_EQ(router->route(round_of(0, -1, 0, {1, 2, 9}), std::vector{load(10, 5), load(11, 0)}), 1u);
  // With no prefix anywhere (block 42 never sent), fewer live sessions wins, whatever the schedulers' queues.
  EXPECT_EQ(router->route(round_of(0, -1, 0, {42}), std::vector{load(10, 1, 0), load(11, 0, 3, 3)}), 1u);
}

// The session's own KV is a prefix: replica 11, its home, scores its context. Replica 10 holds blocks {1, 2, 3} =
// 1536 tokens of the prompts {1, 2, 3, 5} and {1, 2, 3, 4}: a 1000-token context at home loses to it, a 2000-token
// one beats it. (The losing case first: the winning one records {1, 2, 3, 4} on replica 11.)
TEST(PrefixAwareRouter, HomeScoresAtLeastItsContext) {
  const auto router = routers().make("prefix-aware");
  const std::vector<ReplicaLoad> idle{load(10, 0), load(11, 0)};
  ASSERT_EQ(router->route(round_of(0, -1, 0, {1, 2, 3}), idle), 0u);
  EXPECT_EQ(router->route(round_of(1, 11, 1000, {1, 2, 3, 5}), idle), 0u);
  EXPECT_EQ(router->route(round_of(1, 11, 2000, {1, 2, 3, 4}), idle), 1u);
}

// An index of 3 (block, replica) pairs, least recently sent out first. Replica 10 is sent {1, 2}, then {1} again
// (a 512-token match: it goes there and refreshes block 1), replica 11 (less busy, no match anywhere) {7} then {8}:
// the fourth pair evicts (2, replica 10), the least recently sent, not (1, replica 10), the first inserted. So {1}
// still goes to replica 10 (512 tokens over 1 more live session, within the cap) and {2} to replica 11 (no match
// left: the less busy one).
TEST(PrefixAwareRouter, IndexEvictsLeastRecentlySent) {
  const auto router = routers().make("prefix-aware", Params{{"index_blocks", 3}});
  const std::vector<ReplicaLoad> idle{load(10, 0), load(11, 0)};
  const std::vector<ReplicaLoad> busy10{load(10, 1), load(11, 0)};
  ASSERT_EQ(router->route(round_of(0, -1, 0, {1, 2}), idle), 0u);
  ASSERT_EQ(router->route(round_of(0, -1, 0, {1}), busy10), 0u);
  ASSERT_EQ(router->route(round_of(0, -1, 0, {7}), busy10), 1u);
  ASSERT_EQ(router->route(round_of(0, -1, 0, {8}), busy10), 1u);
  EXPECT_EQ(router->route(round_of(0, -1, 0, {1}), busy10), 0u);
  EXPECT_EQ(router->route(round_of(0, -1, 0, {2}), busy10), 1u);
}

}  // namespace
}  // namespace kvsim
