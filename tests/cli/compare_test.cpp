// `kvsim compare` as a user runs it: one row per policy, the documented columns, the best values marked,
// determinism, and exit 2 with nothing written on bad input common to all runs (or an unknown policy).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/cli/run_kvsim.hpp"

namespace {
namespace fs = std::filesystem;

using kvsim_test::Result;
using kvsim_test::run;

const std::string& kScenario = kvsim_test::kDefaultScenario;
const std::string kHeader =
    "policy,status,session_throughput_per_hour,session_completion_rate_per_hour,max_resident,mean_resident,"
    "prefill_p99_s,decode_mean_s,ttft_p50_s,ttft_p90_s,ttft_p99_s,stall_p50_s,stall_p99_s,swap_bytes_out,swap_bytes_in,"
    "swap_count,swap_transfer_mean_s,recompute_tokens,gpu_time_prefill,gpu_time_decode,gpu_time_stalled,"
    "gpu_time_idle,gpu_prefill_s,gpu_decode_s,slo_ttft_attainment,slo_decode_rate_attainment";

using kvsim_test::fresh_dir;
using kvsim_test::slurp;

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream s(text);
  for (std::string line; std::getline(s, line);) out.push_back(line);
  return out;
}

Result compare(const std::string& policies, const fs::path& out, const std::string& extra = "") {
  return run("compare " + kScenario + " --policies " + policies + " --set workload.duration=10min --out " +
             out.string() + " " + extra);
}

const nlohmann::json& run_of(const nlohmann::json& j, const std::string& policy) {
  for (const auto& r : j["runs"]) {
    if (r["policy"] == policy) return r;
  }
  throw std::runtime_error("no run for " + policy);
}

TEST(CliCompare, RecomputeAndSwapOnTheDefaultScenario) {
  const fs::path d = fresh_dir("compare_default");
  const Result r = compare("recompute,swap", d);
  ASSERT_EQ(r.code, 0) << r.out;
  const auto csv = lines(slurp(d / "compare.csv"));
  ASSERT_EQ(csv.size(), 3u);
  EXPECT_EQ(csv[0], kHeader);
  EXPECT_EQ(csv[1].rfind("recompute,ok,", 0), 0u) << csv[1];
  EXPECT_EQ(csv[2].rfind("swap,ok,", 0), 0u) << csv[2];

  const auto j = nlohmann::json::parse(slurp(d / "compare.json"));
  ASSERT_EQ(j["runs"].size(), 2u);
  ASSERT_EQ(j["columns"].size(), 24u);
  // One 50K session fills the A100's HBM, so every return evicts: recompute drops, swap moves bytes.
  const auto& rc = run_of(j, "recompute");
  EXPECT_GT(rc["recompute_tokens"].get<double>(), 0);
  EXPECT_EQ(rc["swap_bytes_out"].get<double>(), 0);
  EXPECT_EQ(rc["swap_bytes_in"].get<double>(), 0);
  const auto& sw = run_of(j, "swap");
  EXPECT_GT(sw["swap_bytes_out"].get<double>(), 0);
  EXPECT_GT(sw["swap_bytes_in"].get<double>(), 0);
  EXPECT_EQ(sw["recompute_tokens"].get<double>(), 0);
  EXPECT_GT(sw["stall_p50_s"].get<double>(), 0);
  for (const char* p : {"recompute", "swap"}) {
    const auto summary = nlohmann::json::parse(slurp(d / p / "summary.json"));
    EXPECT_EQ(summary["scenario"]["kv_offload_policy"], p);
    EXPECT_EQ(summary["session_throughput_per_hour"], run_of(j, p)["session_throughput_per_hour"]);
    EXPECT_EQ(summary["ttft"]["p99_s"], run_of(j, p)["ttft_p99_s"]);
    EXPECT_TRUE(fs::exists(d / p / "rounds.csv"));
  }
}

// The console's throughput row and compare.json's "best" both mark the largest throughput, and only it.
TEST(CliCompare, BestThroughputIsTheMax) {
  const fs::path d = fresh_dir("compare_best");
  const Result r = compare("recompute,swap", d);
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(slurp(d / "compare.json"));
  double max = -1;
  for (const auto& run : j["runs"]) max = std::max(max, run["session_throughput_per_hour"].get<double>());
  std::vector<std::string> best;
  for (const auto& run : j["runs"]) {
    if (run["session_throughput_per_hour"].get<double>() == max) best.push_back(run["policy"]);
  }
  EXPECT_EQ(j["best"]["session_throughput_per_hour"].get<std::vector<std::string>>(), best);
  EXPECT_FALSE(j["best"]["ttft_p50_s"].empty());
  EXPECT_FALSE(j["best"].contains("gpu_time_idle"));  // not ranked

  // Console: "  session_throughput_per_hour  higher  <recompute> <swap>", a marked cell ends with '*'.
  const auto out = lines(r.out);
  const auto row = std::find_if(out.begin(), out.end(),
                                [](const std::string& l) { return l.rfind("  session_throughput_per_hour", 0) == 0; });
  ASSERT_NE(row, out.end()) << r.out;
  std::stringstream cells(*row);
  std::string name, better, cell;
  cells >> name >> better;
  EXPECT_EQ(better, "higher");
  std::size_t marked = 0;
  for (std::size_t i = 0; cells >> cell; ++i) {
    const bool star = cell.back() == '*';
    if (star) cell.pop_back();
    const double v = std::stod(cell);
    EXPECT_EQ(star, std::abs(v - max) < 0.005) << *row;
    marked += star ? 1 : 0;
  }
  EXPECT_EQ(marked, best.size()) << *row;
}

// TTFT p90, the percentile SLOs are set on, is in compare.csv and compare.json, equal to each run's summary.json.
TEST(CliCompare, TtftP90IsEachRunsSummaryValue) {
  const fs::path d = fresh_dir("compare_p90");
  const Result r = compare("recompute,swap", d);
  ASSERT_EQ(r.code, 0) << r.out;
  const auto rows = kvsim_test::csv_rows(d / "compare.csv");
  const auto j = nlohmann::json::parse(slurp(d / "compare.json"));
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& row : rows) {
    const std::string p = row.at("policy");
    const auto summary = nlohmann::json::parse(slurp(d / p / "summary.json"));
    const double want = summary.at("ttft").at("p90_s").get<double>();
    ASSERT_GT(want, 0) << p;
    EXPECT_NEAR(std::stod(row.at("ttft_p90_s")), want, 1e-9 * want) << p;
    EXPECT_NEAR(run_of(j, p).at("ttft_p90_s").get<double>(), want, 1e-9 * want) << p;
    // Between p50 and p99, in value as in column order.
    EXPECT_LE(std::stod(row.at("ttft_p50_s")), std::stod(row.at("ttft_p90_s"))) << p;
    EXPECT_LE(std::stod(row.at("ttft_p90_s")), std::stod(row.at("ttft_p99_s"))) << p;
  }
}

// The start of each whitespace-separated word of `line`, with the word.
std::vector<std::pair<std::size_t, std::string>> words(const std::string& line) {
  std::vector<std::pair<std::size_t, std::string>> out;
  for (std::size_t i = line.find_first_not_of(' '); i != std::string::npos; i = line.find_first_not_of(' ', i)) {
    const std::size_t end = std::min(line.find(' ', i), line.size());
    out.emplace_back(i, line.substr(i, end - i));
    i = end;
  }
  return out;
}

// The console table's columns are as wide as their content: every label of the header is a word of its own, and
// in every row (the longest metric name included) the metric, `better` and each policy's value start or end
// where the header's label does.
TEST(CliCompare, ConsoleColumnsAlignWhateverTheNamesWidth) {
  const fs::path d = fresh_dir("compare_console");
  const Result r = compare("recompute,swap,offload-idle", d);
  ASSERT_EQ(r.code, 0) << r.out;
  const auto out = lines(r.out);
  const auto head =
      std::find_if(out.begin(), out.end(), [](const std::string& l) { return l.rfind("  metric", 0) == 0; });
  ASSERT_NE(head, out.end()) << r.out;
  const auto labels = words(*head);
  ASSERT_EQ(labels.size(), 5u) << *head;
  const std::vector<std::string> want{"metric", "better", "recompute", "swap", "offload-idle"};
  for (std::size_t k = 0; k < want.size(); ++k) EXPECT_EQ(labels[k].second, want[k]) << *head;
  const auto j = nlohmann::json::parse(slurp(d / "compare.json"));
  ASSERT_GE(out.end() - head, std::ptrdiff_t(j["columns"].size() + 1));
  for (std::size_t c = 0; c < j["columns"].size(); ++c) {
    const std::string& row = *(head + std::ptrdiff_t(c) + 1);
    std::string name = j["columns"][c]["name"], better = j["columns"][c]["better"];
    if (better == "none") better = "-";
    EXPECT_EQ(row.substr(labels[0].first, name.size() + 1), name + " ") << row;
    EXPECT_EQ(row.substr(labels[1].first, better.size() + 1), better + " ") << row;
    EXPECT_EQ(row[labels[1].first - 1], ' ') << row;
    // Values are right-aligned under their label and hold single spaces at most ("1.298 s"): two spaces start a
    // cell, and they come after the previous column's content (and its mark).
    std::size_t previous_end = labels[1].first + better.size();
    for (std::size_t k = 2; k < labels.size(); ++k) {
      const std::size_t end = labels[k].first + labels[k].second.size();
      ASSERT_GT(row.size(), end) << row;
      EXPECT_NE(row[end - 1], ' ') << row;
      EXPECT_TRUE(row[end] == ' ' || row[end] == '*') << row;
      const std::size_t gap = row.rfind("  ", end - 1);
      ASSERT_NE(gap, std::string::npos) << row;
      EXPECT_GE(gap, previous_end) << row;
      previous_end = end + 1;
    }
  }
}

// docs/outputs.md has a table row for every offload policy and victim order the registry offers (as `kvsim schema`
// lists them), so a policy added to engine/policies/registry.cpp without a line there fails this test.
TEST(CliCompare, OutputsDocListsEveryPolicyAndVictimOrder) {
  const Result schema = run("schema");
  ASSERT_EQ(schema.code, 0) << schema.out;
  const std::string doc = slurp(std::string(KVSIM_SOURCE_DIR) + "/docs/outputs.md");
  const auto schema_lines = lines(schema.out);
  for (const std::string key : {"scheduler.kv_offload.policy", "scheduler.kv_offload.victim"}) {
    // "| `scheduler.kv_offload.victim` | one of lru \| longest-idle \| largest \| smallest | `lru` | ..."
    const std::string prefix = "| `" + key + "` | one of ";
    const auto row = std::find_if(schema_lines.begin(), schema_lines.end(),
                                  [&](const std::string& l) { return l.rfind(prefix, 0) == 0; });
    ASSERT_NE(row, schema_lines.end()) << key << "\n" << schema.out;
    std::stringstream names(row->substr(prefix.size()));
    std::size_t listed = 0;
    for (std::string name; names >> name && name != "|";) {
      if (name == "\\|") continue;
      EXPECT_NE(doc.find("\n| `" + name + "`"), std::string::npos)
          << key << ": " << name << " is not in docs/outputs.md";
      ++listed;
    }
    EXPECT_GE(listed, 4u) << *row;
  }
}

// Values equal in compare.csv are tied for best: a prefill_p99_s of 14.87346191 s under swap and under offload-idle
// (the same first-round prefill, up to floating-point residue) marks both or neither.
TEST(CliCompare, ValuesEqualInTheCsvAreTiedForBest) {
  const fs::path d = fresh_dir("compare_ties");
  const Result r = compare("recompute,swap,offload-idle", d);
  ASSERT_EQ(r.code, 0) << r.out;
  const auto rows = kvsim_test::csv_rows(d / "compare.csv");
  const auto j = nlohmann::json::parse(slurp(d / "compare.json"));
  std::size_t tied = 0;
  for (const auto& column : j["columns"]) {
    const std::string name = column["name"];
    if (column["better"] == "none") continue;
    const auto best = j["best"][name].get<std::vector<std::string>>();
    ASSERT_FALSE(best.empty()) << name;
    std::vector<std::string> equal;  // the policies whose field is the first best one's, in row order
    const auto& first = *std::find_if(rows.begin(), rows.end(), [&](auto& row) { return row.at("policy") == best[0]; });
    for (const auto& row : rows) {
      if (row.at(name) == first.at(name)) equal.push_back(row.at("policy"));
    }
    EXPECT_EQ(best, equal) << name;
    tied += best.size() > 1 ? 1 : 0;
  }
  EXPECT_GE(tied, 3u) << "no ties; the test proves nothing";
}

TEST(CliCompare, SameCommandGivesIdenticalFiles) {
  const fs::path a = fresh_dir("compare_det_a"), b = fresh_dir("compare_det_b");
  ASSERT_EQ(compare("swap,recompute", a).code, 0);
  ASSERT_EQ(compare("swap,recompute", b, "--jobs 2").code, 0);  // running at once changes nothing
  EXPECT_FALSE(slurp(a / "compare.csv").empty());
  EXPECT_EQ(slurp(a / "compare.csv"), slurp(b / "compare.csv"));
  EXPECT_EQ(slurp(a / "compare.json"), slurp(b / "compare.json"));
  const auto csv = lines(slurp(a / "compare.csv"));
  ASSERT_EQ(csv.size(), 3u);
  EXPECT_EQ(csv[1].rfind("swap,", 0), 0u);  // rows in the order of --policies
}

TEST(CliCompare, UnknownPolicyExitsWith2AndListsTheValidNames) {
  const fs::path d = fresh_dir("compare_unknown");
  const Result r = compare("swap,swapp", d);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("error: --policies: unknown offload policy; valid: swap, recompute"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("'swapp'"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(d));
  for (const std::string bad : {"swap,swap", "swap,", "''"}) {
    const Result e = compare(bad, d);
    EXPECT_EQ(e.code, 2) << bad << "\n" << e.out;
    EXPECT_FALSE(fs::exists(d)) << bad;
  }
}

TEST(CliCompare, BadScenarioExitsWith2AndWritesNothing) {
  const fs::path d = fresh_dir("compare_bad");
  for (const std::string extra : {"--set workload.rounds=0", "--set hardware.gpu=rtx-4090",
                                  "--set scheduler.kv_offload.policy=swap", "--seed -1"}) {
    const Result r = compare("recompute,swap", d, extra);
    EXPECT_EQ(r.code, 2) << extra << "\n" << r.out;
    EXPECT_NE(r.out.find("error:"), std::string::npos) << extra << "\n" << r.out;
    EXPECT_FALSE(fs::exists(d)) << extra;
  }
  const Result r = run("compare /nonexistent.yaml --policies swap --out " + d.string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_FALSE(fs::exists(d));
}

// A run that fails is reported with its error text; the others are still written, and the exit code is 1.
TEST(CliCompare, OneFailedRunIsReportedAndExits1) {
  const fs::path d = fresh_dir("compare_fail");
  fs::create_directories(d / "swap" / "x");  // a directory kvsim did not write: the swap run refuses its --out
  const Result r = compare("recompute,swap", d);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("error: policy swap failed"), std::string::npos) << r.out;
  const auto csv = lines(slurp(d / "compare.csv"));
  ASSERT_EQ(csv.size(), 3u);
  EXPECT_EQ(csv[1].rfind("recompute,ok,", 0), 0u) << csv[1];
  EXPECT_EQ(csv[2], "swap,failed" + std::string(24, ',')) << csv[2];
  const auto j = nlohmann::json::parse(slurp(d / "compare.json"));
  const auto& sw = run_of(j, "swap");
  EXPECT_EQ(sw["status"], "failed");
  EXPECT_EQ(sw["exit_code"], 2);
  EXPECT_TRUE(sw["session_throughput_per_hour"].is_null());
  EXPECT_NE(sw["error"].get<std::string>().find("holds the directory 'x'"), std::string::npos) << sw["error"];
  EXPECT_EQ(run_of(j, "recompute")["status"], "ok");
  EXPECT_EQ(j["best"]["session_throughput_per_hour"], nlohmann::json::array({"recompute"}));
}

TEST(CliCompare, DefaultOutputDirectoryIsNamedAfterTheScenario) {
  const fs::path d = fresh_dir("compare_cwd");
  fs::create_directories(d);
  const fs::path before = fs::current_path();
  fs::current_path(d);
  const Result r = run("compare " + kScenario + " --policies swap --set workload.duration=10min");
  fs::current_path(before);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(fs::exists(d / "out" / "default-compare" / "compare.csv"));
  EXPECT_TRUE(fs::exists(d / "out" / "default-compare" / "swap" / "summary.json"));
}

}  // namespace
