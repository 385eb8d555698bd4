// Property test: two hundred small random scenarios (random model, GPU, tensor parallelism, policy, victim
// policy, distributions and arrivals; seeded) each run through `kvsim run --audit`, which checks every invariant
// after every event. A run must succeed, or be refused with exit code 2 for a reason a user can act on.
#include <gtest/gtest.h>

#include "tests/cli/run_kvsim.hpp"

#include <unistd.h>
#include <algorithm>
#include <array>
#include <cstdio>

#include <fmt/format.h>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace {
namespace fs = std::filesystem;

using kvsim_test::Result;
using kvsim_test::run;

template <typename T>
const T& pick(std::mt19937& g, const std::vector<T>& v) {
  return v[std::uniform_int_distribution<std::size_t>(0, v.size() - 1)(g)];
}

int between(std::mt19937& g, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(g); }

std::string tokens(std::mt19937& g, int lo, int hi) {
  const int a = between(g, lo, hi), b = between(g, a, hi + hi / 2);
  switch (between(g, 0, 3)) {
    case 0:
      return std::to_string(a);
    case 1:
      return fmt::format("{{dist: uniform, low: {}, high: {}}}", a, b);
    case 2:
      return fmt::format("{{dist: lognormal, mean: {}, sigma: 0.5, max: {}}}", a, b);
    default:
      return fmt::format("{{dist: empirical, values: [{}, {}]}}", a, b);
  }
}

std::string arrival(std::mt19937& g) {
  switch (between(g, 0, 2)) {
    case 0:
      return fmt::format("{{type: poisson, rate: {}/h}}", between(g, 10, 300));
    case 1:
      return fmt::format("{{type: closed, users: {}, ramp_up: {}s}}", between(g, 1, 8), between(g, 0, 30));
    default: {  // arrival lists must be in order
      const int a = between(g, 0, 60), b = between(g, 0, 120);
      return fmt::format("{{type: list, times: [0s, {}s, {}s]}}", std::min(a, b), std::max(a, b));
    }
  }
}

std::string random_scenario(std::mt19937& g) {
  const std::string gpu = pick<std::string>(g, {"rtx-4090", "a100-sxm-80g", "h100-sxm", "h200", "b200", "mi300x", "gh200"});
  const int tp = gpu == "rtx-4090" ? 1 : pick<int>(g, {1, 1, 2, 4, 8});
  // Documents up to 30000 tokens, or a third of the model's context, so that most sessions fit the context; the
  // others are refused before the run, which the test accepts.
  const std::vector<std::pair<std::string, int>> models{{"llama-3-8b", 8192},    {"llama-2-7b", 4096},
                                                        {"mixtral-8x7b", 32768}, {"yi-34b-200k", 200000},
                                                        {"qwen2-72b", 131072},   {"llama-3-70b", 8192}};
  const auto& [model, context] = pick(g, models);
  return fmt::format(
      "model: {}\nhardware: {{gpu: {}, tensor_parallel: {}, count: {}, host_memory: {}GB, compute_efficiency: 0.{}}}\n"
      "workload:\n  document_tokens: {}\n  question_tokens: {}\n  answer_tokens: {}\n  rounds: {}\n"
      "  think_time: {{dist: exponential, mean: {}s}}\n  arrival: {}\n  duration: {}min\n"
      "scheduler:\n  max_batch_tokens: {}\n  block_tokens: {}\n  kv_offload: {{policy: {}, victim: {}}}\n"
      "  attention_flops: {}\nseed: {}\n",
      model, gpu, tp, tp * between(g, 1, 2), pick<int>(g, {5, 50, 500, 2000}), between(g, 5, 9),
      tokens(g, 200, std::min(30000, context / 3)), tokens(g, 10, 300), tokens(g, 5, 300), between(g, 1, 4),
      between(g, 1, 40), arrival(g), between(g, 1, 3), pick<int>(g, {512, 2048, 8192, 65536}),
      pick<int>(g, {8, 16, 32}), pick<std::string>(g, {"swap", "recompute"}),
      pick<std::string>(g, {"lru", "longest-idle", "largest", "smallest"}), pick<std::string>(g, {"full", "causal"}),
      between(g, 0, 1000));
}

TEST(Property, RandomScenariosRunCleanUnderTheAuditor) {
  std::mt19937 g(20261125);
  const fs::path dir = fs::temp_directory_path() / ("kvsim_property_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  int ran = 0, refused = 0;
  for (int i = 0; i < 200; ++i) {
    const std::string text = random_scenario(g);
    const fs::path file = dir / fmt::format("case{}.yaml", i);
    std::ofstream(file) << text;
    fs::remove_all(dir / "out");
    const Result r = run(fmt::format("run {} --audit --quiet --out {}", file.string(), (dir / "out").string()));
    if (r.code == 2) {
      // Refusals a user can act on: weights too large for the GPUs, a session too long for the KV room or for the
      // model's context.
      const bool expected = r.out.find("weights do not fit") != std::string::npos ||
                            r.out.find("can never fit") != std::string::npos ||
                            r.out.find("longer than the model's context") != std::string::npos;
      EXPECT_TRUE(expected) << "case " << i << ":\n" << text << r.out;
      EXPECT_FALSE(fs::exists(dir / "out")) << "case " << i;
      ++refused;
      continue;
    }
    ASSERT_EQ(r.code, 0) << "case " << i << ":\n" << text << r.out;
    EXPECT_TRUE(fs::exists(dir / "out" / "summary.json")) << "case " << i;
    ++ran;
  }
  std::printf("%d random scenarios ran, %d were refused\n", ran, refused);
  EXPECT_GE(ran, 100) << "too few random scenarios were possible deployments; refused " << refused;
}

}  // namespace
