// Every command that writes a directory checks its --out before any work: an existing file, a path under a file and
// a place kvsim cannot write (/proc) exit 2 at once, with nothing written. Staging entries a killed command left
// (".NAME.kvsim-XXXXXX") are removed by the next command into the same place, unless a live kvsim holds them.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include "tests/cli/run_kvsim.hpp"

namespace {
namespace fs = std::filesystem;
using kvsim_test::fresh_dir;
using kvsim_test::run;
using kvsim_test::slurp;

const std::string& kScenario = kvsim_test::kDefaultScenario;
const std::string kSlo = " --slo ttft_p90=30s ";

// The command line of each directory-writing command, up to its --out.
std::vector<std::string> commands() {
  return {"run " + kScenario + " --quiet", "compare " + kScenario + " --policies swap,recompute",
          "sweep " + kScenario + " --param workload.arrival.users=1,2", "capacity " + kScenario + kSlo};
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

TEST(OutDir, AFileAsOutExits2BeforeAnyRunForEveryCommand) {
  const fs::path root = fresh_dir("outdir_file"), file = root / "results.txt";
  fs::create_directories(root);
  write(file, "not a directory\n");
  for (const auto& cmd : commands()) {
    const auto r = run(cmd + " --out " + file.string());
    EXPECT_EQ(r.code, 2) << cmd << "\n" << r.out;
    EXPECT_NE(r.out.find("--out: exists and is not a directory; give a new or an output directory (got '" +
                         file.string() + "')"),
              std::string::npos)
        << cmd << "\n"
        << r.out;
    EXPECT_LT(r.seconds, 5.0) << cmd;
    EXPECT_EQ(slurp(file), "not a directory\n");
  }
  EXPECT_EQ(std::distance(fs::directory_iterator(root), fs::directory_iterator()), 1);  // nothing added
}

TEST(OutDir, APathUnderAFileExits2ForEveryCommand) {
  const fs::path root = fresh_dir("outdir_under_file"), file = root / "results.txt";
  fs::create_directories(root);
  write(file, "x\n");
  for (const auto& cmd : commands()) {
    const auto r = run(cmd + " --out " + (file / "sub").string());
    EXPECT_EQ(r.code, 2) << cmd << "\n" << r.out;
    EXPECT_NE(r.out.find("--out: cannot be created: '" + file.string() + "' is not a directory"), std::string::npos)
        << cmd << "\n"
        << r.out;
  }
}

TEST(OutDir, AnUnwritablePlaceExits2ForEveryCommand) {
  for (const auto& cmd : commands()) {
    const auto r = run(cmd + " --out /proc/kvsim-out/x");
    EXPECT_EQ(r.code, 2) << cmd << "\n" << r.out;
    EXPECT_NE(r.out.find("--out: cannot be written: kvsim cannot create an entry in '/proc"), std::string::npos)
        << cmd << "\n"
        << r.out;
    EXPECT_LT(r.seconds, 5.0) << cmd;
  }
}

TEST(OutDir, SweepRunsAndCapacityProbesThatAreFilesExit2UpFront) {
  const fs::path sweep = fresh_dir("outdir_sweep_runs"), cap = fresh_dir("outdir_cap_probes"),
                 cmp = fresh_dir("outdir_cmp_policy");
  for (const auto& d : {sweep, cap, cmp}) fs::create_directories(d);
  write(sweep / "runs", "x\n");
  write(cap / "probes", "x\n");
  write(cmp / "recompute", "x\n");
  const auto s = run(commands()[2] + " --out " + sweep.string());
  const auto c = run(commands()[3] + " --out " + cap.string());
  const auto p = run(commands()[1] + " --out " + cmp.string());
  for (const auto* r : {&s, &c, &p}) {
    EXPECT_EQ(r->code, 2) << r->out;
    EXPECT_NE(r->out.find("exists and is not a directory"), std::string::npos) << r->out;
  }
  EXPECT_EQ(std::distance(fs::directory_iterator(cmp), fs::directory_iterator()), 1);  // no swap/ made either
}

// Holds an exclusive flock on `path`, as a live kvsim does on its staging entry.
struct Held {
  int fd;
  explicit Held(const fs::path& path) : fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) { ::flock(fd, LOCK_EX); }
  ~Held() { ::close(fd); }
};

TEST(OutDir, ARunRemovesItsStaleStagingAndKeepsLiveAndOtherOnes) {
  const fs::path root = fresh_dir("outdir_stale_run"), out = root / "out";
  fs::create_directories(root / ".out.kvsim-AbC123");
  write(root / ".out.kvsim-AbC123" / "summary.json", "half written\n");
  fs::create_directories(root / ".out.kvsim-Live00");
  fs::create_directories(root / ".other.kvsim-Qq1234");  // another directory's: not this run's to judge
  const Held live(root / ".out.kvsim-Live00");
  const auto r = run("run " + kScenario + " --quiet --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("note: removed 1 staging entry left by an interrupted kvsim: " +
                       (root / ".out.kvsim-AbC123").string()),
            std::string::npos)
      << r.out;
  EXPECT_FALSE(fs::exists(root / ".out.kvsim-AbC123"));
  EXPECT_TRUE(fs::exists(root / ".out.kvsim-Live00"));
  EXPECT_TRUE(fs::exists(root / ".other.kvsim-Qq1234"));
  EXPECT_TRUE(fs::exists(out / "summary.json"));
}

TEST(OutDir, CompareAndSweepRemoveTheStagingTheirKilledRunsLeft) {
  const fs::path cmp = fresh_dir("outdir_stale_compare"), sweep = fresh_dir("outdir_stale_sweep");
  fs::create_directories(cmp / ".swap.kvsim-Zz9999");
  write(cmp / ".compare.csv.kvsim-Yy8888", "half\n");
  write(cmp / ".notes.txt", "mine\n");  // a hidden file of the user's: kept
  const auto c = run(commands()[1] + " --out " + cmp.string());
  ASSERT_EQ(c.code, 0) << c.out;
  EXPECT_NE(c.out.find("note: removed 2 staging entries"), std::string::npos) << c.out;
  EXPECT_FALSE(fs::exists(cmp / ".swap.kvsim-Zz9999"));
  EXPECT_FALSE(fs::exists(cmp / ".compare.csv.kvsim-Yy8888"));
  EXPECT_EQ(slurp(cmp / ".notes.txt"), "mine\n");
  fs::create_directories(sweep / "runs" / ".p0-r0.kvsim-Xx7777");
  const auto s = run(commands()[2] + " --set workload.duration=10min --out " + sweep.string());
  ASSERT_EQ(s.code, 0) << s.out;
  EXPECT_NE(s.out.find("note: removed 1 staging entry"), std::string::npos) << s.out;
  EXPECT_FALSE(fs::exists(sweep / "runs" / ".p0-r0.kvsim-Xx7777"));
}

}  // namespace
