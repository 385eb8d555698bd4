#include "sim/trace_input.hpp"

#include <filesystem>

#include "engine/log.hpp"
#include "sim/input_file.hpp"

namespace kvsim {

Diagnostic trace_diagnostic(const TraceProblem& p) {
  return Diagnostic{p.file, p.field, p.line, 0, p.value, p.message};
}

Trace load_trace_input(const std::string& path, const TraceOptions& options) {
  // By its path first: a device (/dev/zero), FIFO or directory is never opened, a file over the cap never read.
  check_input_file(path, "a trace file", kMaxTraceBytes, "256 MiB");
  try {
    Trace t = read_trace(path, options);
    if (t.skipped > 0) {
      log("config").warn("{}: skipped {} bad line(s) of {} (on_error: skip); the first: {}", path, t.skipped, t.lines,
                         t.first_skip);
    }
    return t;
  } catch (const TraceError& e) {
    throw InputError(std::vector<Diagnostic>{trace_diagnostic(e.problem())});
  }
}

VllmRun load_vllm_run_input(const std::string& dir) {
  if (!std::filesystem::is_directory(dir)) {
    throw InputError(
        std::vector<Diagnostic>{{dir, "", 0, 0, "",
                                 "no such run directory (expected runs/<GPU>/<model> holding meta.json, requests.jsonl "
                                 "and timeseries.csv)"}});
  }
  const std::filesystem::path d(dir);
  check_input_file(d / "meta.json", "a vLLM run's meta.json", kMaxConfigBytes, "2 MiB");
  check_input_file(d / "requests.jsonl", "a vLLM run's requests.jsonl", kMaxTraceBytes, "256 MiB");
  check_input_file(d / "timeseries.csv", "a vLLM run's timeseries.csv", kMaxTraceBytes, "256 MiB");
  try {
    return read_vllm_run(dir);
  } catch (const TraceError& e) {
    throw InputError(std::vector<Diagnostic>{trace_diagnostic(e.problem())});
  }
}

}  // namespace kvsim
