// Trace reads are bounded: a line longer than the cap is a problem of that line (file and line named, read no
// further than the cap when stopping), skipped with on_error: skip; a file longer than its cap stops the read.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "workloads/trace.hpp"

namespace kvsim {
namespace {

const std::string kLine = R"({"timestamp": 0, "input_length": 10, "output_length": 5, "hash_ids": [0]})";

std::string write_file(const std::string& name, const std::string& text) {
  const auto dir = std::filesystem::temp_directory_path() / "kvsim_trace_limits_test";
  std::filesystem::create_directories(dir);
  const auto path = dir / name;
  std::ofstream(path, std::ios::binary) << text;
  return path.string();
}

TraceOptions capped(std::size_t line_bytes, bool skip = false) {
  TraceOptions o;
  o.format = "mooncake";
  o.skip_errors = skip;
  o.max_line_bytes = line_bytes;
  return o;
}

TEST(TraceLimits, TheDefaultCapsAre256MiBAnd1MiBPerLine) {
  EXPECT_EQ(kMaxTraceBytes, 268435456u);
  EXPECT_EQ(kMaxTraceLineBytes, 1048576u);
  EXPECT_EQ(TraceOptions{}.max_bytes, kMaxTraceBytes);
  EXPECT_EQ(TraceOptions{}.max_line_bytes, kMaxTraceLineBytes);
}

TEST(TraceLimits, ALineLongerThanTheCapNamesTheFileAndTheLine) {
  const std::string path = write_file("long.jsonl", kLine + "\n" + kLine + "\n" + std::string(200, 'x') + "\n");
  try {
    read_trace(path, capped(100));
    FAIL() << "no error";
  } catch (const TraceError& e) {
    EXPECT_EQ(e.problem().file, path);
    EXPECT_EQ(e.problem().line, 3);
    EXPECT_EQ(e.problem().message, "line longer than 100 bytes, the most a trace line may hold");
    EXPECT_EQ(e.problem().value, "");  // quotes none of the line
  }
}

TEST(TraceLimits, ALineExactlyAtTheCapIsRead) {
  const std::string path = write_file("at_cap.jsonl", kLine + "\n");
  EXPECT_EQ(read_trace(path, capped(kLine.size())).requests(), 1u);
}

TEST(TraceLimits, ALongLineIsSkippedWithOnErrorSkipAndTheNextLineRead) {
  const std::string path = write_file("skip.jsonl", std::string(5000, 'x') + "\n" + kLine + "\n");
  const Trace t = read_trace(path, capped(100, true));
  EXPECT_EQ(t.skipped, 1);
  EXPECT_EQ(t.lines, 2);
  EXPECT_EQ(t.requests(), 1u);
  EXPECT_EQ(t.sessions.front().rounds.front().line, 2);
}

TEST(TraceLimits, AFileWithoutNewlinesStopsAtTheLineCap) {
  const std::string path = write_file("no_newline.jsonl", std::string(100000, '0'));
  try {
    read_trace(path, capped(1000));
    FAIL() << "no error";
  } catch (const TraceError& e) {
    EXPECT_EQ(e.problem().line, 1);
    EXPECT_NE(e.problem().message.find("line longer than 1000 bytes"), std::string::npos);
  }
}

TEST(TraceLimits, AFileLongerThanItsCapStopsTheRead) {
  std::string text;
  for (int i = 0; i < 10; ++i) text += kLine + "\n";
  TraceOptions o = capped(kMaxTraceLineBytes, true);
  o.max_bytes = 3 * (kLine.size() + 1) + 10;  // the fourth line passes the cap
  try {
    read_trace(write_file("big.jsonl", text), o);
    FAIL() << "no error";
  } catch (const TraceError& e) {
    EXPECT_EQ(e.problem().line, 4);
    EXPECT_NE(e.problem().message.find("the file is longer than"), std::string::npos) << e.what();
  }
  o.max_bytes = text.size();
  EXPECT_EQ(read_trace(write_file("big.jsonl", text), o).requests(), 10u);
}

}  // namespace
}  // namespace kvsim
