// `kvsim plan`'s pieces apart from running processes: the candidate space over a GPU budget, the Pareto frontier
// and the dominance test that prunes against it, and the analytic bounds that prune before simulating.
#include <gtest/gtest.h>

#include "sim/cli/plan_bounds.hpp"
#include "sim/cli/plan_frontier.hpp"
#include "sim/cli/plan_space.hpp"
#include "sim/diagnostics.hpp"

namespace kvsim::cli {
namespace {

const Catalog& catalog() {
  static const Catalog c = Catalog::load(KVSIM_PLATFORMS_DIR);
  return c;
}

PlanSpace space_of(const std::string& gpus, std::vector<int> tp) {
  PlanSpace s;
  s.budget = parse_gpu_budget(gpus, catalog());
  s.tensor_parallel = std::move(tp);
  s.routers = {"session-affinity", "least-loaded"};
  s.policies = {"swap", "recompute"};
  return s;
}

TEST(PlanSpace, EightGpusGiveFifteenDeploymentsTimesRoutersTimesPolicies) {
  // Mixed: tp 1, 2, 4, 8 -> 8, 4, 2, 1 replicas (4). P/D with one TP for both pools over R = 8 / tp replicas, the
  // prefill share p = 1 .. R-1: 7 + 3 + 1 + 0 = 11. 15 deployments x 2 routers x 2 policies = 60.
  const auto c = plan_candidates(space_of("a100:8", {1, 2, 4, 8}));
  ASSERT_EQ(c.size(), 60u);
  EXPECT_EQ(c[0].label(), "mixed 8 x a100-sxm-80g tp1, session-affinity, swap");
  EXPECT_EQ(c[3].label(), "mixed 8 x a100-sxm-80g tp1, least-loaded, recompute");
  EXPECT_EQ(c[16].label(), "pd 1 x a100-sxm-80g tp1 : 7 x a100-sxm-80g tp1, session-affinity, swap");
  for (std::size_t i = 0; i < c.size(); ++i) {
    EXPECT_EQ(c[i].index, i);
    EXPECT_EQ(c[i].gpus(), 8) << c[i].label();  // every split uses the whole budget
  }
  // Every pair of TPs instead: p prefill replicas of tp_p while p x tp_p + tp_d <= 8, d = (8 - p x tp_p) / tp_d.
  // tp_p 1: tp_d 1, 2, 4 give p <= 7, 6, 4 (17); tp_p 2: p <= 3, 3, 2 (8); tp_p 4: 1 each (3); tp 8 leaves no room
  // for a second pool. 28 splits plus the 4 mixed.
  PlanSpace any = space_of("a100:8", {1, 2, 4, 8});
  any.pd_same_tp = false;
  EXPECT_EQ(plan_candidates(any).size(), (4u + 28u) * 4u);
}

TEST(PlanSpace, TwoGpuTypesSplitAcrossTypes) {
  // tp 4 only: mixed 1 x H100 tp4 and 1 x A100 tp4; P/D within a type needs 8 > 4 GPUs, across types it is
  // H100 prefill + A100 decode and the reverse: 4 deployments.
  PlanSpace s = space_of("h100:4,a100-sxm-80g:4", {4});
  s.routers = {"least-loaded"};
  s.policies = {"swap"};
  const auto c = plan_candidates(s);
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c[2].pools_text(), "1xh100-sxm/tp4+1xa100-sxm-80g/tp4");
  EXPECT_EQ(c[3].pools_text(), "1xa100-sxm-80g/tp4+1xh100-sxm/tp4");
  const CandidateEdits e = candidate_edits(c[2], "a100-sxm-80g");
  EXPECT_EQ(e.removes, (std::vector<std::string>{"cluster.pools", "hardware.count"}));
  EXPECT_NE(std::find(e.sets.begin(), e.sets.end(), "cluster.pools.prefill.gpu=h100-sxm"), e.sets.end());
  EXPECT_NE(std::find(e.sets.begin(), e.sets.end(), "cluster.pools.decode.replicas=1"), e.sets.end());
  const CandidateEdits m = candidate_edits(c[0], "a100-sxm-80g");  // mixed on H100: the GPU changes
  EXPECT_EQ(m.sets[0], "hardware.gpu=h100-sxm");
  EXPECT_EQ(m.sets[2], "hardware.count=4");
}

TEST(PlanSpace, BadBudgetsNameTheFlagAndWhatWasExpected) {
  const auto message = [](const std::string& text) {
    try {
      parse_gpu_budget(text, catalog());
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(message("a100:0").find("expected a whole GPU count in [1, 4096]"), std::string::npos);
  EXPECT_NE(message("nosuch:2").find("unknown GPU 'nosuch'; expected one of"), std::string::npos);
  EXPECT_NE(message("a100").find("expected TYPE:N"), std::string::npos);
  EXPECT_NE(message("a100:2,a100-sxm-80g:2").find("given twice"), std::string::npos);
  EXPECT_NE(message("a100:8").find("accepted"), std::string::npos);
  EXPECT_NE(message("a100:x").find("--gpus"), std::string::npos);
}

TEST(PlanFrontier, KeepsExactlyTheUndominatedPoints) {
  // (sessions/h/GPU, TTFT p90): b beats a on both; c trades sessions for TTFT; d equals c (both stay); e is
  // behind c on sessions at the same TTFT.
  const std::vector<FrontierPoint> pts = {{0, 10, 5}, {1, 12, 4}, {2, 8, 2}, {3, 8, 2}, {4, 7, 2}, {5, 13, 9}};
  const auto f = pareto_frontier(pts);
  std::vector<std::size_t> idx;
  for (const auto& p : f) idx.push_back(p.index);
  EXPECT_EQ(idx, (std::vector<std::size_t>{2, 3, 1, 5}));  // by TTFT ascending
  EXPECT_TRUE(dominates(pts[1], pts[0]));
  EXPECT_FALSE(dominates(pts[2], pts[3]));
}

TEST(PlanFrontier, ACandidateIsPrunedOnlyWhenEveryOutcomeIsDominated) {
  const std::vector<FrontierPoint> frontier = {{0, 10, 3}};
  EXPECT_TRUE(surely_dominated(9, 5, frontier));    // at most 9 < 10 sessions, at least 5 > 3 s
  EXPECT_TRUE(surely_dominated(10, 5, frontier));   // ties on sessions, worse TTFT
  EXPECT_FALSE(surely_dominated(10, 3, frontier));  // could equal the frontier point
  EXPECT_FALSE(surely_dominated(11, 5, frontier));  // could have more sessions
  EXPECT_FALSE(surely_dominated(9, 2, frontier));   // could have a lower TTFT
}

TEST(PlanBounds, PrefillBoundsTtftAndSessionsPerGpu) {
  // Hand-built figures: a tp2 replica prefills the document in 10 s, decodes 20 tok/s alone.
  const std::map<std::pair<std::string, int>, PoolFigures> fig = {{{"a100-sxm-80g", 2}, {"", 10.0, 20.0}}};
  BoundScope scope;
  scope.first_round_share = 0.2;  // 5 rounds per session
  const Candidate mixed{0, {PoolChoice{"mixed", "a100-sxm-80g", 2, 4}}, "least-loaded", "swap"};
  const Slo p90{"ttft_p90", "/ttft/p90_s", true, 8.0, "8s", "ttft_p90_s"};
  const CandidateBounds b = candidate_bounds(mixed, fig, scope, {p90});
  // 4 replicas x 3600 s / 10 s = 1440 documents per hour, over 8 GPUs = 180 sessions/h per GPU at most.
  EXPECT_DOUBLE_EQ(b.per_gpu_ub, 180.0);
  EXPECT_DOUBLE_EQ(b.ttft_lb_s, 10.0);
  EXPECT_EQ(b.prune, "ttft");  // a fifth of the rounds take >= 10 s, so the p90 does: 10 s > 8 s
  // The median is not bound: only 20% of the rounds are first rounds.
  const Slo p50{"ttft_p50", "/ttft/p50_s", true, 8.0, "8s", "ttft_p50_s"};
  EXPECT_EQ(candidate_bounds(mixed, fig, scope, {p50}).prune, "");
  // Decode: one user alone at 20 tok/s cannot reach a median of 25 tok/s.
  const Slo rate{"decode_rate_p50", "/decode/rate_p50_tok_per_s", false, 25.0, "25tok/s", "x"};
  EXPECT_EQ(candidate_bounds(mixed, fig, scope, {rate}).prune, "decode");
  // P/D: only the prefill pool prefills documents: 1 replica -> 360 per hour over 8 GPUs = 45 per GPU.
  const Candidate pd{1,
                     {PoolChoice{"prefill", "a100-sxm-80g", 2, 1}, PoolChoice{"decode", "a100-sxm-80g", 2, 3}},
                     "least-loaded",
                     "swap"};
  EXPECT_DOUBLE_EQ(candidate_bounds(pd, fig, scope, {}).per_gpu_ub, 45.0);
  // A pool that cannot hold a session prunes the candidate whatever the objectives.
  const std::map<std::pair<std::string, int>, PoolFigures> full = {{{"a100-sxm-80g", 2}, {"no room", 0, 0}}};
  EXPECT_EQ(candidate_bounds(mixed, full, scope, {}).prune, "fit");
}

}  // namespace
}  // namespace kvsim::cli
