// `kvsim trace stats` and `kvsim trace convert` on the public Mooncake conversation trace in ../shared/traces,
// checked against figures computed here straight from the raw file with nlohmann-json (not with kvsim's reader).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/cli/run_kvsim.hpp"

namespace {
using kvsim_test::run;
namespace fs = std::filesystem;

const fs::path kTraces = fs::path(KVSIM_SOURCE_DIR) / ".." / "shared" / "traces";

struct RawFigures {
  double requests = 0, mean_input = 0, mean_output = 0, span_s = 0;
};

// Every line of the file as JSON: count, means of input_length and output_length, last minus first timestamp.
RawFigures raw_mooncake(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  RawFigures f;
  double in_sum = 0, out_sum = 0, first = -1, last = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line);
    in_sum += j["input_length"].get<double>();
    out_sum += j["output_length"].get<double>();
    const double t = j["timestamp"].get<double>() / 1000.0;
    if (first < 0) first = t;
    last = t;
    ++f.requests;
  }
  f.mean_input = in_sum / f.requests;
  f.mean_output = out_sum / f.requests;
  f.span_s = last - first;
  return f;
}

TEST(TraceCli, MooncakeConversationStatsMatchTheRawFile) {
  const fs::path file = kTraces / "mooncake" / "conversation_trace.jsonl";
  ASSERT_TRUE(fs::exists(file)) << file;
  const RawFigures raw = raw_mooncake(file);
  EXPECT_EQ(raw.requests, 12031);  // `wc -l`, a sanity check of the independent count itself
  const auto r = run("trace stats " + file.string() + " --format mooncake --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["requests"].get<double>(), raw.requests);
  EXPECT_EQ(j["sessions"].get<double>(), raw.requests);  // no session ids: one request each
  EXPECT_NEAR(j["input_tokens"]["mean"].get<double>(), raw.mean_input, 1e-9 * raw.mean_input);
  EXPECT_NEAR(j["output_tokens"]["mean"].get<double>(), raw.mean_output, 1e-9 * raw.mean_output);
  EXPECT_NEAR(j["span_s"].get<double>(), raw.span_s, 1e-9);
  EXPECT_NEAR(j["rate_per_s"].get<double>(), raw.requests / raw.span_s, 1e-9);
  EXPECT_GT(j["ideal_prefix_hit_ratio"].get<double>(), 0.0);
  EXPECT_LT(j["ideal_prefix_hit_ratio"].get<double>(), 1.0);
}

TEST(TraceCli, ConsoleStatsNameTheFigures) {
  const auto r = run("trace stats " + (kTraces / "mooncake" / "conversation_trace.jsonl").string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("requests 12031"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ideal prefix hit ratio"), std::string::npos) << r.out;
}

TEST(TraceCli, ConvertWritesKvsimFormatWithTheSameStats) {
  const fs::path dir = kvsim_test::fresh_dir("trace_convert");
  fs::create_directories(dir);
  const fs::path in = kTraces / "azure-2023" / "AzureLLMInferenceTrace_conv.csv";
  const fs::path out = dir / "azure.jsonl";
  const auto c = run("trace convert " + in.string() + " --format azure --out " + out.string());
  ASSERT_EQ(c.code, 0) << c.out;
  const auto a = run("trace stats " + in.string() + " --json");
  const auto b = run("trace stats " + out.string() + " --format kvsim --json");
  ASSERT_EQ(a.code, 0) << a.out;
  ASSERT_EQ(b.code, 0) << b.out;
  auto ja = nlohmann::json::parse(a.out), jb = nlohmann::json::parse(b.out);
  for (const char* key : {"requests", "sessions", "span_s"})
    EXPECT_DOUBLE_EQ(ja[key].get<double>(), jb[key].get<double>()) << key;
  EXPECT_EQ(ja["input_tokens"], jb["input_tokens"]);
  std::ifstream csv(in);
  double rows = -1;  // the header is not a request
  for (std::string line; std::getline(csv, line);) rows += line.empty() ? 0 : 1;
  EXPECT_EQ(ja["requests"].get<double>(), rows);
  EXPECT_EQ(rows, 19366);  // the last line has no newline: `wc -l` says 19366 with the header
}

TEST(TraceCli, BadTraceExitsTwoNamingFileLineAndField) {
  const fs::path dir = kvsim_test::fresh_dir("trace_bad");
  fs::create_directories(dir);
  const fs::path bad = dir / "bad.jsonl";
  std::ofstream(bad) << R"({"timestamp": 0, "input_length": 5, "output_length": 1, "hash_ids": []})"
                        "\n"
                     << R"({"timestamp": 1, "input_length": 5, "hash_ids": []})"
                        "\n";
  const auto r = run("trace stats " + bad.string() + " --format mooncake");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("bad.jsonl:2: output_length: missing field"), std::string::npos) << r.out;
  const auto s = run("trace stats " + bad.string() + " --format mooncake --on-error skip --json");
  ASSERT_EQ(s.code, 0) << s.out;
  const auto j = nlohmann::json::parse(s.out.substr(s.out.find('{')));
  EXPECT_EQ(j["skipped_lines"], 1);
  EXPECT_EQ(j["requests"], 1);
  const auto c = run("trace convert " + bad.string() + " --format mooncake --out " + (dir / "o.jsonl").string());
  EXPECT_EQ(c.code, 2);
  EXPECT_FALSE(fs::exists(dir / "o.jsonl"));
  EXPECT_FALSE(fs::exists(dir / "o.jsonl.tmp"));
}

}  // namespace
