#pragma once
/// @file trace.hpp
/// @brief Recorded workloads: one in-memory form for every trace format kvsim reads (Mooncake, RAGPulse, Azure
/// LLM inference 2023, and kvsim's own session traces), the options of the readers, and their errors.
///
/// A trace is a list of sessions, each a list of rounds in time order. A round arrives at a recorded time (open
/// loop) or a think time after the previous round's answer. A round may carry the ids of its prompt's blocks, each
/// covering `block_tokens` tokens (the last one the remainder); two prompts that start with the same ids share that
/// prefix's KV (see docs/traces.md).

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace kvsim {

/// @brief One round of a recorded session.
struct TraceRound {
  double arrival_s = -1;              ///< recorded arrival, seconds from the trace's start; negative: use think_s
  double think_s = 0;                 ///< after the previous round's answer (when arrival_s is negative)
  std::int64_t prompt_tokens = 0;     ///< new prompt tokens of the round
  std::int64_t output_tokens = 0;     ///< tokens generated
  std::vector<std::uint64_t> blocks;  ///< prompt block ids, in prompt order (may be empty)
  int line = 0;                       ///< line of the trace file it came from
};

/// @brief One recorded session.
struct TraceSession {
  std::string id;
  /// True: each round's prompt restates its whole context (the previous rounds' KV is not kept by the session,
  /// reuse goes through prefix blocks only). False: each round appends to the session's context.
  bool stateless = true;
  std::vector<TraceRound> rounds;
};

/// @brief A trace read into memory, sessions ordered by their first round's arrival, ties in file order.
struct Trace {
  std::string file;
  std::string format;
  std::int64_t block_tokens = 512;  ///< tokens per prompt block
  std::vector<TraceSession> sessions;
  long skipped = 0;        ///< lines skipped (on_error: skip)
  std::string first_skip;  ///< the first skipped line's problem, for the warning
  long lines = 0;          ///< lines read
  /// @brief Rounds in all sessions.
  std::size_t requests() const;
};

/// @brief The largest trace file kvsim reads: 256 MiB, about a million Mooncake requests or five million Azure
/// rows, which read into ~2 GB of memory. A larger file is refused by its size before it is read; cut it (`head -n`)
/// or sample it. A file that grows past the cap while being read is stopped at the cap.
inline constexpr std::uintmax_t kMaxTraceBytes = 256u << 20;
/// @brief The longest trace line kvsim reads: 1 MiB, 500x the longest line of the public traces (a 1M-token prompt
/// in 16-token blocks lists ~60,000 ids, ~500 kB). A longer line is a problem of that line (file and line named),
/// read no further than the cap, so a file without newlines never fills memory.
inline constexpr std::size_t kMaxTraceLineBytes = 1u << 20;

/// @brief How to read a trace.
struct TraceOptions {
  std::string format;               ///< mooncake, ragpulse, azure or kvsim; empty: guessed from the file name
  std::int64_t block_tokens = 512;  ///< tokens covered by one hash id (Mooncake uses 512)
  bool skip_errors = false;         ///< on_error: skip (count and drop bad lines) rather than stop
  long max_requests = 0;            ///< stop after this many requests in file order (0: all)
  double session_sample = 1;        ///< keep this fraction of sessions, chosen by a hash of the session id
  std::size_t max_line_bytes = kMaxTraceLineBytes;  ///< a longer line is a problem of that line
  std::uintmax_t max_bytes = kMaxTraceBytes;        ///< reading stops with an error past this many bytes
};

/// @brief A trace replayed by `kvsim run` in place of synthetic sessions (scenario section workload.trace).
struct TraceReplay {
  std::string path;                    ///< resolved against the scenario file's directory; empty: no trace
  double speedup = 1;                  ///< recorded times and think times are divided by this
  std::shared_ptr<const Trace> trace;  ///< read when the scenario is loaded
};

/// @brief A problem in a trace file: file, line, field, bad value and what was expected.
struct TraceProblem {
  std::string file;
  int line = 0;
  std::string field;
  std::string value;
  std::string message;
  /// @brief "file:line: field: message (got 'value')".
  std::string str() const;
};

/// @brief Thrown by the readers (on_error: stop), and for files that cannot be read at all.
class TraceError : public std::runtime_error {
 public:
  explicit TraceError(TraceProblem p) : std::runtime_error(p.str()), problem_(std::move(p)) {}
  const TraceProblem& problem() const { return problem_; }

 private:
  TraceProblem problem_;
};

/// @brief The formats known to read_trace.
const std::vector<std::string>& trace_formats();
/// @brief The format a file name suggests (mooncake, ragpulse, azure, kvsim), or "" when none.
std::string guess_trace_format(const std::string& path);
/// @brief Reads a trace. Throws TraceError at the first bad line unless options.skip_errors.
Trace read_trace(const std::string& path, const TraceOptions& options);
/// @brief Writes `trace` in kvsim's session-trace format (JSON lines, see docs/traces.md).
void write_kvsim_trace(const Trace& trace, std::ostream& out);
/// @brief Tokens covered by block `index` of a prompt of `prompt_tokens` tokens in blocks of `block_tokens`.
std::int64_t block_span(std::int64_t prompt_tokens, std::int64_t block_tokens, std::size_t index);

}  // namespace kvsim
