// Child processes for `kvsim compare`: posix_spawn and waitpid, no shell, at most N at once.
#include "sim/cli/compare_runner.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>

extern char** environ;

namespace kvsim::cli {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

// Starts one child; returns its pid, or -1 with `error` set.
pid_t spawn(const fs::path& exe, const ChildJob& job, std::string& error) {
  std::vector<std::string> args{"kvsim"};
  args.insert(args.end(), job.args.begin(), job.args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log = job.log.string();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<std::string> env_strings{fmt::format("KVSIM_PARENT_PID={}", ::getpid())};
  for (char** e = environ; *e; ++e) {
    if (std::string(*e).rfind("KVSIM_PARENT_PID=", 0) != 0) env_strings.emplace_back(*e);
  }
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    error = fmt::format("cannot start {} (log {}): {}", exe.string(), log, std::strerror(rc));
    return -1;
  }
  return pid;
}

ChildOutcome outcome_of(int status, Clock::time_point start) {
  ChildOutcome o;
  o.started = true;
  o.wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  if (WIFEXITED(status)) {
    o.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    o.signal = WTERMSIG(status);
  }
  return o;
}

// Waits for any child; returns its pid and status, retrying on EINTR. -1 if there is none.
pid_t wait_any(int& status) {
  for (;;) {
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid >= 0 || errno != EINTR) return pid;
  }
}

struct Running {
  std::size_t index;
  Clock::time_point start;
};

}  // namespace

std::vector<std::string> run_child_args(const RunChild& c) {
  std::vector<std::string> a{"--log-level", c.log_level, "run", "--quiet", "--out=" + c.out.string()};
  for (const auto& s : c.sets) a.push_back("--set=" + s);
  if (c.seed) a.push_back(fmt::format("--seed={}", *c.seed));
  if (!c.platforms.empty()) a.push_back("--platforms=" + c.platforms);
  if (c.audit) a.push_back(*c.audit ? "--audit" : "--no-audit");
  a.push_back("--");
  a.push_back(c.scenario);
  return a;
}

void die_with_parent() {
  const char* parent = std::getenv("KVSIM_PARENT_PID");
  if (parent == nullptr) return;
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (std::to_string(::getppid()) != parent) std::_Exit(1);
}

fs::path self_executable() {
  std::error_code ec;
  const fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path("/proc/self/exe") : p;
}

std::vector<ChildOutcome> run_children(const fs::path& exe, const std::vector<ChildJob>& jobs, int parallel,
                                       const std::function<void(std::size_t, const ChildOutcome&)>& on_done) {
  std::vector<ChildOutcome> out(jobs.size());
  std::map<pid_t, Running> running;
  std::size_t next = 0;
  while (next < jobs.size() || !running.empty()) {
    while (next < jobs.size() && running.size() < static_cast<std::size_t>(std::max(1, parallel))) {
      std::string error;
      const pid_t pid = spawn(exe, jobs[next], error);
      if (pid < 0) {
        out[next].error = error;
        on_done(next, out[next]);
      } else {
        running[pid] = Running{next, Clock::now()};
      }
      ++next;
    }
    if (running.empty()) continue;
    int status = 0;
    const pid_t pid = wait_any(status);
    if (pid < 0) throw std::runtime_error(fmt::format("waitpid: {}", std::strerror(errno)));
    const auto it = running.find(pid);
    if (it == running.end()) continue;  // not one of ours
    out[it->second.index] = outcome_of(status, it->second.start);
    on_done(it->second.index, out[it->second.index]);
    running.erase(it);
  }
  return out;
}

std::string child_error_text(const fs::path& log, const ChildOutcome& o) {
  if (!o.started) return o.error;
  std::ifstream f(log);
  std::string line, errors, last;
  while (std::getline(f, line)) {
    if (line.rfind("error: ", 0) == 0 || line.rfind("internal error: ", 0) == 0) {
      errors += (errors.empty() ? "" : "\n") + line;
    }
    if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
  }
  if (!errors.empty()) return errors;
  if (o.signal != 0) return fmt::format("killed by signal {} ({})", o.signal, strsignal(o.signal));
  if (!last.empty()) return last;
  return fmt::format("exited with code {}", o.exit_code);
}

}  // namespace kvsim::cli
