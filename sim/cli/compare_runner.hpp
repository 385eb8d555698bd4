#pragma once
/// @file compare_runner.hpp
/// @brief Runs child processes of kvsim itself, up to N at a time, without a shell; each child's stdout and
/// stderr go to a log file.

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace kvsim::cli {

/// @brief One child process to run.
struct ChildJob {
  std::vector<std::string> args;  ///< arguments after argv[0]
  std::filesystem::path log;      ///< receives its stdout and stderr
};

/// @brief A `kvsim run` child: its scenario, output directory and overrides, as every multi-run command builds it.
struct RunChild {
  std::string scenario;
  std::filesystem::path out;
  std::vector<std::string> sets;  ///< key.path=value overrides, in order (later ones win)
  std::optional<long> seed;
  std::string platforms;
  std::optional<bool> audit;
  std::string log_level = "warn";
};

/// @brief The child's arguments after argv[0]: `--log-level L run --quiet --out=DIR --set=... -- SCENARIO`.
std::vector<std::string> run_child_args(const RunChild& c);

/// @brief How a child ended.
struct ChildOutcome {
  bool started = false;  ///< false: it could not be started (see `error`)
  int exit_code = -1;    ///< its exit status, or -1 when it did not exit normally
  int signal = 0;        ///< the signal that ended it, if any
  std::string error;     ///< why it could not be started
  double wall_s = 0;
};

/// @brief In a child started by run_children (KVSIM_PARENT_PID is set): asks the kernel to kill this process when
/// its parent dies, so a killed sweep or compare leaves no runs behind; exits at once if the parent is gone.
void die_with_parent();

/// @brief The executable of this process (/proc/self/exe resolved).
std::filesystem::path self_executable();

/// @brief Runs every job with `exe`, at most `parallel` at once, and returns their outcomes in job order.
/// `on_done(i, outcome)` is called as each one ends, in the order they end.
std::vector<ChildOutcome> run_children(const std::filesystem::path& exe, const std::vector<ChildJob>& jobs,
                                       int parallel,
                                       const std::function<void(std::size_t, const ChildOutcome&)>& on_done);

/// @brief The error text of a failed run from its log: its `error:` and `internal error:` lines, else the signal
/// that killed it, else its last non-empty line, else its exit code.
std::string child_error_text(const std::filesystem::path& log, const ChildOutcome& o);

}  // namespace kvsim::cli
