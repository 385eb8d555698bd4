#pragma once
/// @file progress.hpp
/// @brief A progress line on stderr for runs of many child processes: done/total, failures and ETA. On a
/// terminal it redraws one bar in place; otherwise it prints one line per finished run.

#include <chrono>
#include <cstddef>
#include <ostream>
#include <string>

namespace kvsim::cli {

/// @brief Progress of `total` runs, `already` of which were done before this process started.
class Progress {
 public:
  /// @param label printed before each line, e.g. "sweep" or "sweep rank 1"
  Progress(std::ostream& out, std::string label, std::size_t total, std::size_t already, bool terminal);
  /// @brief One more run ended; `failed` says whether it failed.
  void done(bool failed);
  /// @brief Ends the bar's line on a terminal.
  void finish();
  /// @brief The estimated seconds left, from the mean wall time of the runs this process finished.
  double eta_s() const;

 private:
  void draw();

  std::ostream& out_;
  std::string label_;
  std::size_t total_, already_, done_ = 0, failed_ = 0;
  bool terminal_;
  std::chrono::steady_clock::time_point start_;
};

/// @brief "1:05" or "0:09" or "2:03:10".
std::string format_clock(double seconds);

}  // namespace kvsim::cli
