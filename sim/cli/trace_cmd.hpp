#pragma once
/// @file trace_cmd.hpp
/// @brief `kvsim trace stats FILE` and `kvsim trace convert IN --out OUT.jsonl`: what a trace holds, and the trace
/// in kvsim's own session format.

#include <CLI/CLI.hpp>
#include <string>

namespace kvsim::cli {

/// @brief Options of `kvsim trace`.
struct TraceCmdOptions {
  std::string file;
  std::string format;  ///< empty: guessed from the file name
  long block_tokens = 512;
  std::string on_error = "stop";
  long max_requests = 0;
  bool json = false;
  std::string out;
};

/// @brief Registers `trace stats` and `trace convert` on `app`.
void add_trace_command(CLI::App& app, TraceCmdOptions& o);
/// @brief Runs whichever was parsed; returns the exit code, or -1 when `trace` was not given.
int run_trace(const CLI::App& app, const TraceCmdOptions& o);

}  // namespace kvsim::cli
