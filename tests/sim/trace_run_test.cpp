// Trace replay through `run_scenario`: each scenario of scenarios/traces runs to the end (shortened by
// max_requests), every request starts at its recorded time divided by the speedup, and a think time counts
// from the previous answer. Each TEST runs its own SimGrid engine in its own process, with the auditor on.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <set>

#include "sim/run.hpp"

namespace kvsim {
namespace {
namespace fs = std::filesystem;

Scenario trace_scenario(const std::string& name, const std::vector<std::string>& sets) {
  return load_scenario(fs::path(KVSIM_SOURCE_DIR) / "scenarios" / "traces" / name, sets,
                       Catalog::load(KVSIM_PLATFORMS_DIR));
}

// Every request of the trace ran, one session each, starting at its recorded time / speedup, in arrival order.
void expect_replayed(const Scenario& s, const RunResult& r) {
  const Trace& t = *s.workload.trace.trace;
  std::vector<double> arrivals;
  std::int64_t answers = 0;
  for (const auto& ts : t.sessions) {
    for (const auto& round : ts.rounds) {
      arrivals.push_back(round.arrival_s / s.workload.trace.speedup);
      answers += round.output_tokens;
    }
  }
  std::stable_sort(arrivals.begin(), arrivals.end());
  ASSERT_EQ(r.metrics->sessions().size(), arrivals.size());
  ASSERT_EQ(r.metrics->rounds().size(), arrivals.size());
  std::vector<double> starts;
  for (const auto& row : r.metrics->sessions()) starts.push_back(row.start_s);
  std::sort(starts.begin(), starts.end());
  for (std::size_t i = 0; i < starts.size(); ++i) {
    ASSERT_NEAR(starts[i], arrivals[i], 1e-9 * std::max(1.0, arrivals[i])) << i;  // SimGrid's clock sums delays
  }
  const std::int64_t done = std::accumulate(r.metrics->rounds().begin(), r.metrics->rounds().end(), std::int64_t{0},
                                            [](std::int64_t a, const RoundRow& row) { return a + row.answer_tokens; });
  EXPECT_EQ(done, answers);
}

TEST(TraceRun, MooncakeConversation) {
  const Scenario s = trace_scenario("mooncake-conversation.yaml", {"workload.trace.max_requests=300"});
  ASSERT_EQ(s.workload.trace.trace->requests(), 300u);
  const RunResult r = run_scenario(s, RunOptions{true});
  expect_replayed(s, r);
  EXPECT_DOUBLE_EQ(r.metrics->sessions().front().start_s, 0.0);  // the first bucket is at timestamp 0
}

TEST(TraceRun, RagpulseAtSpeedupKeepsSessionsOnOneReplica) {
  const Scenario s = trace_scenario("ragpulse.yaml", {"workload.trace.max_requests=400", "hardware.count=2"});
  const RunResult r = run_scenario(s, RunOptions{true});
  expect_replayed(s, r);
  EXPECT_DOUBLE_EQ(s.workload.trace.speedup, 100);
  // Stateless rounds of one trace session run as separate sessions, all on the replica of the first. Sessions are
  // numbered in the order they start, which is the trace's arrival order, ties in file order.
  std::vector<std::pair<double, std::size_t>> order;
  const auto& sessions = s.workload.trace.trace->sessions;
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    for (const auto& round : sessions[i].rounds) order.emplace_back(round.arrival_s, i);
  }
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::map<std::size_t, std::set<int>> replicas;
  for (const auto& row : r.metrics->sessions()) replicas[order.at(row.session).second].insert(row.replica);
  std::set<int> used;
  for (const auto& [index, set] : replicas) {
    EXPECT_EQ(set.size(), 1u) << sessions[index].id;
    used.insert(*set.begin());
  }
  EXPECT_EQ(used.size(), 2u);
}

TEST(TraceRun, AzureConversation) {
  const Scenario s = trace_scenario("azure-conv.yaml", {"workload.trace.max_requests=500"});
  const RunResult r = run_scenario(s, RunOptions{true});
  expect_replayed(s, r);
}

TEST(TraceRun, KvsimThinkTimeCountsFromTheAnswer) {
  const fs::path dir = fs::temp_directory_path() / "kvsim_trace_run_think";
  fs::create_directories(dir / "traces");
  std::ofstream(dir / "traces" / "s.jsonl")
      << R"({"session_id": "a", "arrival_s": 4, "prompt_tokens": 1000, "output_tokens": 20})"
         "\n"
      << R"({"session_id": "a", "think_s": 30, "prompt_tokens": 100, "output_tokens": 10})"
         "\n"
      << R"({"session_id": "a", "arrival_s": 100, "prompt_tokens": 100, "output_tokens": 10})"
         "\n";
  std::ofstream(dir / "think.yaml") << "model: llama-3-8b\nhardware: {gpu: h100-sxm}\n"
                                       "workload: {trace: {path: traces/s.jsonl, format: kvsim, speedup: 2}}\n";
  const Scenario s = load_scenario(dir / "think.yaml", {}, Catalog::load(KVSIM_PLATFORMS_DIR));
  const RunResult r = run_scenario(s, RunOptions{true});
  ASSERT_EQ(r.metrics->sessions().size(), 1u);  // one session that keeps its context
  const auto& rounds = r.metrics->rounds();
  ASSERT_EQ(rounds.size(), 3u);
  EXPECT_NEAR(rounds[0].arrival_s, 2.0, 1e-9);                     // 4 s / 2
  EXPECT_NEAR(rounds[1].arrival_s, rounds[0].end_s + 15.0, 1e-9);  // 30 s / 2 after the answer
  EXPECT_NEAR(rounds[2].arrival_s, 50.0, 1e-9);                    // 100 s / 2, recorded
}

// On trace replay the prefetch quantile is taken of the trace's gaps between a session's rounds: arrivals 0, 10
// and 40 s give gaps 10 and 30 s, at speedup 2 think times of 5 and 15 s; the median interpolates to 10 s.
TEST(TraceRun, PrefetchQuantileIsTakenOfTheTracesGaps) {
  const fs::path dir = fs::temp_directory_path() / "kvsim_trace_run_prefetch";
  fs::create_directories(dir / "traces");
  std::ofstream out(dir / "traces" / "s.jsonl");
  for (int t : {0, 10, 40}) {
    out << R"({"session_id": "a", "arrival_s": )" << t << R"(, "prompt_tokens": 1000, "output_tokens": 20})"
        << "\n";
  }
  out.close();
  std::ofstream(dir / "p.yaml") << "model: llama-3-8b\nhardware: {gpu: h100-sxm}\n"
                                   "workload: {trace: {path: traces/s.jsonl, format: kvsim, speedup: 2}}\n"
                                   "scheduler: {kv_offload: {policy: prefetch, prefetch_quantile: 0.9}}\n";
  const Scenario s = load_scenario(dir / "p.yaml", {}, Catalog::load(KVSIM_PLATFORMS_DIR));
  EXPECT_DOUBLE_EQ(s.scheduler.offload_params.number("prefetch_quantile"), 0.9);
  const PolicyEnv env = policy_env(s);
  ASSERT_TRUE(env.think_quantile);
  EXPECT_NEAR(env.think_quantile(0.5), 10, 1e-12);
  EXPECT_NEAR(env.think_quantile(1.0), 15, 1e-12);
  const RunResult r = run_scenario(s, RunOptions{true});
  ASSERT_EQ(r.metrics->rounds().size(), 3u);
  // Offloaded after rounds 1 and 2 and brought back (by the prefetch) before rounds 2 and 3.
  EXPECT_EQ(r.metrics->transfers().size(), 4u);
}

}  // namespace
}  // namespace kvsim
