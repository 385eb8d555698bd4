// Reads of traces are bounded by path and size before a byte is read: a device, a file over 256 MiB and a line over
// 1 MiB are refused with exit code 2, the file named (and the line), quickly, whatever kvsim command reads them.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/cli/run_kvsim.hpp"

namespace {
namespace fs = std::filesystem;
using kvsim_test::fresh_dir;
using kvsim_test::run;

const std::string kLine = R"({"timestamp": 0, "input_length": 10, "output_length": 5, "hash_ids": [0]})";

TEST(InputLimits, DevZeroAsATraceIsRefusedWithinASecond) {
  const auto r = run("trace stats /dev/zero --format mooncake");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("/dev/zero: is a device; expected a trace file"), std::string::npos) << r.out;
  EXPECT_LT(r.seconds, 1.0);
}

TEST(InputLimits, ATraceOver256MiBIsRefusedBySizeBeforeItIsRead) {
  const fs::path dir = fresh_dir("limits_big");
  fs::create_directories(dir);
  const fs::path big = dir / "big_mooncake.jsonl";
  { std::ofstream(big) << kLine << "\n"; }
  fs::resize_file(big, (256u << 20) + 1);  // sparse: no disk used, and reading it would take seconds
  const auto r = run("trace stats " + big.string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(
      r.out.find(big.string() + ": is 268435457 bytes; a trace file kvsim reads is at most 268435456 bytes (256 MiB)"),
      std::string::npos)
      << r.out;
  EXPECT_LT(r.seconds, 1.0);
  const fs::path out = dir / "out.jsonl";
  const auto c = run("trace convert " + big.string() + " --out " + out.string());
  EXPECT_EQ(c.code, 2) << c.out;
  EXPECT_FALSE(fs::exists(out));
}

TEST(InputLimits, ATraceLineOver1MiBNamesTheFileAndTheLine) {
  const fs::path dir = fresh_dir("limits_line");
  fs::create_directories(dir);
  const fs::path file = dir / "long_mooncake.jsonl";
  std::ofstream(file) << kLine << "\n" << std::string((1u << 20) + 1, ' ') << "\n" << kLine << "\n";
  const auto r = run("trace stats " + file.string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find(file.string() + ":2: line longer than 1048576 bytes (1 MiB), the most a trace line may hold"),
            std::string::npos)
      << r.out;
  const auto skipped = run("trace stats --on-error skip --json " + file.string());
  EXPECT_EQ(skipped.code, 0) << skipped.out;
  EXPECT_NE(skipped.out.find("\"skipped_lines\": 1"), std::string::npos) << skipped.out;
}

TEST(InputLimits, AFifoAsATraceIsRefusedWithoutWaitingForAWriter) {
  const fs::path dir = fresh_dir("limits_fifo");
  fs::create_directories(dir);
  const fs::path fifo = dir / "fifo_mooncake.jsonl";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto r = run("trace stats " + fifo.string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("is a FIFO; expected a trace file"), std::string::npos) << r.out;
}

}  // namespace
