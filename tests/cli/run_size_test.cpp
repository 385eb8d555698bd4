// Every run is bounded: its size is estimated before it starts (kvsim validate prints it), a run estimated over
// --max-events or --max-memory is refused before simulating, one that goes over anyway is stopped by the watchdog,
// each with exit code 2 and nothing written; and the most closed-loop users kvsim takes (100,000) run.
#include <gtest/gtest.h>

#include "tests/cli/run_kvsim.hpp"

namespace {
namespace fs = std::filesystem;
using kvsim_test::fresh_dir;
using kvsim_test::run;

const std::string& kScenario = kvsim_test::kDefaultScenario;

TEST(RunSize, ValidatePrintsTheEstimate) {
  const auto r = run("validate " + kScenario);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("estimated size: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("forward steps at most"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("of --max-events 1e+09"), std::string::npos) << r.out;
}

// A Poisson day at 100 sessions/s: 8.64M sessions of 5 rounds of 250 tokens, about 1.1e10 events, ten times the
// default limit. Refused by the estimate in well under the 5 s it may take, with nothing written.
TEST(RunSize, TenTimesOverTheDefaultLimitIsRefusedBeforeSimulating) {
  const fs::path out = fresh_dir("runsize_over");
  const auto r = run("run " + kScenario +
                     " --set workload.arrival.type=poisson --set workload.arrival.rate=100/s"
                     " --set workload.duration=1d --out " +
                     out.string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--max-events: the run would take about 1.09e+10 events"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("raise the limit with --max-events"), std::string::npos) << r.out;
  EXPECT_LT(r.seconds, 5.0);
  EXPECT_FALSE(fs::exists(out));
  const auto v =
      run("validate " + kScenario +
          " --set workload.arrival.type=poisson --set workload.arrival.rate=100/s --set workload.duration=1d");
  EXPECT_EQ(v.code, 2) << v.out;
  EXPECT_NE(v.out.find("--max-events"), std::string::npos) << v.out;
}

TEST(RunSize, TooLittleMemoryIsRefusedBeforeSimulating) {
  const fs::path out = fresh_dir("runsize_memory");
  const auto r =
      run("run " + kScenario + " --set workload.arrival.users=100000 --max-memory 1GiB --out " + out.string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--max-memory: the run would need about"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("100003 live actors"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(out));
}

TEST(RunSize, BadLimitsNameTheFlag) {
  const auto r = run("run " + kScenario + " --max-events 10 --quiet");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--max-events"), std::string::npos) << r.out;
  const auto m = run("run " + kScenario + " --max-memory 16 --quiet");
  EXPECT_EQ(m.code, 2) << m.out;
  EXPECT_NE(m.out.find("--max-memory"), std::string::npos) << m.out;
}

// One session of one round whose answer length is exponential with mean 900 tokens: the estimate (about 900 steps
// and 2 transfers) passes --max-events 1000, but this seed draws a longer answer, and the watchdog stops the run at
// its 1001st event with exit code 2, leaving no output directory.
TEST(RunSize, TheWatchdogStopsARunThatGoesOverItsEstimate) {
  const fs::path out = fresh_dir("runsize_watchdog");
  const std::string args = "run " + kScenario +
                           " --set workload.arrival.type=list --set workload.arrival.times=[0s]"
                           " --set workload.rounds=1 --set workload.document_tokens=1K"
                           " --set 'workload.answer_tokens={dist: exponential, mean: 900}' --set "
                           "scheduler.fast_forward=false --seed KVSIM_SEED"
                           " --max-events 1000 --out " +
                           out.string();
  const auto r = run(std::string(args).replace(args.find("KVSIM_SEED"), 10, "4"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--max-events: the run was stopped at simulated time"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("after 1001 events"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(out));
  const auto v = run("validate " + kScenario +
                     " --set workload.arrival.type=list --set workload.arrival.times=[0s]"
                     " --set workload.rounds=1 --set workload.document_tokens=1K"
                     " --set 'workload.answer_tokens={dist: exponential, mean: 900}' --max-events 1000");
  EXPECT_EQ(v.code, 0) << v.out;  // the estimate passed: the run was stopped by the watchdog, not refused
}

// Beyond about 32,700 live actors SimGrid's guard pages used to exhaust vm.max_map_count ("Failed to protect
// stack", SIGABRT); runs that may have that many actors now go without guard pages. 34,000 users (all created at
// once, about 100 of them starting a short session within the 1 s run) took about 30 s and 4.8 GB on the 2-core
// machine; the most a scenario may have, 100,000, took 6.6 min and 13.9 GB there, too long for the suite.
TEST(RunSize, MoreClosedLoopUsersThanGuardPagesAllowRun) {
  const fs::path out = fresh_dir("runsize_users");
  const auto r = run("run " + kScenario +
                     " --set workload.arrival.users=34000 --set workload.duration=1s"
                     " --set workload.arrival.ramp_up=340s --set workload.rounds=1"
                     " --set workload.document_tokens=1K --set workload.answer_tokens=10 --quiet --out " +
                     out.string());
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(fs::exists(out / "summary.json"));  // how long it takes is a benchmark's business, not this test's
}

}  // namespace
