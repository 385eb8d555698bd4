// The size of a run, estimated before it starts and watched while it runs (docs/reliability.md, "Run size").
#include "sim/run_size.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "engine/metrics.hpp"
#include "engine/units.hpp"
#include "sim/flag_values.hpp"
#include "sim/platform.hpp"

namespace kvsim {
namespace {

// Resident memory of a run besides its rows and actors: the binary, SimGrid, catalogs and the platform (measured
// about 30 MB for one replica), plus what each replica's scheduler, ledgers and SimGrid hosts take.
constexpr double kBaseBytes = 64e6;
constexpr double kReplicaBytes = 1e6;
// A live actor besides its stack: SimGrid's actor and context objects, its session plan and mailbox message
// (measured about 5 kB with 100,000 closed-loop users).
constexpr double kActorBytes = 8e3;
// The part of an actor's stack that is resident. With guard pages, what it touches: every scenario under
// scenarios/ runs with 32 KiB stacks (sim/platform.cpp). Without them (more actors than the memory maps allow)
// SimGrid zeroes each stack it allocates: measured 140 kB per closed-loop user in all (4.9 GB for 35,000 users,
// 13.9 GB for 100,000), and a whole stack per actor when an open loop reuses freed ones.
constexpr double kStackTouched = 32 * 1024;
constexpr double kStackZeroedClosed = 132e3;
// A vector of rows may hold up to twice what it uses while it grows.
constexpr double kGrowth = 2;

struct Load {
  double sessions = 0, rounds = 0, steps = 0, peak_actors = 0, max_actors = 0;
};

double chunks(double tokens, double per_step) {
  return std::ceil(std::max(tokens, 1.0) / per_step);
}

// A trace: its sessions (each round of a stateless one is a session), capped by workload.sessions and the
// duration; peak actors are the most sessions whose recorded spans overlap.
Load trace_load(const Scenario& s) {
  const auto& w = s.workload;
  const double mbt = double(s.scheduler.max_batch_tokens), speedup = w.trace.speedup;
  Load l;
  std::vector<std::pair<double, int>> edges;  // (time, +1 start / -1 end)
  for (const TraceSession& ts : w.trace.trace->sessions) {
    const double start = std::max(0.0, ts.rounds.front().arrival_s) / speedup;
    if (start > w.duration) continue;
    double end = start;
    for (std::size_t i = 0; i < ts.rounds.size(); ++i) {
      const TraceRound& r = ts.rounds[i];
      if (i > 0) end = r.arrival_s >= 0 ? std::max(end, r.arrival_s / speedup) : end + r.think_s / speedup;
      l.steps += double(r.output_tokens) + chunks(double(r.prompt_tokens), mbt);
    }
    l.rounds += double(ts.rounds.size());
    l.sessions += ts.stateless ? double(ts.rounds.size()) : 1;
    edges.emplace_back(start, 1);
    edges.emplace_back(end, -1);
  }
  l.max_actors = l.sessions;
  std::sort(edges.begin(), edges.end());
  double live = 0;
  for (const auto& [t, d] : edges) l.peak_actors = std::max(l.peak_actors, live += d);
  if (w.max_sessions > 0 && l.sessions > double(w.max_sessions)) {
    const double keep = double(w.max_sessions) / l.sessions;
    l.rounds *= keep;
    l.steps *= keep;
    l.sessions = double(w.max_sessions);
    l.peak_actors = std::min(l.peak_actors, l.sessions);
    l.max_actors = l.sessions;
  }
  return l;
}

// Synthetic sessions: the shortest a session can take is its think times plus its answers decoded alone, one
// token at the speed of the first (a decode step reads all weights and the KV so far).
Load synthetic_load(const Scenario& s) {
  const auto& w = s.workload;
  const double rounds = std::max(1.0, std::round(w.rounds.expected()));
  const double doc = w.document_tokens.expected(), q = w.question_tokens.expected();
  const double answer = std::max(1.0, w.answer_tokens.expected());
  const CostModel cost(s.model, s.deployment, s.scheduler.attention_flops);
  const double session_s = (rounds - 1) * w.think_time.expected() + rounds * answer * cost.decode_seconds(1, doc + q);
  Load l;
  const auto& a = w.arrival;
  if (a.type == "closed") {
    l.sessions = double(a.users) * (w.duration / session_s + 1);
    l.peak_actors = double(a.users);
  } else if (a.type == "list") {
    l.sessions = double(std::count_if(a.times.begin(), a.times.end(), [&](double t) { return t <= w.duration; }));
    l.peak_actors = l.sessions;
  } else {
    l.sessions = a.rate * w.duration;
    l.peak_actors = a.rate * session_s + 1;  // Little's law, without queueing
  }
  if (w.max_sessions > 0) l.sessions = std::min(l.sessions, double(w.max_sessions));
  l.peak_actors = std::min(l.peak_actors, std::ceil(l.sessions));
  // A Poisson count may exceed its mean: 10% and 100 more bound it at any size that matters.
  l.max_actors = a.type == "closed" ? l.peak_actors : l.sessions * 1.1 + 100;
  const double mbt = double(s.scheduler.max_batch_tokens);
  l.rounds = l.sessions * rounds;
  l.steps = l.sessions * (chunks(doc, mbt) + rounds * (answer + chunks(q, mbt)));
  return l;
}

std::string count(double n) {
  return n < 1e6 ? fmt::format("{:.0f}", n) : fmt::format("{:.3g}", n);
}

}  // namespace

double actor_stack_bytes() {
#if defined(__SANITIZE_ADDRESS__)
  return 8192.0 * 1024;
#else
  return 512.0 * 1024;
#endif
}

RunSize estimate_run_size(const Scenario& s) {
  const Load l = s.workload.trace.trace ? trace_load(s) : synthetic_load(s);
  RunSize z;
  z.sessions = l.sessions;
  z.rounds = l.rounds;
  z.forward_steps = l.steps;
  z.transfers = 2 * l.rounds;
  z.timeline_rows = std::ceil(s.workload.duration / s.timeline_period);
  z.peak_actors = l.peak_actors + s.replicas + 2;  // the replicas, the arrival driver and the coordinator
  z.max_actors = l.max_actors + s.replicas + 2;
  const double rows = z.rounds * sizeof(RoundRow) + z.sessions * sizeof(SessionRow) +
                      z.transfers * sizeof(TransferRow) + z.timeline_rows * sizeof(TimelineRow);
  const bool closed = s.workload.arrival.type == "closed" && !s.workload.trace.trace;
  z.stack_bytes = guard_pages_fit(z.max_actors) ? kStackTouched : closed ? kStackZeroedClosed : actor_stack_bytes();
  z.stack_bytes = std::min(z.stack_bytes, actor_stack_bytes());
  z.memory_bytes =
      kBaseBytes + s.replicas * kReplicaBytes + kGrowth * rows + z.peak_actors * (z.stack_bytes + kActorBytes);
  return z;
}

std::string describe_run_size(const RunSize& z, const RunLimits& limits) {
  return fmt::format(
      "  estimated size: {} sessions, {} rounds, {} forward steps at most, {} KV transfers at most, {} timeline rows\n"
      "  peak {} live actors; events {} of --max-events {}; memory {} of --max-memory {}\n",
      count(z.sessions), count(z.rounds), count(z.forward_steps), count(z.transfers), count(z.timeline_rows),
      count(z.peak_actors), count(z.events()), count(limits.max_events), format_bytes(z.memory_bytes),
      format_bytes_binary(limits.max_memory));
}

void check_run_size(const RunSize& z, const RunLimits& limits) {
  std::vector<Diagnostic> problems;
  if (z.events() > limits.max_events) {
    problems.push_back({"", "--max-events", 0, 0, count(limits.max_events),
                        fmt::format("the run would take about {} events ({} forward steps + {} KV transfers, from {} "
                                    "sessions of {} rounds), above the limit {}; shorten workload.duration or cap "
                                    "workload.sessions, or raise the limit with --max-events {}",
                                    count(z.events()), count(z.forward_steps), count(z.transfers), count(z.sessions),
                                    count(z.rounds), count(limits.max_events), count(z.events() * 1.1))});
  }
  if (z.memory_bytes > limits.max_memory) {
    problems.push_back(
        {"", "--max-memory", 0, 0, format_bytes(limits.max_memory),
         fmt::format("the run would need about {}: {} live actors x ({} of stack + {} each) + {} rounds, {} sessions "
                     "and {} timeline "
                     "rows of results, above the limit {}; use fewer users or sessions, or raise the limit with "
                     "--max-memory {} if the machine has it",
                     format_bytes(z.memory_bytes), count(z.peak_actors), format_bytes(z.stack_bytes),
                     format_bytes(kActorBytes), count(z.rounds), count(z.sessions), count(z.timeline_rows),
                     format_bytes(limits.max_memory), format_bytes(std::ceil(z.memory_bytes * 1.1 / 1e9) * 1e9))});
  }
  if (!problems.empty()) throw InputError(std::move(problems));
}

RunLimits parse_run_limits(const std::string& max_events, const std::string& max_memory) {
  RunLimits l;
  // From a thousand events or 64 MiB (less cannot start a run) to 1e15 events or 1 PiB.
  if (!max_events.empty())
    l.max_events = parse_flag_in_range("--max-events", max_events, Dim::kCount, {1e3, 1e15}, true);
  if (!max_memory.empty()) {
    l.max_memory = parse_flag_in_range("--max-memory", max_memory, Dim::kBytes, {64.0 * (1 << 20), 0x1p50});
  }
  return l;
}

double resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  double size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * double(::sysconf(_SC_PAGESIZE));
}

void RunWatchdog::check_stop() const {
  if (!stop_reason_.empty()) throw RunStoppedEarly(stop_reason_);
}

void RunWatchdog::on_event(double now) {
  check_stop();
  if (++events_ > limits_.max_events) {
    stop("--max-events", fmt::format("{} events (forward steps and KV transfers)", count(double(events_))), now);
  }
  if (events_ % kCheckEvery != 0) return;
  peak_memory_ = std::max(peak_memory_, resident_bytes());
  if (peak_memory_ > limits_.max_memory) stop("--max-memory", format_bytes(peak_memory_) + " resident", now);
}

void RunWatchdog::stop(const std::string& flag, const std::string& what, double now) const {
  const double limit = flag == "--max-events" ? limits_.max_events : limits_.max_memory;
  throw RunLimitExceeded(
      flag,
      fmt::format("the run was stopped at simulated time {} after {}, over the limit {} ({} events, {} resident); "
                  "nothing was written; raise the limit with {} if the machine can afford it",
                  format_seconds(now), what, flag == "--max-events" ? count(limit) : format_bytes(limit),
                  count(double(events_)), format_bytes(std::max(peak_memory_, resident_bytes())), flag));
}

}  // namespace kvsim
