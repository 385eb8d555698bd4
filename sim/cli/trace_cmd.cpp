#include "sim/cli/trace_cmd.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sim/diagnostics.hpp"
#include "sim/safe_output.hpp"
#include "sim/trace_input.hpp"
#include "workloads/trace_stats.hpp"

namespace kvsim::cli {
namespace {

void add_reader_options(CLI::App* cmd, TraceCmdOptions& o) {
  cmd->add_option("file", o.file, "Trace file")->required();
  cmd->add_option("--format", o.format, "mooncake, ragpulse, azure or kvsim (default: from the file name)")
      ->check(CLI::IsMember(trace_formats()));
  cmd->add_option("--block-tokens", o.block_tokens, "Tokens per hash id (default 512)")->check(CLI::PositiveNumber);
  cmd->add_option("--on-error", o.on_error, "stop at the first bad line, or skip bad lines and count them")
      ->check(CLI::IsMember({"stop", "skip"}));
  cmd->add_option("--max-requests", o.max_requests, "Read only the first N requests (0: all)")
      ->check(CLI::NonNegativeNumber);
}

Trace load(const TraceCmdOptions& o) {
  TraceOptions t;
  t.format = o.format.empty() ? guess_trace_format(o.file) : o.format;
  if (t.format.empty()) {
    throw InputError(std::vector<Diagnostic>{
        {o.file, "--format", 0, 0, "", "cannot tell the trace format from the file name; pass --format"}});
  }
  t.block_tokens = o.block_tokens;
  t.skip_errors = o.on_error == "skip";
  t.max_requests = o.max_requests;
  return load_trace_input(o.file, t);
}

nlohmann::ordered_json summary_json(const Summary& s) {
  return {{"count", s.count}, {"mean", s.mean}, {"min", s.min}, {"p50", s.p50},
          {"p90", s.p90},     {"p99", s.p99},   {"max", s.max}};
}

nlohmann::ordered_json stats_json(const Trace& t, const TraceStats& s) {
  nlohmann::ordered_json j;
  j["file"] = t.file;
  j["format"] = t.format;
  j["block_tokens"] = t.block_tokens;
  j["lines"] = t.lines;
  j["skipped_lines"] = t.skipped;
  j["requests"] = s.requests;
  j["sessions"] = s.sessions;
  j["span_s"] = s.span_s;
  j["rate_per_s"] = s.rate_per_s;
  j["input_tokens"] = summary_json(s.input_tokens);
  j["output_tokens"] = summary_json(s.output_tokens);
  j["rounds_per_session"] = summary_json(s.rounds_per_session);
  j["gap_s"] = summary_json(s.gap_s);
  j["prompt_tokens"] = s.prompt_tokens;
  j["ideal_cached_tokens"] = s.ideal_cached_tokens;
  j["ideal_prefix_hit_ratio"] = s.ideal_prefix_hit_ratio;
  return j;
}

std::string row(const char* name, const Summary& s) {
  return fmt::format("  {:<20} {:>12.6g} {:>10.6g} {:>10.6g} {:>10.6g} {:>10.6g} {:>10.6g}\n", name, s.mean, s.min,
                     s.p50, s.p90, s.p99, s.max);
}

void print_stats(const Trace& t, const TraceStats& s) {
  std::cout << fmt::format("trace {} ({}, {} lines, {} skipped, {}-token blocks)\n", t.file, t.format, t.lines,
                           t.skipped, t.block_tokens);
  std::cout << fmt::format("  requests {:.0f}, sessions {:.0f}, span {:.3f} s ({:.2f} h), rate {:.4g}/s\n", s.requests,
                           s.sessions, s.span_s, s.span_s / 3600, s.rate_per_s);
  std::cout << fmt::format("  {:<20} {:>12} {:>10} {:>10} {:>10} {:>10} {:>10}\n", "", "mean", "min", "p50", "p90",
                           "p99", "max");
  std::cout << row("input tokens", s.input_tokens) << row("output tokens", s.output_tokens)
            << row("rounds per session", s.rounds_per_session) << row("gap between rounds s", s.gap_s);
  std::cout << fmt::format("  ideal prefix hit ratio (infinite cache): {:.4f} ({:.0f} of {:.0f} prompt tokens)\n",
                           s.ideal_prefix_hit_ratio, s.ideal_cached_tokens, s.prompt_tokens);
}

int convert(const TraceCmdOptions& o) {
  check_output_file(o.out, "--out", {o.file});  // before reading: never onto the input, never after the work
  const std::filesystem::path dir = std::filesystem::path(o.out).has_parent_path()
                                        ? std::filesystem::path(o.out).parent_path()
                                        : std::filesystem::path(".");
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    throw InputError(std::vector<Diagnostic>{
        {"", "--out", 0, 0, o.out, fmt::format("directory '{}' does not exist", dir.string())}});
  }
  const Trace t = load(o);
  std::ostringstream text;
  write_kvsim_trace(t, text);
  write_file_atomic(o.out, text.str());
  std::cout << fmt::format("{}: {} requests in {} sessions written to {}\n", o.file, t.requests(), t.sessions.size(),
                           o.out);
  return 0;
}

}  // namespace

void add_trace_command(CLI::App& app, TraceCmdOptions& o) {
  auto* trace = app.add_subcommand("trace", "Inspect or convert a workload trace");
  trace->require_subcommand(1);
  auto* stats = trace->add_subcommand("stats",
                                      "Requests, sessions, span, rate, length and gap distributions, "
                                      "and the ideal prefix hit ratio of a trace");
  add_reader_options(stats, o);
  stats->add_flag("--json", o.json, "Print JSON instead of the table");
  auto* conv = trace->add_subcommand("convert", "Write a trace in kvsim's session-trace format (JSON lines)");
  add_reader_options(conv, o);
  conv->add_option("--out", o.out, "Output file (.jsonl)")->required();
}

int run_trace(const CLI::App& app, const TraceCmdOptions& o) {
  if (!app.got_subcommand("trace")) return -1;
  const CLI::App* trace = app.get_subcommand("trace");
  if (trace->got_subcommand("convert")) return convert(o);
  const Trace t = load(o);
  const TraceStats s = trace_stats(t);
  if (o.json) {
    std::cout << stats_json(t, s).dump(2) << "\n";
  } else {
    print_stats(t, s);
  }
  return 0;
}

}  // namespace kvsim::cli
