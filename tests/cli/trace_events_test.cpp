// `kvsim run --trace-events FILE`: the timeline parses, its tracks never overlap, and its totals agree with
// summary.json and rounds.csv; a bad path is refused before anything runs; a failed run leaves no file. Each run
// is its own process.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/cli/run_kvsim.hpp"

namespace {
namespace fs = std::filesystem;
using kvsim_test::fresh_dir;
using kvsim_test::run;
using kvsim_test::slurp;
using nlohmann::json;

const std::string kSource = std::string(KVSIM_SOURCE_DIR) + "/";
constexpr double kRoundingUs = 1e-3;  // ts and dur are written in microseconds with three decimals

struct Case {
  std::string name;
  std::string args;     ///< scenario and overrides
  std::string expects;  ///< an event name the case exists to exercise
  double warmup_s = 0;  ///< workload.warmup: the statistics window is [warmup, warmup + window_s]
  std::string track;    ///< a track name the case must show, if any
};

std::ostream& operator<<(std::ostream& o, const Case& c) { return o << c.name; }

class Timeline : public testing::TestWithParam<Case> {};

// Per round of rounds.csv: session -> rounds, and the sum of swap_in_stall_s.
struct Rounds {
  std::map<long, int> per_session;
  double stall_s = 0;
};

Rounds read_rounds(const fs::path& csv) {
  Rounds r;
  std::istringstream in(slurp(csv));
  std::string line;
  std::getline(in, line);  // header: session,round,replica,arrival_s,queue_s,swap_in_stall_s,...
  while (std::getline(in, line)) {
    std::vector<std::string> cols;
    std::istringstream fields(line);
    for (std::string f; std::getline(fields, f, ',');) cols.push_back(f);
    r.per_session[std::stol(cols.at(0))] += 1;
    r.stall_s += std::stod(cols.at(5));
  }
  return r;
}

// Every event has the fields its phase needs, and on every track the complete events never overlap.
void check_events_and_overlaps(const json& doc) {
  std::map<std::pair<int, long>, std::vector<std::pair<double, double>>> tracks;
  for (const auto& e : doc.at("traceEvents")) {
    ASSERT_TRUE(e.contains("ph") && e.contains("pid") && e.contains("tid") && e.contains("name")) << e;
    ASSERT_TRUE(e.contains("ts") && e["ts"].get<double>() >= 0) << e;
    if (e["ph"] == "M") {
      ASSERT_TRUE(e["args"].contains("name") || e["args"].contains("sort_index")) << e;
    }
    if (e["ph"] != "X") continue;
    ASSERT_TRUE(e.contains("dur") && e["dur"].get<double>() >= 0 && e.contains("args")) << e;
    tracks[{e["pid"].get<int>(), e["tid"].get<long>()}].emplace_back(e["ts"].get<double>(), e["dur"].get<double>());
  }
  for (auto& [track, spans] : tracks) {
    std::sort(spans.begin(), spans.end());
    for (std::size_t i = 1; i < spans.size(); ++i) {
      ASSERT_GE(spans[i].first, spans[i - 1].first + spans[i - 1].second - kRoundingUs)
          << "overlap on pid " << track.first << " tid " << track.second << " at ts " << spans[i].first;
    }
  }
}

// What the trace adds up to, in the units of its events (bytes, microseconds).
struct Tally {
  double steps = 0, busy_us = 0, out = 0, in = 0, demoted = 0, transfers = 0, stall_us = 0, layerwise_stall_s = 0;
  std::map<long, int> prefills;  ///< session -> prefill events on its track
  int exercised = 0;             ///< events named as the case expects
  bool track_seen = false;       ///< the case's track was named
};

// Steps' durations are clipped to the statistics window [window_start_us, window_end_us].
Tally tally(const json& doc, const Case& c, double window_start_us, double window_end_us) {
  Tally t;
  t.track_seen = c.track.empty();
  for (const auto& e : doc["traceEvents"]) {
    const std::string name = e["name"];
    t.exercised += name == c.expects ? 1 : 0;
    t.track_seen = t.track_seen || (name == "thread_name" && e["args"]["name"] == c.track);
    if (e["ph"] != "X") continue;
    const double ts = e["ts"], dur = e["dur"];
    if (e["cat"] == "step") {
      t.steps += e["args"]["steps"].get<double>();  // a fast-forwarded stretch is one event of many steps
      t.busy_us += std::max(0.0, std::min(ts + dur, window_end_us) - std::max(ts, window_start_us));
    } else if (e["cat"] == "transfer") {
      (name == "swap out" ? t.out : name == "demote" ? t.demoted : t.in) += e["args"]["bytes"].get<double>();
      t.transfers += name == "demote" ? 0 : 1;
      if (name == "layerwise load") t.layerwise_stall_s += e["args"]["stall_s"].get<double>();
    } else if (name == "prefill") {
      EXPECT_EQ(e["pid"].get<int>() % 2, 0) << "a session event outside a sessions process: " << e;
      t.prefills[e["tid"].get<long>() - 1] += 1;  // tid = session + 1
    } else if (name == "swap-in stall") {
      t.stall_us += dur;
    }
  }
  return t;
}

TEST_P(Timeline, ParsesNeverOverlapsAndAgreesWithTheSummary) {
  const Case& c = GetParam();
  const fs::path dir = fresh_dir("trace_" + c.name);
  const fs::path trace = dir.string() + ".trace.json";
  const auto r = run("run " + kSource + c.args + " --audit --quiet --out " + dir.string() + " --trace-events " +
                     trace.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const json doc = json::parse(slurp(trace));
  const json sum = json::parse(slurp(dir / "summary.json"));
  check_events_and_overlaps(doc);
  const double window_s = sum["window_s"].get<double>();
  const Tally t = tally(doc, c, c.warmup_s * 1e6, (c.warmup_s + window_s) * 1e6);
  EXPECT_GT(t.exercised, 0) << "no '" << c.expects << "' event";
  EXPECT_TRUE(t.track_seen) << "no track '" << c.track << "'";

  EXPECT_EQ(t.steps, sum["steps_executed"].get<double>());
  const json& gpu = sum["time_breakdown"];
  const double busy_s = (gpu["prefill"].get<double>() + gpu["decode"].get<double>()) * window_s *
                        sum["scenario"]["replicas"].get<double>();
  EXPECT_NEAR(t.busy_us / 1e6, busy_s, 1e-9 * t.steps + 1e-9 * busy_s);
  EXPECT_NEAR(t.out, sum["swap"]["bytes_out"].get<double>(), 1e-12 * t.out);
  EXPECT_NEAR(t.in, sum["swap"]["bytes_in"].get<double>(), 1e-12 * t.in);
  EXPECT_NEAR(t.demoted, sum["swap"]["bytes_demoted"].get<double>(), 1e-12 * t.demoted);
  EXPECT_EQ(t.transfers, sum["swap"]["count"].get<double>());

  // One prefill per round on each session's track, and the session tracks' stalls plus the layerwise stalls
  // inside prefill steps are rounds.csv's swap-in stalls.
  const Rounds rounds = read_rounds(dir / "rounds.csv");
  EXPECT_EQ(t.prefills, rounds.per_session);
  EXPECT_NEAR(t.stall_us / 1e6 + t.layerwise_stall_s, rounds.stall_s, 1e-6 * rounds.stall_s + 1e-6);
}

INSTANTIATE_TEST_SUITE_P(
    CliTraceEvents, Timeline,
    testing::Values(Case{"swap", "scenarios/default.yaml", "swap-in stall"},
                    Case{"two_replicas", "scenarios/default.yaml --set hardware.count=2 --set workload.arrival.users=8",
                         "swap out"},
                    Case{"layerwise", "scenarios/default.yaml --set scheduler.kv_offload.policy=layerwise",
                         "layerwise load"},
                    Case{"recompute", "scenarios/default.yaml --set scheduler.kv_offload.policy=recompute",
                         "KV dropped"},
                    // Five 20K sessions at once, three fit: the two that come back last swap in at the same time.
                    Case{"overlapping_swap_ins",
                         "scenarios/default.yaml --set workload.arrival.type=list "
                         "--set workload.arrival.times=0s,0s,0s,0s,0s --set workload.rounds=2 "
                         "--set workload.document_tokens=20K",
                         "swap in", 0, "host link in: DDR/NVMe -> HBM #2"},
                    Case{"tiered",
                         "scenarios/policies/ddr-scarce.yaml --set scheduler.kv_offload.policy=tiered "
                         "--set workload.duration=40min --set workload.warmup=10min",
                         "demote", 600}),
    [](const testing::TestParamInfo<Case>& i) { return i.param.name; });

TEST(CliTraceEvents, SameSeedGivesAByteIdenticalTrace) {
  const fs::path a = fresh_dir("trace_det_a"), b = fresh_dir("trace_det_b");
  const std::string run_args = "run " + kSource + "scenarios/default.yaml --quiet --seed 3 --trace-events ";
  ASSERT_EQ(run(run_args + a.string() + ".json --out " + a.string()).code, 0);
  ASSERT_EQ(run(run_args + b.string() + ".json --out " + b.string()).code, 0);
  const std::string first = slurp(a.string() + ".json");
  EXPECT_GT(first.size(), 1000u);
  EXPECT_EQ(first, slurp(b.string() + ".json"));
}

TEST(CliTraceEvents, BadPathExitsWith2BeforeRunning) {
  const fs::path out = fresh_dir("trace_bad");
  const fs::path missing = fresh_dir("trace_no_such_dir") / "trace.json";
  auto r = run("run " + kSource + "scenarios/default.yaml --out " + out.string() + " --trace-events " +
               missing.string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("error: --trace-events: directory"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("does not exist"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(missing.parent_path()));
  r = run("run " + kSource + "scenarios/default.yaml --out " + out.string() + " --trace-events " +
          fs::temp_directory_path().string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("is a directory"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(out));
}

TEST(CliTraceEvents, AFailedRunLeavesNoTrace) {
  // The first round of this scenario cannot fit; the run stops with exit code 2 part-way through.
  const fs::path dir = fresh_dir("trace_failed");
  fs::create_directories(dir);
  const auto r = run("run " + kSource + "tests/bad_input/session_never_fits_at_run_time.yaml --out " +
                     (dir / "out").string() + " --trace-events " + (dir / "trace.json").string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_TRUE(fs::is_empty(dir)) << "a trace or its temporary file was left behind";
}

}  // namespace
