// Trace readers: each format on small files written here, the order and block rules, and every kind of bad line
// (bad JSON, a missing field, a negative length, time going back, a wrong CSV header), stopped or skipped.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "workloads/trace.hpp"

namespace kvsim {
namespace {

std::string write_file(const std::string& name, const std::string& text) {
  const auto dir = std::filesystem::temp_directory_path() / "kvsim_trace_reader_test";
  std::filesystem::create_directories(dir);
  const auto path = dir / name;
  std::ofstream(path, std::ios::binary) << text;
  return path.string();
}

TraceOptions as(const std::string& format, bool skip = false) {
  TraceOptions o;
  o.format = format;
  o.skip_errors = skip;
  return o;
}

TraceProblem problem_of(const std::string& path, const TraceOptions& o) {
  try {
    read_trace(path, o);
  } catch (const TraceError& e) {
    return e.problem();
  }
  ADD_FAILURE() << "no error for " << path;
  return {};
}

const char* kMooncake = R"({"timestamp": 0, "input_length": 1100, "output_length": 5, "hash_ids": [0, 1, 2]})"
                        "\n"
                        R"({"timestamp": 0, "input_length": 600, "output_length": 7, "hash_ids": [0, 9]})"
                        "\n\n"
                        R"({"timestamp": 1500, "input_length": 20, "output_length": 1, "hash_ids": [4]})"
                        "\n";

TEST(TraceReader, MooncakeKeepsFileOrderAtEqualTimes) {
  const Trace t = read_trace(write_file("m.jsonl", kMooncake), as("mooncake"));
  ASSERT_EQ(t.sessions.size(), 3u);
  EXPECT_EQ(t.sessions[0].rounds[0].prompt_tokens, 1100);
  EXPECT_EQ(t.sessions[1].rounds[0].prompt_tokens, 600);  // same timestamp: file order
  EXPECT_EQ(t.sessions[1].rounds[0].line, 2);
  EXPECT_DOUBLE_EQ(t.sessions[2].rounds[0].arrival_s, 1.5);  // milliseconds
  EXPECT_EQ(t.sessions[2].rounds[0].line, 4);                // the blank line is counted, not read
  EXPECT_EQ(t.sessions[0].rounds[0].blocks, (std::vector<std::uint64_t>{0, 1, 2}));
  EXPECT_EQ(t.block_tokens, 512);
}

TEST(TraceReader, BlockSpans) {
  EXPECT_EQ(block_span(1100, 512, 0), 512);
  EXPECT_EQ(block_span(1100, 512, 2), 1100 - 1024);
  EXPECT_EQ(block_span(1100, 512, 3), 0);
}

TEST(TraceReader, MaxRequestsTruncatesInFileOrder) {
  TraceOptions o = as("mooncake");
  o.max_requests = 2;
  const Trace t = read_trace(write_file("m.jsonl", kMooncake), o);
  EXPECT_EQ(t.requests(), 2u);
}

TEST(TraceReader, SessionSampleKeepsAStableSubset) {
  std::string text;
  for (int i = 0; i < 400; ++i) {
    text += R"({"timestamp": )" + std::to_string(i) +
            R"(, "input_length": 10, "output_length": 1, "hash_ids": []})"
            "\n";
  }
  const std::string path = write_file("many.jsonl", text);
  TraceOptions o = as("mooncake");
  o.session_sample = 0.25;
  const Trace a = read_trace(path, o);
  const Trace b = read_trace(path, o);
  EXPECT_GT(a.requests(), 60u);  // 100 expected; a fair hash stays well inside [60, 140]
  EXPECT_LT(a.requests(), 140u);
  ASSERT_EQ(a.requests(), b.requests());
  for (std::size_t i = 0; i < a.sessions.size(); ++i) EXPECT_EQ(a.sessions[i].id, b.sessions[i].id);
}

TEST(TraceReader, BadJsonNamesTheLine) {
  const auto p =
      problem_of(write_file("bad.jsonl", R"({"timestamp": 0, "input_length": 5, "output_length": 1, "hash_ids": []})"
                                         "\n{\"timestamp\": 1,\n"),
                 as("mooncake"));
  EXPECT_EQ(p.line, 2);
  EXPECT_NE(p.message.find("not valid JSON"), std::string::npos);
  EXPECT_NE(p.str().find("bad.jsonl:2:"), std::string::npos);
}

TEST(TraceReader, NumberTooLargeForADoubleNamesTheLine) {
  // fuzz_trace found that 48e99999999999999 made nlohmann-json throw out_of_range, which escaped the reader.
  const auto p = problem_of(write_file("overflow.jsonl", R"({"kvsim_trace": 1, "block_tokens": 16})"
                                                         "\n"
                                                         R"({"session_id": "a", "think_s": 48e99999999999999})"
                                                         "\n"),
                            as("kvsim"));
  EXPECT_EQ(p.line, 2);
  EXPECT_NE(p.message.find("number out of range"), std::string::npos) << p.message;
}

TEST(TraceReader, MissingField) {
  const auto p = problem_of(write_file("missing.jsonl", R"({"timestamp": 0, "output_length": 1, "hash_ids": []})"
                                                        "\n"),
                            as("mooncake"));
  EXPECT_EQ(p.line, 1);
  EXPECT_EQ(p.field, "input_length");
  EXPECT_EQ(p.message, "missing field");
}

TEST(TraceReader, NegativeLength) {
  const auto p = problem_of(
      write_file("negative.jsonl", R"({"timestamp": 0, "input_length": -5, "output_length": 1, "hash_ids": []})"
                                   "\n"),
      as("mooncake"));
  EXPECT_EQ(p.field, "input_length");
  EXPECT_EQ(p.value, "-5");
  EXPECT_EQ(p.message, "expected an integer >= 1");
}

TEST(TraceReader, TimeGoingBackStopsOrIsSkipped) {
  const std::string path =
      write_file("back.jsonl", R"({"timestamp": 10, "input_length": 5, "output_length": 1, "hash_ids": []})"
                               "\n"
                               R"({"timestamp": 5, "input_length": 5, "output_length": 1, "hash_ids": []})"
                               "\n"
                               R"({"timestamp": 9, "input_length": 5, "output_length": 1, "hash_ids": []})"
                               "\n"
                               R"({"timestamp": 11, "input_length": 5, "output_length": 1, "hash_ids": []})"
                               "\n");
  const auto p = problem_of(path, as("mooncake"));
  EXPECT_EQ(p.line, 2);
  EXPECT_EQ(p.field, "timestamp");
  const Trace t = read_trace(path, as("mooncake", true));
  EXPECT_EQ(t.requests(), 2u);
  EXPECT_EQ(t.skipped, 2);
  EXPECT_NE(t.first_skip.find("back.jsonl:2: timestamp"), std::string::npos);
}

TEST(TraceReader, SkipCountsEveryKindOfBadLine) {
  const std::string path = write_file("mixed.jsonl",
                                      "not json\n"
                                      R"({"timestamp": 0, "input_length": 5, "output_length": 1, "hash_ids": []})"
                                      "\n"
                                      R"({"timestamp": 1, "input_length": 5, "output_length": 0, "hash_ids": []})"
                                      "\n"
                                      R"({"timestamp": 2, "input_length": 5, "output_length": 1, "hash_ids": [-1]})"
                                      "\n"
                                      R"({"timestamp": "x", "input_length": 5, "output_length": 1, "hash_ids": []})"
                                      "\n"
                                      R"([1, 2])"
                                      "\n");
  const Trace t = read_trace(path, as("mooncake", true));
  EXPECT_EQ(t.requests(), 1u);
  EXPECT_EQ(t.skipped, 5);
}

TEST(TraceReader, AzureRelativeTimesAcrossMidnight) {
  const Trace t = read_trace(write_file("a.csv",
                                        "TIMESTAMP,ContextTokens,GeneratedTokens\r\n"
                                        "2023-11-16 23:59:59.5000000,374,44\r\n"
                                        "2023-11-17 00:00:01.0000000,396,109\r\n"),
                             as("azure"));
  ASSERT_EQ(t.sessions.size(), 2u);
  EXPECT_DOUBLE_EQ(t.sessions[0].rounds[0].arrival_s, 0.0);
  EXPECT_DOUBLE_EQ(t.sessions[1].rounds[0].arrival_s, 1.5);
  EXPECT_EQ(t.sessions[1].rounds[0].prompt_tokens, 396);
  EXPECT_EQ(t.sessions[1].rounds[0].output_tokens, 109);
}

TEST(TraceReader, AzureWrongHeader) {
  const auto p =
      problem_of(write_file("h.csv", "TIME,Context,Generated\n2023-11-16 18:15:46.6805900,374,44\n"), as("azure"));
  EXPECT_EQ(p.line, 1);
  EXPECT_EQ(p.field, "header");
}

TEST(TraceReader, AzureBadCells) {
  const std::string path = write_file("cells.csv",
                                      "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                                      "2023-11-16 18:15:46.68,374,44\n"
                                      "2023-11-16 18:15:47,abc,44\n"
                                      "yesterday,374,44\n"
                                      "2023-11-16 18:15:48,374\n");
  const auto p = problem_of(path, as("azure"));
  EXPECT_EQ(p.line, 3);
  EXPECT_EQ(p.field, "ContextTokens");
  EXPECT_EQ(p.value, "abc");
  EXPECT_EQ(read_trace(path, as("azure", true)).skipped, 3);
}

TEST(TraceReader, RagpulseGroupsSessionsAndJoinsParts) {
  const Trace t = read_trace(
      write_file(
          "r.jsonl",
          R"({"timestamp": "82", "input_length": 3112, "output_length": 192, "hash_ids": {"sys_prompt": [8], "passages_ids": [7, 6], "history": [15], "web_search": [], "user_input": [26]}, "session_id": "s1"})"
          "\n"
          R"({"timestamp": "93", "input_length": 100, "output_length": 86, "hash_ids": {"sys_prompt": [8]}, "session_id": "s2"})"
          "\n"
          R"({"timestamp": "125", "input_length": 2890, "output_length": 170, "hash_ids": {"user_input": [3], "sys_prompt": [8]}, "session_id": "s1"})"
          "\n"),
      as("ragpulse"));
  ASSERT_EQ(t.sessions.size(), 2u);
  ASSERT_EQ(t.sessions[0].rounds.size(), 2u);
  EXPECT_EQ(t.sessions[0].id, "s1");
  EXPECT_TRUE(t.sessions[0].stateless);
  EXPECT_DOUBLE_EQ(t.sessions[0].rounds[1].arrival_s, 125.0);  // seconds
  EXPECT_EQ(t.sessions[0].rounds[0].blocks, (std::vector<std::uint64_t>{8, 7, 6, 15, 26}));
  EXPECT_EQ(t.sessions[0].rounds[1].blocks, (std::vector<std::uint64_t>{8, 3}));  // part order, not key order
}

TEST(TraceReader, RagpulseNeedsASessionId) {
  const auto p = problem_of(
      write_file("nosession.jsonl", R"({"timestamp": "1", "input_length": 3, "output_length": 1, "hash_ids": {}})"
                                    "\n"),
      as("ragpulse"));
  EXPECT_EQ(p.field, "session_id");
}

TEST(TraceReader, KvsimRoundTrip) {
  const Trace m = read_trace(write_file("m.jsonl", kMooncake), as("mooncake"));
  std::ostringstream out;
  write_kvsim_trace(m, out);
  const Trace k = read_trace(write_file("k.jsonl", out.str()), as("kvsim"));
  ASSERT_EQ(k.sessions.size(), m.sessions.size());
  for (std::size_t i = 0; i < k.sessions.size(); ++i) {
    const TraceRound& a = m.sessions[i].rounds[0];
    const TraceRound& b = k.sessions[i].rounds[0];
    EXPECT_EQ(k.sessions[i].id, m.sessions[i].id);
    EXPECT_EQ(k.sessions[i].stateless, true);
    EXPECT_DOUBLE_EQ(b.arrival_s, a.arrival_s);
    EXPECT_EQ(b.prompt_tokens, a.prompt_tokens);
    EXPECT_EQ(b.output_tokens, a.output_tokens);
    EXPECT_EQ(b.blocks, a.blocks);
  }
}

TEST(TraceReader, KvsimThinkTimesAndHeader) {
  const Trace t =
      read_trace(write_file("s.jsonl", R"({"kvsim_trace": 1, "block_tokens": 16})"
                                       "\n"
                                       R"({"session_id": "a", "arrival_s": 2, "prompt_tokens": 50, "output_tokens": 9})"
                                       "\n"
                                       R"({"session_id": "b", "arrival_s": 1, "prompt_tokens": 40, "output_tokens": 9})"
                                       "\n"
                                       R"({"session_id": "a", "think_s": 30, "prompt_tokens": 20, "output_tokens": 4})"
                                       "\n"),
                 as("kvsim"));
  EXPECT_EQ(t.block_tokens, 16);
  ASSERT_EQ(t.sessions.size(), 2u);
  EXPECT_EQ(t.sessions[0].id, "b");  // ordered by first arrival
  EXPECT_FALSE(t.sessions[1].stateless);
  EXPECT_DOUBLE_EQ(t.sessions[1].rounds[1].think_s, 30.0);
  EXPECT_LT(t.sessions[1].rounds[1].arrival_s, 0.0);
}

TEST(TraceReader, KvsimFirstRoundNeedsAnArrival) {
  const auto p = problem_of(
      write_file("think.jsonl", R"({"session_id": "a", "think_s": 3, "prompt_tokens": 5, "output_tokens": 1})"
                                "\n"),
      as("kvsim"));
  EXPECT_EQ(p.field, "think_s");
  EXPECT_EQ(p.line, 1);
}

TEST(TraceReader, UnknownFormatAndMissingFile) {
  EXPECT_EQ(problem_of("/nonexistent/trace.jsonl", as("mooncake")).message, "cannot open trace file");
  EXPECT_EQ(problem_of(write_file("m.jsonl", kMooncake), as("sharegpt")).field, "format");
}

}  // namespace
}  // namespace kvsim
