// `kvsim sweep` and `kvsim plot` end to end: resume after kill -9, replicates, failures, MPI, plots.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/cli/run_kvsim.hpp"

extern char** environ;

namespace {
namespace fs = std::filesystem;
using kvsim_test::fresh_dir;
using kvsim_test::run;
using kvsim_test::slurp;

const std::string& kScenario = kvsim_test::kDefaultScenario;
// 6 points x 2 replicates of 15 simulated minutes each: about 0.15 s of wall time per run.
const std::string kGrid =
    " --param workload.arrival.users=1,2,3 --param scheduler.kv_offload.policy=swap,recompute"
    " --set workload.duration=15min --replicates 2 ";

std::size_t lines_of(const fs::path& p) {
  const std::string s = slurp(p);
  return std::size_t(std::count(s.begin(), s.end(), '\n'));
}

// The records of points.jsonl without their wall times, which differ from run to run.
std::vector<nlohmann::json> records(const fs::path& dir) {
  std::vector<nlohmann::json> out;
  std::istringstream in(slurp(dir / "points.jsonl"));
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    j.erase("wall_s");
    out.push_back(j);
  }
  return out;
}

pid_t start_in_background(const std::string& args, const fs::path& log) {
  const std::string cmd = "exec " + std::string(KVSIM_BIN) + " " + args + " >" + log.string() + " 2>&1";
  std::vector<char*> argv{const_cast<char*>("sh"), const_cast<char*>("-c"), const_cast<char*>(cmd.c_str()), nullptr};
  pid_t pid = -1;
  EXPECT_EQ(posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv.data(), environ), 0);
  return pid;
}

TEST(SweepCli, KilledSweepResumesToTheUninterruptedResult) {
  const fs::path whole = fresh_dir("sweep_whole"), killed = fresh_dir("sweep_killed");
  const auto a = run("sweep " + kScenario + kGrid + "--jobs 2 --out " + whole.string());
  ASSERT_EQ(a.code, 0) << a.out;
  ASSERT_EQ(lines_of(whole / "points.jsonl"), 12u);

  const std::string args = "sweep " + kScenario + kGrid + "--jobs 1 --out " + killed.string();
  const pid_t pid = start_in_background(args, fresh_dir("sweep_killed_log").string() + ".log");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (lines_of(killed / "points.jsonl") < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  waitpid(pid, &status, 0);
  const std::size_t before = lines_of(killed / "points.jsonl");
  ASSERT_GE(before, 3u);
  ASSERT_LT(before, 12u) << "the sweep finished before it could be killed; the test proves nothing";

  const auto b = run(args);
  ASSERT_EQ(b.code, 0) << b.out;
  EXPECT_NE(b.out.find(fmt::format("{} ran now, {} recorded before", 12 - before, before)), std::string::npos) << b.out;
  EXPECT_EQ(slurp(killed / "sweep.csv"), slurp(whole / "sweep.csv"));
  EXPECT_EQ(slurp(killed / "runs.csv"), slurp(whole / "runs.csv"));
  EXPECT_EQ(records(killed), records(whole));
  const auto again = run(args);  // nothing left to do
  EXPECT_NE(again.out.find("0 ran now, 12 recorded before"), std::string::npos) << again.out;
}

TEST(SweepCli, OutputsAreByteIdenticalWhateverTheJobs) {
  const fs::path one = fresh_dir("sweep_jobs1"), two = fresh_dir("sweep_jobs2");
  const std::string grid =
      " --param workload.arrival.rate=20/h,40/h --param scheduler.kv_offload.policy=swap,"
      "recompute --set workload.arrival.type=poisson --set workload.duration=20min ";
  ASSERT_EQ(run("sweep " + kScenario + grid + "--jobs 1 --out " + one.string()).code, 0);
  ASSERT_EQ(run("sweep " + kScenario + grid + "--jobs 2 --out " + two.string()).code, 0);
  EXPECT_EQ(slurp(one / "sweep.csv"), slurp(two / "sweep.csv"));
  EXPECT_EQ(slurp(one / "runs.csv"), slurp(two / "runs.csv"));
  int files = 0;
  for (const auto& run_dir : fs::directory_iterator(one / "runs")) {
    for (const auto& f : fs::directory_iterator(run_dir.path())) {
      if (f.path().filename() == "run.log") continue;
      const fs::path other = two / "runs" / run_dir.path().filename() / f.path().filename();
      EXPECT_EQ(slurp(f.path()), slurp(other)) << other;
      ++files;
    }
  }
  EXPECT_EQ(files, 4 * 5);  // summary.json, sessions.csv, rounds.csv, timeline.csv, transfers.csv per run
}

TEST(SweepCli, ReplicatesGiveTheMeanAndA95PercentInterval) {
  const fs::path dir = fresh_dir("sweep_replicates");
  const auto r = run("sweep " + kScenario +
                     " --param workload.arrival.rate=8/h --set workload.duration=30min"
                     " --set workload.arrival.type=poisson --replicates 3 --jobs 2 --out " +
                     dir.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const auto recs = records(dir);
  ASSERT_EQ(recs.size(), 3u);
  std::vector<double> ttft;
  for (const auto& j : recs) ttft.push_back(j["metrics"]["ttft_p99_s"].get<double>());
  const double mean = (ttft[0] + ttft[1] + ttft[2]) / 3;
  double ss = 0;
  for (double x : ttft) ss += (x - mean) * (x - mean);
  const double half = 4.303 * std::sqrt(ss / 2 / 3);  // t(0.975, 2 dof) x s / sqrt(n)
  ASSERT_GT(half, 0) << "the seeds gave identical runs; the interval is not exercised";
  const auto rows = kvsim_test::csv_rows(dir / "sweep.csv");
  ASSERT_EQ(rows.size(), 1u);
  const auto field = [&](const std::string& name) { return std::stod(rows[0].at(name)); };
  EXPECT_NEAR(field("ttft_p99_s"), mean, 1e-9 * mean);
  EXPECT_NEAR(field("ttft_p99_s_ci95"), half, 1e-6 * half);
  EXPECT_EQ(field("runs_ok"), 3);
}

// TTFT p90, the percentile SLOs are set on, is in runs.csv (each run's summary.json value) and sweep.csv (their
// mean over the replicates).
TEST(SweepCli, TtftP90IsTheRunsSummaryValue) {
  const fs::path dir = fresh_dir("sweep_p90");
  const auto r = run("sweep " + kScenario +
                     " --param scheduler.kv_offload.policy=swap,recompute --set workload.duration=20min"
                     " --set workload.arrival.type=poisson --set workload.arrival.rate=12/h --replicates 2 --out " +
                     dir.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const auto p90_of = [&](const std::string& id) {
    const auto summary = nlohmann::json::parse(slurp(dir / "runs" / id / "summary.json"));
    return summary.at("ttft").at("p90_s").get<double>();
  };
  const auto runs = kvsim_test::csv_rows(dir / "runs.csv");
  ASSERT_EQ(runs.size(), 4u);
  for (const auto& row : runs) {
    const double want = p90_of(fmt::format("p{:04}-r{}", std::stoi(row.at("point")), row.at("replicate")));
    ASSERT_GT(want, 0);
    EXPECT_NEAR(std::stod(row.at("ttft_p90_s")), want, 1e-9 * want) << row.at("point");
  }
  const auto points = kvsim_test::csv_rows(dir / "sweep.csv");
  ASSERT_EQ(points.size(), 2u);
  for (std::size_t p = 0; p < 2; ++p) {
    const double want = (p90_of(fmt::format("p{:04}-r0", p)) + p90_of(fmt::format("p{:04}-r1", p))) / 2;
    EXPECT_NEAR(std::stod(points[p].at("ttft_p90_s")), want, 1e-9 * want) << p;
    EXPECT_FALSE(points[p].at("ttft_p90_s_ci95").empty()) << p;
  }
}

TEST(SweepCli, AFailedPointIsRecordedAndTheOthersRun) {
  const fs::path dir = fresh_dir("sweep_failure");
  const auto r = run("sweep " + kScenario +
                     " --param workload.arrival.users=0,1 --set workload.duration=10min"
                     " --out " +
                     dir.string());
  EXPECT_EQ(r.code, 1) << r.out;
  const auto recs = records(dir);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0]["status"], "failed");
  EXPECT_NE(recs[0]["error"].get<std::string>().find("workload.arrival.users"), std::string::npos) << recs[0];
  EXPECT_EQ(recs[1]["status"], "ok");
  EXPECT_NE(r.out.find("p0000-r0 failed"), std::string::npos) << r.out;
}

TEST(SweepCli, BadInputForEveryPointExits2AndWritesNothing) {
  for (const std::string bad : {"--param workload.arrival.users=3:1:1", "--param workload.arival.users=1,2",
                                "--param workload.arrival.users=1,2 --set workload.arrival.users=4"}) {
    const fs::path dir = fresh_dir("sweep_bad");
    const auto r = run("sweep " + kScenario + " " + bad + " --out " + dir.string());
    EXPECT_EQ(r.code, 2) << bad << "\n" << r.out;
    EXPECT_NE(r.out.find("error: "), std::string::npos) << r.out;
    EXPECT_FALSE(fs::exists(dir)) << bad;
  }
}

TEST(SweepCli, ADirectoryHoldingAnotherSweepIsRefused) {
  const fs::path dir = fresh_dir("sweep_other");
  ASSERT_EQ(run("sweep " + kScenario + " --param workload.arrival.users=1 --set workload.duration=10min --out " +
                dir.string())
                .code,
            0);
  const auto r = run("sweep " + kScenario + " --param workload.arrival.users=2 --set workload.duration=10min --out " +
                     dir.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("holds a different sweep"), std::string::npos) << r.out;
}

#if KVSIM_TEST_MPI
TEST(SweepCli, TwoMpiRanksGiveTheLocalResult) {
  const fs::path local = fresh_dir("sweep_local"), mpi = fresh_dir("sweep_mpi");
  ASSERT_EQ(run("sweep " + kScenario + kGrid + "--jobs 2 --out " + local.string()).code, 0);
  // OpenMPI's own MPI_Init and MPI_Finalize leak (in its dlopen'ed components), which LeakSanitizer would report
  // against the ranks; under ASan (ASAN_OPTIONS set, as by the asan test preset) leak checks are off for them only.
  const char* asan = std::getenv("ASAN_OPTIONS");
  const std::string sanitizer = asan ? "ASAN_OPTIONS=" + std::string(asan) + ":detect_leaks=0 " : "";
  const std::string cmd = sanitizer +
                          "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " MPIEXEC
                          " --oversubscribe -n 2 " KVSIM_BIN " sweep " +
                          kScenario + kGrid + "--jobs 1 --out " + mpi.string() + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string out;
  for (char buf[4096]; pipe && std::fgets(buf, sizeof buf, pipe);) out += buf;
  ASSERT_EQ(pipe ? pclose(pipe) : -1, 0) << out;
  EXPECT_NE(out.find("sweep rank 1"), std::string::npos) << "rank 1 ran nothing:\n" << out;
  EXPECT_EQ(slurp(mpi / "sweep.csv"), slurp(local / "sweep.csv"));
  EXPECT_EQ(records(mpi), records(local));
}
#else
TEST(SweepCli, ABuildWithoutMpiRefusesMpirun) {
  setenv("OMPI_COMM_WORLD_SIZE", "2", 1);  // what mpirun -n 2 tells each rank
  const auto env =
      run("sweep " + kScenario + " --param workload.arrival.users=1 --out " + fresh_dir("sweep_nompi").string());
  unsetenv("OMPI_COMM_WORLD_SIZE");
  EXPECT_EQ(env.code, 2);
  EXPECT_NE(env.out.find("built without MPI"), std::string::npos) << env.out;
}
#endif

// sweep.csv carries analyze's one-user figures for each point's own scenario, so measured and predicted values sit
// side by side (docs/paper-reproduction.md, Figure 2 from runs). model.moe_upcycle is analyze's --sweep moe.
TEST(SweepCli, EachPointCarriesAnalyzeFiguresForItsScenario) {
  const fs::path dir = fresh_dir("sweep_analyze");
  const std::string fig2 = std::string(KVSIM_SOURCE_DIR) + "/scenarios/figures/fig2-yi34b.yaml";
  const auto r = run("sweep " + fig2 + " --param model.moe_upcycle=dense,8x2 --set hardware.tensor_parallel=8" +
                     " --set workload.duration=10min --set workload.warmup=0s --out " + dir.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const auto rows = kvsim_test::csv_rows(dir / "sweep.csv");
  ASSERT_EQ(rows.size(), 2u);
  // The context is the document plus one question: 50K + 100 tokens.
  const auto a =
      run("analyze --model yi-34b-200k --gpu a100-sxm-80g --tp 8 --context 50100 --sweep moe=dense,8x2 "
          "--format json");
  ASSERT_EQ(a.code, 0) << a.out;
  const auto expected = nlohmann::json::parse(a.out)["rows"];
  ASSERT_EQ(expected.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    for (const std::string k : {"concurrency", "prefill_s", "decode_s", "context_switch_s"}) {
      const double want = expected[i][k].get<double>();
      EXPECT_NEAR(std::stod(rows[i].at("analyze_" + k)), want, 1e-9 * want) << i << " " << k;
    }
  }
  // The upcycled model reads 2 experts per token alone: analyze's decode about doubles (68B active of 272B).
  EXPECT_GT(std::stod(rows[1].at("analyze_decode_s")), 1.8 * std::stod(rows[0].at("analyze_decode_s")));
}

// Checks that `dir`/plots holds `name`.png and `name`.svg with something drawn in them.
void expect_drawn(const fs::path& dir, const std::string& name) {
  const std::string png = slurp(dir / "plots" / (name + ".png"));
  const std::string svg = slurp(dir / "plots" / (name + ".svg"));
  EXPECT_GT(png.size(), 5000u) << name;
  EXPECT_EQ(png.substr(1, 3), "PNG") << name;
  EXPECT_NE(svg.find("<svg"), std::string::npos) << name;
  EXPECT_NE(svg.find("<path"), std::string::npos) << name;
}

// Series are named by their values: legends say `swap` and `recompute` rather than the key path, and so do the
// file names of the per-series plots and data.
TEST(PlotCli, ASweepDrawsItsCurvesAsPngAndSvg) {
  const fs::path dir = fresh_dir("sweep_plot");
  const auto r = run("sweep " + kScenario +
                     " --param workload.arrival.users=1:3:1 --param "
                     "scheduler.kv_offload.policy=swap,recompute --set workload.duration=15min --plot --out " +
                     dir.string());
  ASSERT_EQ(r.code, 0) << r.out;
  for (const std::string name :
       {"throughput", "ttft", "prefill_share", "gpu_time-swap", "gpu_time-recompute", "hbm_occupancy"}) {
    expect_drawn(dir, name);
  }
  EXPECT_FALSE(fs::exists(dir / "plots" / "gpu_time-0.png"));
  // Drawing again removes the per-series files of an earlier drawing (here: an older kvsim's name).
  std::ofstream(dir / "plots" / "gpu_time-0.png") << "old";
  const auto again = run("plot " + dir.string());
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_FALSE(fs::exists(dir / "plots" / "gpu_time-0.png")) << again.out;
  expect_drawn(dir, "gpu_time-swap");
  const std::string gp = slurp(dir / "plots" / "plots.gp");
  for (const std::string title : {"title \"swap\"", "title \"recompute\"", "title \"swap p90\"",
                                  "title \"recompute p99\"", "title \"point 4: users=3, policy=swap\""}) {
    EXPECT_NE(gp.find(title), std::string::npos) << title;
  }
  EXPECT_EQ(gp.find("scheduler.kv_offload.policy="), std::string::npos);
  EXPECT_EQ(gp.find("workload.arrival.users="), std::string::npos);
  // series-swap.csv holds sweep.csv's TTFT percentiles of the swap points.
  const auto series = kvsim_test::csv_rows(dir / "plots" / "series-swap.csv");
  const auto points = kvsim_test::csv_rows(dir / "sweep.csv");
  ASSERT_EQ(series.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& point = points.at(2 * i);
    ASSERT_EQ(point.at("scheduler.kv_offload.policy"), "swap");
    for (const std::string p : {"p50", "p90", "p99"}) {
      const double want = std::stod(point.at("ttft_" + p + "_s"));
      EXPECT_NEAR(std::stod(series[i].at("ttft_" + p)), want, 1e-9 * want) << i << " " << p;
    }
  }
}

TEST(PlotCli, ACompareDrawsItsBars) {
  const fs::path dir = fresh_dir("compare_plot");
  ASSERT_EQ(
      run("compare " + kScenario + " --policies swap,recompute --set workload.duration=15min --out " + dir.string())
          .code,
      0);
  const auto r = run("plot " + dir.string());
  ASSERT_EQ(r.code, 0) << r.out;
  for (const std::string name : {"throughput", "ttft", "gpu_time", "hbm_occupancy"}) expect_drawn(dir, name);
  const std::string gp = slurp(dir / "plots" / "plots.gp");
  for (const std::string title :
       {"title 'p50'", "title 'p90'", "title 'p99'", "title \"swap\"", "title \"recompute\""}) {
    EXPECT_NE(gp.find(title), std::string::npos) << title;
  }
}

// A run's TTFT plot draws its rounds with summary.json's p50, p90 and p99 as lines.
TEST(PlotCli, ARunDrawsItsTtftPercentiles) {
  const fs::path dir = fresh_dir("run_plot");
  ASSERT_EQ(run("run " + kScenario + " --quiet --set workload.duration=15min --out " + dir.string()).code, 0);
  const auto r = run("plot " + dir.string());
  ASSERT_EQ(r.code, 0) << r.out;
  for (const std::string name : {"ttft", "hbm_occupancy"}) expect_drawn(dir, name);
  const auto summary = nlohmann::json::parse(slurp(dir / "summary.json"));
  const std::string gp = slurp(dir / "plots" / "plots.gp");
  for (const std::string p : {"p50", "p90", "p99"}) {
    const double v = summary.at("ttft").at(p + "_s").get<double>();
    EXPECT_NE(gp.find(fmt::format(", {:.10g} with lines", v)), std::string::npos) << p << "\n" << gp;
  }
}

TEST(PlotCli, NotAnOutputDirectoryExits2AndWritesNothing) {
  const fs::path dir = fresh_dir("plot_not_output");
  fs::create_directories(dir);
  const auto r = run("plot " + dir.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("not a kvsim output directory"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::is_empty(dir));
  EXPECT_EQ(run("plot /nonexistent/dir").code, 2);
}

}  // namespace
