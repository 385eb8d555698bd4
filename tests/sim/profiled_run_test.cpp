// The `profiled` step model run through SimGrid: a lone request's TTFT is its prefill step as the measured kernel
// tables add it up (ProfileTables::step), since the step has the GPU to itself and the tables hold no all-reduce
// at tensor_parallel 1.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "engine/cost/profile_tables.hpp"
#include "sim/run.hpp"

namespace kvsim {
namespace {
namespace fs = std::filesystem;

TEST(ProfiledStepModel, LoneRequestTtftIsTheProfiledPrefillStep) {
  const fs::path bundle =
      fs::path(KVSIM_SOURCE_DIR) / "../shared/vllm-runs/profiles/RTXPRO6000/meta-llama/Llama-3.1-8B/bf16";
  ASSERT_TRUE(fs::is_directory(bundle)) << bundle;
  const fs::path dir = fs::temp_directory_path() / "kvsim_profiled_run_test";
  fs::create_directories(dir);
  std::ofstream(dir / "profiled.yaml") << "model: llama-3.1-8b\nhardware: {gpu: h100-sxm}\n"
                                       << "workload:\n  document_tokens: 2000\n  question_tokens: 48\n"
                                       << "  answer_tokens: 4\n  rounds: 1\n  arrival: {type: list, times: [0s]}\n"
                                       << "  sessions: 1\n  duration: 1h\n"
                                       << "step_model: {type: profiled, profile: " << fs::absolute(bundle).string()
                                       << "}\n";
  const Scenario s = load_scenario(dir / "profiled.yaml", {}, Catalog::load(KVSIM_PLATFORMS_DIR));
  ASSERT_TRUE(s.step_profile);
  const RunResult r = run_scenario(s, RunOptions{true});
  ASSERT_EQ(r.metrics->rounds().size(), 1u);
  // The one prefill step: 2048 prompt tokens (document and question) over an empty cache, 32 layers.
  const SeqWork prefill{2048, 0};
  const double expected = s.step_profile->step(std::span<const SeqWork>(&prefill, 1), 32).total_us * 1e-6;
  EXPECT_GT(expected, 0.01);  // a 2048-token prefill of an 8B model takes tens of milliseconds
  EXPECT_NEAR(r.metrics->rounds()[0].ttft_s, expected, 1e-9 * expected);
}

}  // namespace
}  // namespace kvsim
