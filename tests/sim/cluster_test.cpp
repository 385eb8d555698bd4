// Clusters on SimGrid against hand-computed times: KV moves between nodes share the NICs, a prefill/decode round's
// TTFT is its prefill plus its KV over the network, and KV that moves is never lost or counted twice (the auditor
// checks both ends after every event). Each TEST runs its own SimGrid engine in its own process.
#include <gtest/gtest.h>

#include "engine/peak_analysis.hpp"
#include "sim/activities.hpp"
#include "sim/platform.hpp"
#include "sim/run.hpp"
#include "tests/sim/paper_example.hpp"

namespace kvsim {
namespace {
namespace sg4 = simgrid::s4u;
using paper_example::kKvPerToken;
using paper_example::scenario;

// Three replicas of 8 GPUs each, one per node, joined by 400 Gb/s NICs with 5 us of latency.
Topology three_nodes() {
  Deployment d;
  d.gpu.hbm_capacity = 80e9;
  d.gpu.hbm_bandwidth = 2e12;
  d.gpu.nvlink.bandwidth = 300e9;
  d.host_link.bandwidth = 32e9;
  d.tensor_parallel = 8;
  Topology t = Topology::single(d, 3);
  t.network = Network{50e9, 5e-6};
  return t;
}

// A pull of `bytes` of a session's KV by replica `to` from replica `from`'s HBM.
sg4::ExecPtr pull(const std::vector<ReplicaHosts>& h, int from, int to, double bytes) {
  return start_transfer(h[static_cast<std::size_t>(to)], TransferOrder{1, 0, bytes, {from, Tier::kHbm}, {}}, &h);
}

double simulate(const Topology& t, const std::function<void(const std::vector<ReplicaHosts>&)>& body) {
  int argc = 2;
  char a0[] = "test", a1[] = "--log=root.thres:critical";
  char* argv[] = {a0, a1, nullptr};
  sg4::Engine engine(&argc, argv);
  configure_engine(engine);
  const auto hosts = build_platform(t);
  sg4::Actor::create("test", hosts[0].cpu, [&] { body(hosts); });
  engine.run();
  return sg4::Engine::get_clock();
}

TEST(ClusterNetwork, OneMoveTakesBytesOverTheNicPlusLatency) {
  // 12.4e9 B at 50 GB/s: 0.248 s, plus 5 us of latency.
  const double t = simulate(three_nodes(), [](const auto& h) { pull(h, 0, 1, 12.4e9)->wait(); });
  EXPECT_NEAR(t, 12.4e9 / 50e9 + 5e-6, 1e-9);
}

TEST(ClusterNetwork, TwoMovesFromOneNodeShareItsNic) {
  // Replicas 1 and 2 pull from node 0 at once: node 0's transmit side carries both, so each gets 25 GB/s and takes
  // twice as long as alone: 2 x 0.248 s (+ 5 us).
  double first = 0, second = 0;
  simulate(three_nodes(), [&](const auto& h) {
    auto a = pull(h, 0, 1, 12.4e9);
    auto b = pull(h, 0, 2, 12.4e9);
    a->wait();
    first = sg4::Engine::get_clock();
    b->wait();
    second = sg4::Engine::get_clock();
  });
  EXPECT_NEAR(first, 2 * 12.4e9 / 50e9 + 5e-6, 1e-9);
  EXPECT_NEAR(second, 2 * 12.4e9 / 50e9 + 5e-6, 1e-9);
}

TEST(ClusterNetwork, MovesInOppositeDirectionsDoNotShare) {
  // A NIC is full duplex: 0 -> 1 and 1 -> 0 each take 0.248 s as if alone.
  double a_end = 0, b_end = 0;
  simulate(three_nodes(), [&](const auto& h) {
    auto a = pull(h, 0, 1, 12.4e9);
    auto b = pull(h, 1, 0, 12.4e9);
    a->wait();
    a_end = sg4::Engine::get_clock();
    b->wait();
    b_end = sg4::Engine::get_clock();
  });
  EXPECT_NEAR(a_end, 12.4e9 / 50e9 + 5e-6, 1e-9);
  EXPECT_NEAR(b_end, 12.4e9 / 50e9 + 5e-6, 1e-9);
}

// The paper's example as a P/D pair: one A100 prefills, one decodes, on two nodes joined by a 25 GB/s NIC with
// 10 us of latency. Pools are numbered in name order: d is replica 0, p replica 1.
std::vector<std::string> pd_pair(std::vector<std::string> sets) {
  for (const char* s : {"cluster.pools.p.role=prefill", "cluster.pools.p.replicas=1", "cluster.pools.d.role=decode",
                        "cluster.pools.d.replicas=1", "cluster.network.bandwidth=25GBps",
                        "cluster.network.latency=10us"}) {
    sets.emplace_back(s);
  }
  return sets;
}

TEST(PrefillDecode, IdleRoundTtftIsPrefillPlusKvOverTheNetwork) {
  const Scenario s = scenario(pd_pair({"workload.rounds=1", "workload.arrival.times=0s"}));
  const RunResult r = run_scenario(s, RunOptions{true});
  ASSERT_EQ(r.metrics->rounds().size(), 1u);
  const RoundRow& row = r.metrics->rounds()[0];
  const CostModel cost(s.model, s.topology.pools[0].deployment, s.scheduler.attention_flops);
  const double prefill = analyze_peak(cost, 50100, 250).prefill_s;  // Eq. 7-8: 14.87 s for 50,100 tokens
  // The prefill ends with the first token: 50,101 tokens of KV x 245,760 B = 12.31 GB over 25 GB/s = 0.4925 s.
  const double kv_bytes = 50101 * kKvPerToken;
  EXPECT_NEAR(row.prefill_s, prefill, 1e-9 * prefill);
  EXPECT_NEAR(row.kv_transfer_s, kv_bytes / 25e9 + 10e-6, 1e-9);
  EXPECT_NEAR(row.ttft_s, prefill + kv_bytes / 25e9 + 10e-6, 1e-9 * prefill);
  EXPECT_EQ(row.replica, 1);
  EXPECT_EQ(row.decode_replica, 0);
  ASSERT_EQ(r.metrics->network().size(), 1u);
  EXPECT_NEAR(r.metrics->network()[0].bytes, kv_bytes, 1);
  // The decode replica makes tokens 2..250: 249 steps reading 50,101..50,349 tokens of KV.
  EXPECT_NEAR(row.decode_s, cost.decode_seconds(249, 50101), 1e-9 * row.decode_s);
}

TEST(PrefillDecode, LaterRoundsStayOnTheDecodeReplicaAndMoveNoMoreKv) {
  // Three rounds, later_rounds decode (the default): rounds 2 and 3 prefill their questions where the KV is, so
  // the network carries one handoff only, and the auditor finds every token at one end or in flight.
  const RunResult r = run_scenario(scenario(pd_pair({"workload.rounds=3", "workload.arrival.times=0s"})),
                                   RunOptions{true});
  ASSERT_EQ(r.metrics->rounds().size(), 3u);
  EXPECT_EQ(r.metrics->network().size(), 1u);
  EXPECT_EQ(paper_example::row(r, 0, 2).replica, 0);
  EXPECT_EQ(paper_example::row(r, 0, 3).decode_replica, -1);
}

TEST(PrefillDecode, LaterRoundsBackOnThePrefillPoolMoveTheKvBothWays) {
  // later_rounds prefill with the swap policy: round 2's KV comes back from the decode replica (a move), is
  // prefilled on and handed off again. Round 1 hands 50,101 tokens over; round 2 moves 50,350 back and hands
  // 50,451 over.
  const RunResult r = run_scenario(
      scenario(pd_pair({"workload.rounds=2", "workload.arrival.times=0s", "cluster.pd.later_rounds=prefill"})),
      RunOptions{true});
  const auto& net = r.metrics->network();
  ASSERT_EQ(net.size(), 3u);
  EXPECT_NEAR(net[0].bytes, 50101 * kKvPerToken, 1);
  EXPECT_FALSE(net[1].handoff);
  EXPECT_NEAR(net[1].bytes, 50350 * kKvPerToken, 1);
  EXPECT_NEAR(net[2].bytes, 50451 * kKvPerToken, 1);
  const RoundRow& r2 = paper_example::row(r, 0, 2);
  EXPECT_NEAR(r2.move_stall_s, 50350 * kKvPerToken / 25e9 + 10e-6, 1e-9);
}

TEST(PrefillDecode, RecomputePolicyDropsTheKvInsteadOfMovingItBack) {
  // The same with the recompute policy: round 2's context is prefilled again on the prefill replica (50,350 tokens
  // recomputed), and only the two handoffs cross the network.
  const RunResult r = run_scenario(scenario(pd_pair({"workload.rounds=2", "workload.arrival.times=0s",
                                                     "cluster.pd.later_rounds=prefill",
                                                     "scheduler.kv_offload.policy=recompute"})),
                                   RunOptions{true});
  EXPECT_EQ(r.metrics->network().size(), 2u);
  EXPECT_EQ(paper_example::row(r, 0, 2).recompute_tokens, 50350);
}

TEST(ClusterRouting, RoundRobinMovesEachLaterRoundAndAffinityMovesNone) {
  // Two mixed A100s on one DGX node (NVLink between them): round-robin sends each of a session's rounds to the
  // other replica, so its KV moves over NVLink before each later round; session-affinity keeps it in place.
  const std::vector<std::string> base{"workload.rounds=3", "workload.arrival.times=0s", "cluster.pools.m.replicas=2"};
  auto rr = base;
  rr.emplace_back("router.type=round-robin");
  const RunResult moved = run_scenario(scenario(rr), RunOptions{true});
  EXPECT_EQ(moved.metrics->network().size(), 2u);
  const RunResult kept = run_scenario(scenario(base), RunOptions{true});
  EXPECT_EQ(kept.metrics->network().size(), 0u);
}

}  // namespace
}  // namespace kvsim
