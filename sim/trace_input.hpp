#pragma once
/// @file trace_input.hpp
/// @brief Reading a trace as input of a command or a scenario: a trace error becomes an InputError (exit code 2)
/// naming the file, the line and the field, and skipped lines are reported as a warning with their count.

#include <string>

#include "sim/diagnostics.hpp"
#include "workloads/trace.hpp"
#include "workloads/vllm_run.hpp"

namespace kvsim {

/// @brief Reads `path` with `options`; throws InputError for a bad trace, and, before opening it, for a path that is
/// not a regular file or a file over kMaxTraceBytes (sim/input_file.hpp). Skipped lines are logged.
Trace load_trace_input(const std::string& path, const TraceOptions& options);

/// @brief Reads a recorded vLLM run directory (workloads/vllm_run.hpp); throws InputError naming the directory when
/// it is missing, each file when it is missing, not a regular file or too large (meta.json 2 MiB, the others 256 MiB),
/// and the file, line and field of the first bad value.
VllmRun load_vllm_run_input(const std::string& dir);

/// @brief The diagnostic of a trace problem.
Diagnostic trace_diagnostic(const TraceProblem& p);

}  // namespace kvsim
