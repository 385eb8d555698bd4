#include "sim/trace_input.hpp"

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

}  // namespace kvsim
