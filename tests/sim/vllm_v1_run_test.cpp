// A whole SimGrid run with scheduler.type vllm-v1 and the auditor on, under KV pressure that forces one preemption.
//   Llama-3.1-8B on an RTX 4090, num_gpu_blocks 11: 10 blocks of 16 tokens hold KV (one is the null block).
//   Two one-round sessions at 0 s, prompt 40 + 8 = 48 tokens, answer 60.
//   Both are admitted (3 blocks each, their whole prompts fit) and prefilled in step 1. At step k >= 2 each needs
//   slots for 47 + k tokens: a 4th block at k = 2, a 5th at k = 18 (pool full: 10 blocks), a 6th at k = 34, when
//   none is free: the newest, B, is preempted. B had 81 tokens (48 + 33 generated), 80 computed, and wrote
//   48 (prefill) + 1 (first token) + 32 (decodes 2..33) = 81 KV tokens: recompute.tokens = 81, one drop.
//   B's 5 full blocks go to the free queue tail first; A takes its 6th (B's 5th block) at k = 34 and its 7th (B's
//   4th) at k = 47 + k = 97 -> k = 50. B waits for A (its 6 blocks never fit beside A's) and comes back when A
//   ends at step 60, hitting its first 3 blocks: 48 tokens saved, 81 - 48 = 33 prefilled again; it then needs
//   60 - 34 = 26 decodes. Steps: 60 + 1 + 26 = 87.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/run.hpp"
#include "tests/sim/paper_example.hpp"

namespace kvsim {
namespace {

Scenario pressure(const std::vector<std::string>& sets = {}) {
  const std::string text = R"(
model: llama-3.1-8b
hardware:
  gpu: rtx-4090
workload:
  document_tokens: 40
  question_tokens: 8
  answer_tokens: 60
  rounds: 1
  arrival: {type: list, times: [0s, 0s]}
scheduler:
  type: vllm-v1
  num_gpu_blocks: 11
)";
  return load_scenario_text(text, "vllm-pressure.yaml", sets, Catalog::load(KVSIM_PLATFORMS_DIR));
}

TEST(VllmV1Run, PreemptsOnceUnderKvPressure) {
  const Scenario s = pressure();
  EXPECT_EQ(s.scheduler.offload_policy, "recompute");  // vLLM's default, not written in the scenario
  const RunResult r = run_scenario(s, RunOptions{true});
  const auto m = paper_example::summary(r);
  EXPECT_EQ(m.at("recompute.count"), 1);
  EXPECT_EQ(m.at("recompute.tokens"), 81);
  EXPECT_EQ(m.at("prefix.tokens_saved"), 48);
  EXPECT_EQ(m.at("steps_executed"), 87);
  EXPECT_EQ(m.at("swap.count"), 0);
  EXPECT_EQ(r.kv_pool_blocks, 10);
  EXPECT_EQ(paper_example::row(r, 1, 1).recompute_tokens, 81);  // B: session ids are 0 and 1
  EXPECT_EQ(paper_example::row(r, 0, 1).recompute_tokens, 0);
}

// With the swap policy the preempted request's KV goes to DDR and back instead: no recompute.
TEST(VllmV1Run, SwapsThePreemptedRequestWhenThePolicySaysSo) {
  const RunResult r = run_scenario(pressure({"scheduler.kv_offload.policy=swap"}), RunOptions{true});
  const auto m = paper_example::summary(r);
  EXPECT_EQ(m.at("recompute.count"), 0);
  EXPECT_EQ(m.at("swap.count"), 2);                       // out at step 34, in when A has ended
  EXPECT_NEAR(m.at("swap.bytes_out"), 80 * 131072.0, 1);  // B's 80 computed tokens
  EXPECT_NEAR(m.at("swap.bytes_in"), 80 * 131072.0, 1);
}

}  // namespace
}  // namespace kvsim
