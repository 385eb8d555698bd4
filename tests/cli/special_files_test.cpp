// Paths that are not regular files are refused by their path, before kvsim opens them: a directory or a FIFO as the
// scenario exits 2 at once (a FIFO used to hang, waiting for a writer), and so does a directory as a platforms
// catalog file. Nothing is written.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/cli/run_kvsim.hpp"

namespace {
namespace fs = std::filesystem;
using kvsim_test::fresh_dir;
using kvsim_test::run;

TEST(SpecialFiles, ADirectoryAsTheScenarioExits2) {
  const fs::path dir = fresh_dir("special_dir"), out = fresh_dir("special_dir_out");
  fs::create_directories(dir);
  const auto r = run("run " + dir.string() + " --out " + out.string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find(dir.string() + ": is a directory; expected a YAML file"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(out));
}

TEST(SpecialFiles, AFifoAsTheScenarioExits2WithoutWaitingForAWriter) {
  const fs::path dir = fresh_dir("special_fifo");
  fs::create_directories(dir);
  const fs::path fifo = dir / "scenario.yaml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto r = run("validate " + fifo.string());  // would block forever in open() if the FIFO were opened
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("is a FIFO; expected a YAML file"), std::string::npos) << r.out;
}

TEST(SpecialFiles, ADeviceAsTheScenarioExits2) {
  const auto r = run("validate /dev/zero");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("/dev/zero: is a device; expected a YAML file"), std::string::npos) << r.out;
}

}  // namespace
