// Outputs are written safely: a bad --out is refused before any work; symlinks planted at the names kvsim writes
// are replaced, never followed; a run killed at any moment leaves its directory with the old set of files or the
// new one; `trace convert` never writes onto its input. Errors quote at most a bounded, escaped token of a file.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <thread>

#include "tests/cli/run_kvsim.hpp"

extern char** environ;

namespace {
namespace fs = std::filesystem;
using kvsim_test::fresh_dir;
using kvsim_test::run;
using kvsim_test::slurp;

const std::vector<std::string> kRunFiles = {"summary.json", "sessions.csv", "rounds.csv", "timeline.csv",
                                            "transfers.csv"};
const std::string kBench = std::string(KVSIM_SOURCE_DIR) + "/scenarios/bench/llama2-7b-10k-requests.yaml";

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

// Every entry of `dir` with its content ("<dir>" for a directory, "<link>" for a symlink).
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    files[name] = e.is_symlink() ? "<link>" : e.is_directory() ? "<dir>" : slurp(e.path());
  }
  return files;
}

TEST(OutputSafety, SymlinksPlantedAtEveryOutputNameAreReplacedNotFollowed) {
  const fs::path root = fresh_dir("safety_links"), out = root / "out", outside = root / "outside";
  fs::create_directories(out);
  fs::create_directories(outside);
  std::vector<std::string> names = kRunFiles;
  for (const auto& f : kRunFiles) names.push_back(f + ".tmp");  // the old, predictable temporary names
  for (const auto& name : names) {
    write(outside / name, "precious " + name + "\n");
    fs::create_symlink(outside / name, out / name);
  }
  write(outside / "trace.json", "precious trace\n");
  fs::create_symlink(outside / "trace.json", root / "trace.json");
  const auto before = snapshot(outside);
  const auto r = run("run " + kvsim_test::kDefaultScenario + " --quiet --out " + out.string() + " --trace-events " +
                     (root / "trace.json").string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(snapshot(outside), before);  // byte for byte, and no file added
  for (const auto& f : kRunFiles) {
    EXPECT_FALSE(fs::is_symlink(out / f)) << f;
    EXPECT_NE(slurp(out / f).find(','), std::string::npos) << f;  // the run's own content
  }
  EXPECT_FALSE(fs::is_symlink(root / "trace.json"));
  EXPECT_NE(slurp(root / "trace.json").find("traceEvents"), std::string::npos);
}

TEST(OutputSafety, SymlinksPlantedAtTraceConvertsNamesAreReplacedNotFollowed) {
  const fs::path root = fresh_dir("safety_convert_links"), outside = root / "outside";
  fs::create_directories(outside);
  write(root / "in.jsonl", R"({"timestamp": 0, "input_length": 100, "output_length": 10, "hash_ids": [1]})"
                           "\n");
  for (const std::string name : {"out.jsonl", "out.jsonl.tmp"}) {  // the output and its old, predictable temp name
    write(outside / name, "precious\n");
    fs::create_symlink(outside / name, root / name);
  }
  const auto before = snapshot(outside);
  const auto r = run("trace convert " + (root / "in.jsonl").string() + " --format mooncake --out " +
                     (root / "out.jsonl").string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(snapshot(outside), before);
  EXPECT_FALSE(fs::is_symlink(root / "out.jsonl"));
  EXPECT_NE(slurp(root / "out.jsonl").find("session_id"), std::string::npos);
}

TEST(OutputSafety, OutAsASymlinkToADirectoryExits2AndLeavesItsTargetAlone) {
  const fs::path root = fresh_dir("safety_outlink"), target = root / "elsewhere";
  fs::create_directories(target);
  write(target / "summary.json", "precious\n");
  fs::create_symlink(target, root / "out");
  const auto r = run("run " + kvsim_test::kDefaultScenario + " --quiet --out " + (root / "out").string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--out: is a symbolic link"), std::string::npos) << r.out;
  EXPECT_EQ(slurp(target / "summary.json"), "precious\n");
}

TEST(OutputSafety, OutAtARegularFileExits2BeforeSimulating) {
  const fs::path root = fresh_dir("safety_outfile"), file = root / "results.txt";
  fs::create_directories(root);
  write(file, "not a directory\n");
  const auto r = run("run " + kBench + " --quiet --out " + file.string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_LT(r.seconds, 5.0);
  EXPECT_NE(r.out.find("--out: exists and is not a directory; give a new or an output directory (got '" +
                       file.string() + "')"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(slurp(file), "not a directory\n");
  EXPECT_EQ(snapshot(root).size(), 1u);  // no temporary left behind
}

TEST(OutputSafety, OutHoldingAForeignDirectoryExits2AndForeignFilesAreKept) {
  const fs::path out = fresh_dir("safety_foreign");
  fs::create_directories(out / "mine");
  const auto refused = run("run " + kvsim_test::kDefaultScenario + " --quiet --out " + out.string());
  EXPECT_EQ(refused.code, 2) << refused.out;
  EXPECT_NE(refused.out.find("holds the directory 'mine', which kvsim did not write"), std::string::npos)
      << refused.out;
  EXPECT_EQ(snapshot(out).size(), 1u);
  fs::remove(out / "mine");
  write(out / "notes.txt", "my notes\n");
  ASSERT_EQ(run("run " + kvsim_test::kDefaultScenario + " --quiet --out " + out.string()).code, 0);
  EXPECT_EQ(slurp(out / "notes.txt"), "my notes\n");
  EXPECT_EQ(snapshot(out).size(), kRunFiles.size() + 1);
}

pid_t spawn_run(const std::vector<std::string>& args) {
  std::vector<char*> argv{const_cast<char*>(KVSIM_BIN)};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, KVSIM_BIN, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

TEST(OutputSafety, ARunKilledAtAnyMomentLeavesTheOldSetOrTheNewOne) {
  const fs::path root = fresh_dir("safety_kill"), out = root / "out", fresh = root / "reference";
  ASSERT_EQ(run("run " + kBench + " --quiet --seed 7 --out " + out.string()).code, 0);
  ASSERT_EQ(run("run " + kBench + " --quiet --out " + fresh.string()).code, 0);
  const auto old_set = snapshot(out), new_set = snapshot(fresh);
  ASSERT_EQ(old_set.size(), kRunFiles.size());
  ASSERT_NE(old_set, new_set);
  int saw_old = 0, saw_new = 0;
  for (int delay_ms : {50, 200, 400, 800, 1200, 1600, 2400, 3200, 60000}) {
    const pid_t pid = spawn_run({"run", kBench, "--quiet", "--out", out.string()});
    ASSERT_GT(pid, 0);
    int status = 0;
    for (int waited = 0; waited < delay_ms && ::waitpid(pid, &status, WNOHANG) == 0; waited += 10) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid, SIGKILL);  // harmless if it has finished: it is a zombie until reaped below
    ::waitpid(pid, &status, 0);
    const auto now = snapshot(out);
    EXPECT_TRUE(now == old_set || now == new_set)
        << "after " << delay_ms << " ms: a mix of " << now.size() << " entries";
    saw_old += now == old_set;
    saw_new += now == new_set;
    if (now == new_set) break;
  }
  EXPECT_GT(saw_old, 0);  // the kills did land before the swap
  EXPECT_EQ(saw_new, 1);  // and the last run finished and swapped in the whole new set
}

TEST(OutputSafety, TraceConvertOntoItsOwnInputExits2AndLeavesItUnchanged) {
  const fs::path dir = fresh_dir("safety_convert");
  fs::create_directories(dir);
  const fs::path trace = dir / "t.jsonl";
  const std::string text = R"({"timestamp": 0, "input_length": 100, "output_length": 10, "hash_ids": [1]})"
                           "\n";
  write(trace, text);
  fs::create_symlink(trace, dir / "alias.jsonl");
  for (const fs::path& out : {trace, dir / "alias.jsonl"}) {
    const auto r = run("trace convert " + trace.string() + " --format mooncake --out " + out.string());
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.out.find("--out: is the input file '" + trace.string() + "'; kvsim never writes onto an input"),
              std::string::npos)
        << r.out;
    EXPECT_EQ(slurp(trace), text);
  }
  EXPECT_EQ(snapshot(dir).size(), 2u);
  EXPECT_EQ(run("trace convert " + trace.string() + " --format mooncake --out " + (dir / "c.jsonl").string()).code, 0);
}

TEST(OutputSafety, AMegabyteBadLineIsQuotedAsABoundedEscapedToken) {
  const fs::path dir = fresh_dir("safety_bigline");
  fs::create_directories(dir);
  const std::string big(1 << 20, 'x');
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"mooncake", big + "\n"},
      {"mooncake", "{\"timestamp\": \"" + big + "\x1b[31m\"}\n"},
      {"mooncake", "{\"timestamp\": \"" + big + "\"}\n"},
      {"azure", "TIMESTAMP,ContextTokens,GeneratedTokens\n2024-01-01 00:00:00.0," + big + ",5\n"},
      {"azure", big + "\n"}};
  for (const auto& [format, text] : cases) {
    write(dir / "t.txt", text);
    const auto r = run("trace stats " + (dir / "t.txt").string() + " --format " + format);
    EXPECT_EQ(r.code, 2) << r.out.substr(0, 500);
    EXPECT_LT(r.out.size(), 600u) << r.out.substr(0, 600);
    EXPECT_EQ(r.out.find(std::string(61, 'x')), std::string::npos) << r.out.substr(0, 600);
    EXPECT_EQ(r.out.find('\x1b'), std::string::npos);
  }
}

TEST(OutputSafety, EtcPasswdAsATraceDoesNotPrintItsContent) {
  std::ifstream in("/etc/passwd");
  std::string first;
  std::getline(in, first);
  ASSERT_GT(first.size(), 8u);
  const fs::path dir = fresh_dir("safety_passwd");
  fs::create_directories(dir);
  write(dir / "s.yaml",
        "model: llama-3-8b\nhardware:\n  gpu: h100-sxm\nworkload:\n  trace:\n    path: /etc/passwd\n"
        "    format: mooncake\n");
  for (const std::string& args :
       std::vector<std::string>{"trace stats /etc/passwd --format mooncake", "trace stats /etc/passwd --format azure",
                                "validate " + (dir / "s.yaml").string()}) {
    const auto r = run(args);
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.out.find("/etc/passwd:1:"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find(first.substr(0, 8)), std::string::npos) << r.out;
  }
}

}  // namespace
