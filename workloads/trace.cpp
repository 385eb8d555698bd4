// Reading a trace file into the common form: the line loop, error handling (stop or skip), order checks,
// session sampling and truncation, and kvsim's own format written back.
#include "workloads/trace.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <unordered_map>

#include "workloads/trace_record.hpp"

namespace kvsim {
using trace_detail::LineProblem;
using trace_detail::Record;
namespace {

// A session's share of the sample: FNV-1a of its id, mixed by SplitMix64, as a fraction in [0, 1).
double sample_point(const std::string& id) {
  std::uint64_t h = 1469598103934665603ULL;
  for (const unsigned char c : id) h = (h ^ c) * 1099511628211ULL;
  h += 0x9e3779b97f4a7c15ULL;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

// Builds sessions from records in file order and checks the order of times where it matters.
class Assembler {
 public:
  explicit Assembler(Trace& t, bool global_order) : trace_(t), global_order_(global_order) {}

  void add(Record r, int line) {
    auto [it, fresh] = index_.try_emplace(r.session, trace_.sessions.size());
    const TraceSession* s = fresh ? nullptr : &trace_.sessions[it->second];
    if (fresh && !r.has_arrival) {
      index_.erase(it);
      throw LineProblem{"think_s", "", "a session's first round needs arrival_s"};
    }
    if (s && s->stateless != r.stateless) {
      throw LineProblem{"stateless", r.stateless ? "true" : "false", "differs from the session's earlier rounds"};
    }
    const double floor = global_order_ ? last_ : (s ? last_arrival(*s) : 0.0);
    if (r.has_arrival && r.arrival_s < floor) {
      if (fresh) index_.erase(it);
      throw LineProblem{"timestamp", fmt::format("{}", r.arrival_s),
                        fmt::format("time goes back: expected >= {} s, the previous {}", floor,
                                    global_order_ ? "line's" : "round's of this session")};
    }
    if (r.has_arrival) last_ = std::max(last_, r.arrival_s);
    if (fresh) trace_.sessions.push_back(TraceSession{r.session, r.stateless, {}});
    TraceSession& target = trace_.sessions[it->second];
    target.rounds.push_back(TraceRound{r.has_arrival ? r.arrival_s : -1, r.think_s, r.prompt_tokens, r.output_tokens,
                                       std::move(r.blocks), line});
  }

 private:
  static double last_arrival(const TraceSession& s) {
    for (auto it = s.rounds.rbegin(); it != s.rounds.rend(); ++it) {
      if (it->arrival_s >= 0) return it->arrival_s;
    }
    return 0;
  }
  Trace& trace_;
  bool global_order_;
  double last_ = 0;
  std::unordered_map<std::string, std::size_t> index_;
};

// "N bytes", with the MiB when that is a whole number of them.
std::string size_text(std::uintmax_t bytes) {
  const std::uintmax_t mib = std::uintmax_t{1} << 20;
  if (bytes >= mib && bytes % mib == 0) return fmt::format("{} bytes ({} MiB)", bytes, bytes / mib);
  return fmt::format("{} bytes", bytes);
}

// The lines of a trace file, each read no further than a cap, and the whole file no further than another: a file
// without newlines, or one that keeps growing, never fills memory.
class LineReader {
 public:
  LineReader(std::istream& in, const TraceOptions& o)
      : in_(*in.rdbuf()), max_line_(o.max_line_bytes), max_(o.max_bytes) {}

  // The next line into `text`, without its newline; false at the end of the file. Throws LineProblem for a line
  // longer than the cap, having read only the cap and the bytes after it up to its newline when `skip` (to go on)
  // and none of them otherwise; throws FileTooLong past the file cap.
  bool next(std::string& text, bool skip) {
    text.clear();
    int c = bump();
    if (c == std::char_traits<char>::eof()) return false;
    ++line_;
    for (; c != std::char_traits<char>::eof() && c != '\n'; c = bump()) {
      if (text.size() == max_line_) {
        while (skip && c != std::char_traits<char>::eof() && c != '\n') c = bump();
        throw LineProblem{"", "",
                          fmt::format("line longer than {}, the most a trace line may hold", size_text(max_line_))};
      }
      text.push_back(static_cast<char>(c));
    }
    if (!text.empty() && text.back() == '\r') text.pop_back();
    return true;
  }

  // The number of the line read last (1-based).
  int line() const { return line_; }

  // Thrown when the file is longer than the cap (it grew after its size was checked, or was not checked).
  struct FileTooLong {};

 private:
  int bump() {
    const int c = in_.sbumpc();
    if (c != std::char_traits<char>::eof() && ++bytes_ > max_) throw FileTooLong{};
    return c;
  }
  std::streambuf& in_;
  std::size_t max_line_;
  std::uintmax_t max_;
  std::uintmax_t bytes_ = 0;
  int line_ = 0;
};

}  // namespace

std::string TraceProblem::str() const {
  std::string s = fmt::format("{}:{}: ", file, line);
  if (!field.empty()) s += field + ": ";
  s += message;
  if (!value.empty()) s += fmt::format(" (got '{}')", value);
  return s;
}

std::size_t Trace::requests() const {
  std::size_t n = 0;
  for (const auto& s : sessions) n += s.rounds.size();
  return n;
}

const std::vector<std::string>& trace_formats() {
  static const std::vector<std::string> names{"mooncake", "ragpulse", "azure", "kvsim"};
  return names;
}

std::string guess_trace_format(const std::string& path) {
  std::string p = path;
  std::transform(p.begin(), p.end(), p.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (p.find("mooncake") != std::string::npos) return "mooncake";
  if (p.find("ragpulse") != std::string::npos) return "ragpulse";
  if (p.find("azure") != std::string::npos || p.ends_with(".csv")) return "azure";
  if (p.find("kvsim") != std::string::npos) return "kvsim";
  return "";
}

std::int64_t block_span(std::int64_t prompt_tokens, std::int64_t block_tokens, std::size_t index) {
  const std::int64_t start = static_cast<std::int64_t>(index) * block_tokens;
  return std::clamp<std::int64_t>(prompt_tokens - start, 0, block_tokens);
}

Trace read_trace(const std::string& path, const TraceOptions& options) {
  const std::string format = options.format.empty() ? guess_trace_format(path) : options.format;
  if (std::find(trace_formats().begin(), trace_formats().end(), format) == trace_formats().end()) {
    throw TraceError({path, 0, "format", format, "unknown trace format; expected mooncake, ragpulse, azure or kvsim"});
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TraceError({path, 0, "", "", "cannot open trace file"});
  Trace trace{path, format, options.block_tokens, {}, 0, "", 0};
  Assembler sessions(trace, format != "kvsim");
  trace_detail::ParseState state;
  LineReader lines(in, options);
  std::string text;
  long kept = 0;
  for (;;) {
    try {
      const bool more = lines.next(text, options.skip_errors);
      state.line = lines.line();
      trace.lines = lines.line();
      if (!more) break;
      if (text.find_first_not_of(" \t") == std::string::npos) continue;
      std::optional<Record> r = trace_detail::parse_line(format, text, state);
      if (!r || (options.session_sample < 1 && sample_point(r->session) >= options.session_sample)) continue;
      sessions.add(std::move(*r), state.line);
      if (options.max_requests > 0 && ++kept >= options.max_requests) break;
    } catch (const LineProblem& p) {
      trace.lines = lines.line();
      TraceProblem problem{path, lines.line(), p.field, p.value, p.message};
      if (!options.skip_errors) throw TraceError(problem);
      if (trace.skipped++ == 0) trace.first_skip = problem.str();
    } catch (const LineReader::FileTooLong&) {
      throw TraceError({path, lines.line(), "", "",
                        fmt::format("the file is longer than {}, the most a trace may hold; cut it (head -n) or "
                                    "sample it (session_sample)",
                                    size_text(options.max_bytes))});
    }
  }
  if (state.block_tokens > 0) trace.block_tokens = state.block_tokens;
  std::stable_sort(trace.sessions.begin(), trace.sessions.end(), [](const TraceSession& a, const TraceSession& b) {
    return a.rounds.front().arrival_s < b.rounds.front().arrival_s;
  });
  return trace;
}

void write_kvsim_trace(const Trace& trace, std::ostream& out) {
  out << nlohmann::json{{"kvsim_trace", 1},
                        {"block_tokens", trace.block_tokens},
                        {"source", trace.file},
                        {"source_format", trace.format}}
             .dump()
      << "\n";
  for (const TraceSession& s : trace.sessions) {
    for (const TraceRound& r : s.rounds) {
      nlohmann::ordered_json j;
      j["session_id"] = s.id;
      if (r.arrival_s >= 0)
        j["arrival_s"] = r.arrival_s;
      else
        j["think_s"] = r.think_s;
      j["prompt_tokens"] = r.prompt_tokens;
      j["output_tokens"] = r.output_tokens;
      if (!r.blocks.empty()) j["prefix_blocks"] = r.blocks;
      if (s.stateless) j["stateless"] = true;
      out << j.dump() << "\n";
    }
  }
}

}  // namespace kvsim
