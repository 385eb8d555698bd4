// The prefix cache in a SimGrid run: a kvsim-format trace written by the test, one replica of Llama-3-8B on an
// H100, 512-token prefix blocks. Each TEST runs its own SimGrid engine in its own process, with the auditor on.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "sim/run.hpp"

namespace kvsim {
namespace {
namespace fs = std::filesystem;

// Request a: 2560 tokens = 5 full blocks (1..5). Request b extends it: 3000 tokens, blocks 1..6 (the sixth is
// partial), so 5 blocks = 2560 tokens are shared and 440 are its own. `middle`, when given, is a request without
// block ids at 50 s.
Scenario prefix_scenario(const std::string& name, const std::string& middle, const std::vector<std::string>& sets) {
  const fs::path dir = fs::temp_directory_path() / ("kvsim_prefix_" + name);
  fs::create_directories(dir);
  std::ofstream trace(dir / "t.jsonl");
  trace << R"({"kvsim_trace": 1, "block_tokens": 512})"
           "\n"
        << R"({"session_id": "a", "arrival_s": 0, "prompt_tokens": 2560, "output_tokens": 10, "stateless": true, )"
           R"("prefix_blocks": [1, 2, 3, 4, 5]})"
           "\n";
  if (!middle.empty()) trace << middle << "\n";
  trace << R"({"session_id": "b", "arrival_s": 100, "prompt_tokens": 3000, "output_tokens": 10, "stateless": true, )"
           R"("prefix_blocks": [1, 2, 3, 4, 5, 6]})"
           "\n";
  trace.close();
  std::ofstream(dir / "s.yaml") << "model: llama-3-8b\nhardware: {gpu: h100-sxm}\n"
                                   "workload: {trace: {path: t.jsonl, format: kvsim}}\n";
  return load_scenario(dir / "s.yaml", sets, Catalog::load(KVSIM_PLATFORMS_DIR));
}

std::map<std::string, double> summary(const RunResult& r) {
  std::map<std::string, double> m;
  for (const auto& [k, v] : r.metrics->summary()) m[k] = v;
  return m;
}

const RoundRow& row_of(const RunResult& r, double arrival_s) {
  for (const auto& row : r.metrics->rounds()) {
    if (std::abs(row.arrival_s - arrival_s) < 1e-9) return row;
  }
  throw std::runtime_error("no round arrived then");
}

TEST(PrefixRun, SecondRequestPrefillsOnlyItsSuffix) {
  const Scenario s = prefix_scenario("hbm", "", {});
  const RunResult r = run_scenario(s, RunOptions{true});
  const CostModel cost(s.model, s.deployment, s.scheduler.attention_flops);
  // b alone on the replica: one prefill step of 3000 - 2560 = 440 new tokens on 2560 cached ones.
  const double suffix = cost.prefill(440, 2560).seconds;
  EXPECT_NEAR(row_of(r, 100).prefill_s, suffix, 1e-9 * suffix);
  EXPECT_LT(suffix, cost.prefill(3000, 0).seconds);
  auto m = summary(r);
  EXPECT_EQ(m["prefix.tokens_saved"], 2560);
  EXPECT_EQ(m["prefix.blocks_looked_up"], 10);       // 5 full blocks each
  EXPECT_DOUBLE_EQ(m["prefix.hit_ratio_hbm"], 0.5);  // a: 0 of 5, b: 5 of 5
  EXPECT_EQ(m["prefix.hit_ratio_ddr"], 0);
  EXPECT_EQ(m["swap.count"], 0);
}

TEST(PrefixRun, SwitchedOffPrefillsEverything) {
  const Scenario s = prefix_scenario("off", "", {"scheduler.prefix_cache=false"});
  const RunResult r = run_scenario(s, RunOptions{true});
  const CostModel cost(s.model, s.deployment, s.scheduler.attention_flops);
  const double full = cost.prefill(3000, 0).seconds;
  EXPECT_NEAR(row_of(r, 100).prefill_s, full, 1e-9 * full);
  auto m = summary(r);
  EXPECT_EQ(m["prefix.tokens_saved"], 0);
  EXPECT_EQ(m["prefix.hit_ratio_hbm"], 0);
  EXPECT_EQ(m["prefix.blocks_looked_up"], 0);
}

// HBM holds 10000 tokens of KV = 625 blocks of 16. After a, the cache holds its 5 blocks = 160 ledger blocks.
// Request c (8000 + 10 tokens = 501 blocks) finds 465 free: 36 short, so the two least recently used cache blocks,
// the chain's tail 5 and 4 (64 ledger blocks), are offloaded to DDR. b then finds 1..3 in HBM and 4, 5 in DDR and
// swaps in exactly 2 x 512 tokens x 131072 B/token = 134217728 B before prefilling its 440-token suffix.
TEST(PrefixRun, PrefixEvictedToDdrIsSwappedIn) {
  const Scenario probe = prefix_scenario("probe", "", {});
  const CostModel probe_cost(probe.model, probe.deployment, probe.scheduler.attention_flops);
  const double kv = probe_cost.kv_bytes_per_token();
  ASSERT_EQ(kv, 131072);
  const double hbm = probe_cost.weight_bytes() + 10000 * kv;
  const Scenario s = prefix_scenario(
      "ddr", R"({"session_id": "c", "arrival_s": 50, "prompt_tokens": 8000, "output_tokens": 10, "stateless": true})",
      {fmt::format("hardware.gpu.hbm_capacity={:.0f}B", hbm)});
  const CostModel cost(s.model, s.deployment, s.scheduler.attention_flops);
  ASSERT_NEAR(cost.kv_capacity_bytes(), 10000 * kv, 1);
  const RunResult r = run_scenario(s, RunOptions{true});
  auto m = summary(r);
  const double load = 2 * 512 * kv;
  EXPECT_EQ(m["prefix.bytes_offloaded"], load);
  EXPECT_EQ(m["swap.bytes_in"], load);
  EXPECT_EQ(m["swap.count"], 1);
  const RoundRow& b = row_of(r, 100);
  EXPECT_EQ(b.swap_in_bytes, load);
  EXPECT_GT(b.swap_in_stall_s, 0);
  const double suffix = cost.prefill(440, 2560).seconds;
  EXPECT_NEAR(b.prefill_s, suffix, 1e-9 * suffix);
  EXPECT_EQ(m["prefix.tokens_saved"], 2560);
  EXPECT_DOUBLE_EQ(m["prefix.hit_ratio_hbm"], 0.3);  // 3 of the 10 blocks looked up (c has no ids)
  EXPECT_DOUBLE_EQ(m["prefix.hit_ratio_ddr"], 0.2);  // 2 of 10
}

}  // namespace
}  // namespace kvsim
