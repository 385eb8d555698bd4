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
// 10 us of latency (p asks for nodes of its own). Pools are numbered in name order: d is replica 0, p replica 1.
std::vector<std::string> pd_pair(std::vector<std::string> sets) {
  std::vector<std::string> out{"cluster.pools.p.role=prefill",   "cluster.pools.p.replicas=1",
                               "cluster.pools.p.own_nodes=true", "cluster.pools.d.role=decode",
                               "cluster.pools.d.replicas=1",     "cluster.network.bandwidth=25GBps",
                               "cluster.network.latency=10us"};
  out.insert(out.end(), sets.begin(), sets.end());  // the test's own settings win
  return out;
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

TEST(PrefillDecode, LayerwiseTransferHidesAllButTheLastLayerBehindThePrefill) {
  // Layer by layer, 59 of Yi-34B's 60 layers' KV leaves during the 14.87 s prefill step (0.48 s of sending at
  // 25 GB/s: hidden); the last layer's 1/60, computed at the step's end, follows it: 12.31 GB / 60 / 25 GB/s = 8.2 ms.
  // The step, which sends over the network, pays the 10 us latency once, and the last layer's move once more.
  const Scenario s =
      scenario(pd_pair({"workload.rounds=1", "workload.arrival.times=0s", "cluster.pd.transfer=layerwise"}));
  const RunResult r = run_scenario(s, RunOptions{true});
  const RoundRow& row = r.metrics->rounds()[0];
  const CostModel cost(s.model, s.topology.pools[0].deployment, s.scheduler.attention_flops);
  const double prefill = analyze_peak(cost, 50100, 250).prefill_s;
  const double prompt_bytes = 50100 * kKvPerToken, kv_bytes = 50101 * kKvPerToken;
  const double last_layer = kv_bytes - prompt_bytes * 59.0 / 60.0;  // the rest: the last layer and the first token
  EXPECT_NEAR(row.kv_transfer_s, last_layer / 25e9 + 10e-6, 1e-9);
  EXPECT_NEAR(row.ttft_s, prefill + 10e-6 + last_layer / 25e9 + 10e-6, 1e-9 * prefill);
  ASSERT_EQ(r.metrics->network().size(), 1u);
  EXPECT_NEAR(r.metrics->network()[0].bytes, kv_bytes, 1);
}

TEST(PrefillDecode, LayerwiseTransferSlowerThanThePrefillSetsTheStep) {
  // At 0.5 GB/s the 59 layers' KV takes 12.31 GB x 59/60 / 0.5 GB/s = 24.2 s, longer than the 14.87 s prefill: the
  // step lasts as long as its sending, then the last layer follows (246 ms).
  const Scenario s = scenario(pd_pair({"workload.rounds=1", "workload.arrival.times=0s",
                                       "cluster.pd.transfer=layerwise", "cluster.network.bandwidth=0.5GBps"}));
  const RunResult r = run_scenario(s, RunOptions{true});
  const RoundRow& row = r.metrics->rounds()[0];
  const double streamed = 50100 * kKvPerToken * 59.0 / 60.0, kv_bytes = 50101 * kKvPerToken;
  EXPECT_NEAR(row.ttft_s, streamed / 0.5e9 + (kv_bytes - streamed) / 0.5e9 + 2 * 10e-6, 1e-6);
}

TEST(PrefillDecode, LaterRoundsStayOnTheDecodeReplicaAndMoveNoMoreKv) {
  // Three rounds, later_rounds decode (the default): rounds 2 and 3 prefill their questions where the KV is, so
  // the network carries one handoff only, and the auditor finds every token at one end or in flight.
  const RunResult r =
      run_scenario(scenario(pd_pair({"workload.rounds=3", "workload.arrival.times=0s"})), RunOptions{true});
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
  const RunResult r =
      run_scenario(scenario(pd_pair({"workload.rounds=2", "workload.arrival.times=0s",
                                     "cluster.pd.later_rounds=prefill", "scheduler.kv_offload.policy=recompute"})),
                   RunOptions{true});
  EXPECT_EQ(r.metrics->network().size(), 2u);
  EXPECT_EQ(paper_example::row(r, 0, 2).recompute_tokens, 50350);
}

// Two mixed A100s on one DGX node, NVLink between them (300 GB/s per GPU), one session of 3 rounds.
const std::vector<std::string> kTwoMixed{"workload.rounds=3", "workload.arrival.times=0s",
                                         "cluster.pools.m.replicas=2"};

TEST(ClusterRouting, RoundRobinMovesTheKvBeforeEachLaterRound) {
  // Rounds go to replicas 0, 1, 0: before rounds 2 and 3 the KV crosses NVLink, 50,350 then 50,700 tokens
  // (12.37 GB / 300 GB/s = 41.2 ms; 12.46 GB = 41.5 ms), each stalling its round by that much.
  auto sets = kTwoMixed;
  sets.emplace_back("router.type=round-robin");
  const RunResult r = run_scenario(scenario(sets), RunOptions{true});
  const auto& net = r.metrics->network();
  ASSERT_EQ(net.size(), 2u);
  EXPECT_EQ(net[0].from, 0);
  EXPECT_EQ(net[0].to, 1);
  EXPECT_NEAR(net[0].bytes, 50350 * kKvPerToken, 1);
  EXPECT_NEAR(net[1].bytes, 50700 * kKvPerToken, 1);
  EXPECT_NEAR(paper_example::row(r, 0, 2).move_stall_s, 50350 * kKvPerToken / 300e9, 1e-9);
}

TEST(ClusterRouting, SessionAffinityMovesNothing) {
  const RunResult r = run_scenario(scenario(kTwoMixed), RunOptions{true});
  EXPECT_TRUE(r.metrics->network().empty());
  EXPECT_EQ(paper_example::row(r, 0, 3).replica, 0);
}

}  // namespace
}  // namespace kvsim
