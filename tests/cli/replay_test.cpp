// `kvsim replay` on the real RTX PRO 6000 vLLM run of /work/shared/vllm-runs: the measured side of comparison.json
// is checked against figures computed here straight from requests.jsonl with nlohmann-json (not kvsim's reader), the
// written scenario reproduces the simulated side under `kvsim run`, and bad runs exit 2 naming file and line.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>

#include "tests/cli/run_kvsim.hpp"

namespace {
using kvsim_test::run;
namespace fs = std::filesystem;

const fs::path kRuns = fs::path(KVSIM_SOURCE_DIR) / ".." / "shared" / "vllm-runs" / "runs";
const fs::path kPro = kRuns / "RTXPRO6000" / "Llama-3.1-8B";

// numpy's default percentile: linear interpolation between closest ranks.
double numpy_percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const double rank = p / 100 * double(v.size() - 1);
  const auto lo = std::size_t(rank);
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (rank - double(lo)) * (v[hi] - v[lo]);
}

// TTFT, TPOT and latency of every request of the file, from the formulas of SOURCES.txt.
std::map<std::string, std::vector<double>> raw_figures(const fs::path& file) {
  std::map<std::string, std::vector<double>> f;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line);
    const double q = j["queued_ts"], first = j["first_token_ts"], last = j["last_token_ts"];
    const double out = j["output_toks"];
    f["ttft_s"].push_back(first - q);
    if (out > 1) f["tpot_s"].push_back((last - first) / (out - 1));
    f["latency_s"].push_back(last - q);
  }
  return f;
}

double stat(const std::vector<double>& v, const std::string& s) {
  if (s == "mean") return std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
  return numpy_percentile(v, std::stod(s.substr(1)));
}

nlohmann::json read_json(const fs::path& p) {
  return nlohmann::json::parse(kvsim_test::slurp(p));
}

TEST(ReplayCli, ComparisonHoldsTheMeasuredFiguresOfTheRun) {
  ASSERT_TRUE(fs::is_directory(kPro)) << kPro << " is missing: the test needs the shared vLLM runs";
  const auto out = kvsim_test::fresh_dir("replay_pro");
  const auto r = run("replay " + kPro.string() + " --step-model roofline --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.out;
  std::cout << "kvsim replay of the 300-request RTXPRO6000 run: " << r.seconds << " s wall\n";
  EXPECT_NE(r.out.find("GPU rtx-pro-6000 from the directory name 'RTXPRO6000'"), std::string::npos) << r.out;
  const auto c = read_json(out / "comparison.json");
  const auto raw = raw_figures(kPro / "requests.jsonl");
  ASSERT_EQ(raw.at("ttft_s").size(), 300u);
  int entries = 0;
  for (const char* metric : {"ttft_s", "tpot_s", "latency_s"}) {
    for (const char* s : {"mean", "p50", "p90", "p95", "p99"}) {
      const auto& e = c["metrics"][metric][s];
      ASSERT_TRUE(e.is_object()) << metric << "." << s;
      const double want = stat(raw.at(metric), s);
      EXPECT_NEAR(e["measured"].get<double>(), want, 1e-12 * want) << metric << "." << s;
      const double sim = e["simulated"].get<double>();
      EXPECT_GT(sim, 0) << metric << "." << s;
      EXPECT_NEAR(e["error"].get<double>(), sim / want - 1, 1e-12) << metric << "." << s;
      ++entries;
    }
  }
  EXPECT_EQ(entries, 15);
  EXPECT_EQ(c["counts"]["requests_measured"], 300);
  EXPECT_EQ(c["counts"]["requests_simulated"], 300);  // every request replayed, one round each
  EXPECT_EQ(c["timeseries"]["samples"], 67);          // the rows of timeseries.csv
  EXPECT_TRUE(fs::exists(out / "summary.json"));      // kvsim's usual run outputs are there too
  EXPECT_EQ(kvsim_test::csv_rows(out / "rounds.csv").size(), 300u);
  EXPECT_EQ(kvsim_test::csv_rows(out / "replay_timeseries.csv").size(), 67u);
  const auto requests = kvsim_test::csv_rows(out / "replay_requests.csv");
  ASSERT_EQ(requests.size(), 2u * (300 + 300 + 300));  // every request's TTFT, TPOT, latency, on both sides
  EXPECT_EQ(requests[299].at("cdf"), "1");             // the last measured TTFT closes its CDF
  const double max_ttft = numpy_percentile(raw.at("ttft_s"), 100);
  EXPECT_NEAR(std::stod(requests[299].at("value")), max_ttft, 1e-9 * max_ttft);  // CSV: 10 significant digits

  // kvsim plot draws the measured and simulated CDFs and the queue of a replay directory.
  const auto plot = run("plot " + out.string());
  ASSERT_EQ(plot.code, 0) << plot.out;
  for (const char* name : {"replay_ttft_cdf", "replay_tpot_cdf", "replay_latency_cdf", "replay_queue"}) {
    EXPECT_TRUE(fs::exists(out / "plots" / (std::string(name) + ".png"))) << name;
  }
}

TEST(ReplayCli, TheWrittenScenarioRunsToTheSameFigures) {
  ASSERT_TRUE(fs::is_directory(kPro)) << kPro << " is missing: the test needs the shared vLLM runs";
  const auto dir = kvsim_test::fresh_dir("replay_write");
  fs::create_directories(dir);
  const auto scenario = dir / "pro.yaml";
  const auto r = run("replay " + kPro.string() + " --out " + (dir / "replay").string() + " --write-scenario " +
                     scenario.string() + " --quiet");
  ASSERT_EQ(r.code, 0) << r.out;
  ASSERT_TRUE(fs::exists(dir / "pro.trace.jsonl"));
  const auto again = run("run " + scenario.string() + " --out " + (dir / "run").string() + " --quiet");
  ASSERT_EQ(again.code, 0) << again.out;
  // Same scenario and trace, same seed: the simulated rounds are identical, so are their means.
  const auto a = kvsim_test::csv_rows(dir / "replay" / "rounds.csv");
  const auto b = kvsim_test::csv_rows(dir / "run" / "rounds.csv");
  ASSERT_EQ(a.size(), 300u);
  ASSERT_EQ(a.size(), b.size());
  double ttft_a = 0, ttft_b = 0, end_a = 0, end_b = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ttft_a += std::stod(a[i].at("ttft_s")), ttft_b += std::stod(b[i].at("ttft_s"));
    end_a += std::stod(a[i].at("end_s")), end_b += std::stod(b[i].at("end_s"));
  }
  EXPECT_EQ(ttft_a, ttft_b);
  EXPECT_EQ(end_a, end_b);
  const auto c = read_json(dir / "replay" / "comparison.json");
  EXPECT_NEAR(c["metrics"]["ttft_s"]["mean"]["simulated"].get<double>(), ttft_b / 300, 1e-9 * ttft_b / 300);
}

TEST(ReplayCli, BadRunsExitTwoNamingFileAndLineAndWriteNothing) {
  const auto root = kvsim_test::fresh_dir("replay_bad");
  const auto out = root / "out";
  auto missing = run("replay " + (root / "GPU" / "none").string() + " --out " + out.string());
  EXPECT_EQ(missing.code, 2) << missing.out;
  EXPECT_NE(missing.out.find((root / "GPU" / "none").string()), std::string::npos) << missing.out;
  EXPECT_FALSE(fs::exists(out));

  const auto dir = root / "RTXPRO6000" / "m";
  fs::create_directories(dir);
  fs::copy_file(kPro / "meta.json", dir / "meta.json");
  fs::copy_file(kPro / "timeseries.csv", dir / "timeseries.csv");
  auto no_requests = run("replay " + dir.string() + " --out " + out.string());
  EXPECT_EQ(no_requests.code, 2) << no_requests.out;
  EXPECT_NE(no_requests.out.find((dir / "requests.jsonl").string() + ": cannot open file: it does not exist"),
            std::string::npos)
      << no_requests.out;
  EXPECT_FALSE(fs::exists(out));

  std::ifstream src(kPro / "requests.jsonl");
  std::ofstream dst(dir / "requests.jsonl");
  std::string line;
  for (int i = 0; i < 2 && std::getline(src, line); ++i) dst << line << "\n";
  dst << "{\"request_id\": \"x\", \"input_toks\": 12,\n";
  dst.close();
  auto malformed = run("replay " + dir.string() + " --out " + out.string());
  EXPECT_EQ(malformed.code, 2) << malformed.out;
  EXPECT_NE(malformed.out.find((dir / "requests.jsonl").string() + ":3: not valid JSON"), std::string::npos)
      << malformed.out;
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
