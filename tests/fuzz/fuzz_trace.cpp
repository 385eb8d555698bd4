// libFuzzer target for the trace readers (workloads/trace*.cpp): the first input byte picks the format (Mooncake,
// RAGPulse, Azure or kvsim) and whether bad lines are skipped; the rest is the file, written to a per-process
// temp file and read with read_trace, then summarised with trace_stats. Bad input must end in TraceError with a
// message naming a line; any other exception, crash, hang or sanitizer report is a finding, as is a trace that
// reads but breaks the readers' promises (negative lengths, rounds out of order).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>

#include "workloads/trace.hpp"
#include "workloads/trace_stats.hpp"

namespace {

const std::filesystem::path& temp_path() {
  static const std::filesystem::path p = [] {
    std::filesystem::path path = "/tmp/kvsim-fuzz-trace-" + std::to_string(::getpid());
    std::atexit([] { std::remove(("/tmp/kvsim-fuzz-trace-" + std::to_string(::getpid())).c_str()); });
    return path;
  }();
  return p;
}

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "fuzz_trace: %s\n", what.c_str());
  std::abort();
}

// What every trace that reads must satisfy.
void check(const kvsim::Trace& t) {
  double last_start = -1;
  for (const auto& s : t.sessions) {
    if (s.rounds.empty()) finding("a session without rounds");
    if (s.rounds.front().arrival_s < 0) finding("a session whose first round has no arrival time");
    if (s.rounds.front().arrival_s < last_start) finding("sessions not ordered by their first arrival");
    last_start = s.rounds.front().arrival_s;
    for (const auto& r : s.rounds) {
      if (r.prompt_tokens < 0 || r.output_tokens < 1 || r.think_s < 0) finding("a round with a negative length");
    }
  }
  const kvsim::TraceStats st = kvsim::trace_stats(t);
  (void)st;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto& formats = kvsim::trace_formats();
  kvsim::TraceOptions options;
  options.format = formats[data[0] % formats.size()];
  options.skip_errors = (data[0] / formats.size()) % 2 == 1;
  options.block_tokens = 16 + 496 * ((data[0] / (2 * formats.size())) % 2);
  {
    std::ofstream out(temp_path(), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data + 1), static_cast<std::streamsize>(size - 1));
    if (!out) finding("cannot write " + temp_path().string());
  }
  try {
    check(kvsim::read_trace(temp_path().string(), options));
  } catch (const kvsim::TraceError& e) {
    if (e.problem().message.empty()) finding("TraceError with an empty message");
  } catch (const std::exception& e) {
    finding(std::string("uncaught exception (not TraceError): ") + e.what());
  } catch (...) {
    finding("uncaught non-standard exception");
  }
  return 0;
}
