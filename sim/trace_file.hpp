#pragma once
/// @file trace_file.hpp
/// @brief The file of `kvsim run --trace-events FILE`. It is opened under an unpredictable temporary name
/// (mkstemp) in FILE's directory
/// before the run, so a bad path is an input error (exit 2) before anything runs; a TraceEventWriter streams the
/// run's events into it; commit() renames it into place once the run has succeeded. A trace that is not committed
/// (the run failed) is removed, so no half-written FILE is ever seen.

#include <filesystem>
#include <memory>
#include <ostream>
#include <streambuf>
#include <vector>

#include "engine/trace_events.hpp"
#include "sim/scenario.hpp"

namespace kvsim {

/// @brief A trace-event file being written.
class TraceFile {
 public:
  /// @brief Opens the temporary file; throws InputError naming `--trace-events` if `path` cannot be written or is
  /// one of `inputs`.
  TraceFile(const std::filesystem::path& path, const Scenario& s, const std::vector<std::filesystem::path>& inputs);
  /// @brief Removes the temporary file unless commit() succeeded.
  ~TraceFile();
  TraceFile(const TraceFile&) = delete;
  TraceFile& operator=(const TraceFile&) = delete;

  /// @brief The writer to hand to the run (RunOptions::trace).
  TraceEventWriter& writer() { return *writer_; }
  /// @brief Ends the document and renames it to the final path; throws std::runtime_error on a write failure.
  void commit();

 private:
  std::filesystem::path path_, tmp_;
  int fd_ = -1;
  std::unique_ptr<std::streambuf> buf_;
  std::unique_ptr<std::ostream> out_;
  std::unique_ptr<TraceEventWriter> writer_;
  bool committed_ = false;
};

}  // namespace kvsim
