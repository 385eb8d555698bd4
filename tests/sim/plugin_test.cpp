// Plug-ins written outside the engine (tests/plugins/): a scheduler, a step model and a router, each one file added
// to its registry with one line, chosen by name in a scenario and run through SimGrid with the auditor on.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "sim/run.hpp"
#include "tests/plugins/toys.hpp"

namespace kvsim {
namespace {
namespace fs = std::filesystem;

// One closed-loop user runs 4 sessions of 2 rounds (1000-token document, 100-token questions, 10-token answers,
// 5 s of think time) on 2 replicas. toy-fifo makes a round one prefill step plus 9 decode steps, and toy-constant
// makes every step 20 ms: TTFT = 20 ms and a round lasts 10 x 20 ms = 200 ms. toy-round-robin alternates the
// sessions between the replicas (least-loaded would put all four on replica 0: each starts alone).
TEST(Plugins, AToySchedulerStepModelAndRouterRunThroughSimGrid) {
  schedulers().add(toys::fifo_scheduler());
  step_models().add(toys::constant_step_model());
  routers().add(toys::round_robin_router());
  const fs::path dir = fs::temp_directory_path() / "kvsim_plugin_test";
  fs::create_directories(dir);
  std::ofstream(dir / "toys.yaml") << R"(model: llama-3-8b
hardware: {gpu: h100-sxm, count: 2}
workload:
  document_tokens: 1000
  question_tokens: 100
  answer_tokens: 10
  rounds: 2
  think_time: 5s
  arrival: {type: closed, users: 1}
  sessions: 4
  duration: 1h
scheduler: {type: toy-fifo}
step_model: {type: toy-constant, step_seconds: 20ms}
router: {type: toy-round-robin}
)";
  const Scenario s = load_scenario(dir / "toys.yaml", {}, Catalog::load(KVSIM_PLATFORMS_DIR));
  const RunResult r = run_scenario(s, RunOptions{true});
  const auto& sessions = r.metrics->sessions();
  ASSERT_EQ(sessions.size(), 4u);
  for (std::size_t i = 0; i < sessions.size(); ++i) EXPECT_EQ(sessions[i].replica, int(i % 2)) << i;
  ASSERT_EQ(r.metrics->rounds().size(), 8u);
  for (const auto& row : r.metrics->rounds()) {
    EXPECT_NEAR(row.ttft_s, 0.020, 1e-12);
    EXPECT_NEAR(row.end_s - row.arrival_s, 10 * 0.020, 1e-12);
  }
  // Each session: 0.2 s, 5 s of thought, 0.2 s; the next one starts when it ends.
  EXPECT_NEAR(sessions[3].end_s, 4 * 5.4, 1e-9);
}

// A parameter the chosen plug-in does not declare, and an unknown name, are refused with the valid ones.
TEST(Plugins, UnknownNamesAndParametersListTheValidOnes) {
  step_models().add(toys::constant_step_model());
  const fs::path dir = fs::temp_directory_path() / "kvsim_plugin_test_bad";
  fs::create_directories(dir);
  std::ofstream(dir / "bad.yaml") << "model: llama-3-8b\nhardware: {gpu: h100-sxm}\n"
                                     "step_model: {type: roofline, step_seconds: 20ms}\n";
  try {
    load_scenario(dir / "bad.yaml", {}, Catalog::load(KVSIM_PLATFORMS_DIR));
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("step_model.step_seconds is a parameter of step model 'toy-constant', not "
                                         "of the chosen 'roofline'"),
              std::string::npos)
        << e.what();
  }
  try {
    const CostModel cost(ModelSpec{}, Deployment{});
    step_models().make("nope", StepModelInputs{cost, nullptr, nullptr});
    ADD_FAILURE() << "no error";
  } catch (const UnknownChoice& e) {
    EXPECT_NE(std::string(e.what()).find("valid: roofline, profiled, "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("toy-constant"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace kvsim
