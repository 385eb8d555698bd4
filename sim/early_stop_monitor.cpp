// The early stop's monitor actor (see early_stop_monitor.hpp).
#include "sim/early_stop_monitor.hpp"

#include <algorithm>

#include "engine/log.hpp"
#include "sim/replica_actor.hpp"
#include "workloads/session.hpp"

namespace kvsim {
namespace sg4 = simgrid::s4u;

namespace {

constexpr int kChecksPerWindow = 4;
constexpr double kWindowsPerDuration = 50;

}  // namespace

std::int64_t counted_rounds_bound(const Scenario& s) {
  const WorkloadSpec& w = s.workload;
  if (w.trace.trace || (w.arrival.type != "poisson" && w.arrival.type != "list")) return -1;
  ArrivalProcess arrivals(w, s.seed);
  const SessionFactory factory(w, s.seed);
  std::int64_t rounds = 0;
  std::uint64_t key = 0;
  for (double t = arrivals.next(); t >= 0; t = arrivals.next(), ++key) {
    // A session is counted when it starts at or after the warmup; one that starts a hair before is counted too,
    // which only loosens the bound.
    if (t >= w.warmup * (1 - 1e-12) - 1e-9) rounds += std::int64_t(factory.make(key).rounds.size());
  }
  return rounds;
}

EarlyStopMonitor::EarlyStopMonitor(const Scenario& s, EarlyStop rule, const RunMetrics& metrics, RunWatchdog& watchdog)
    : metrics_(metrics),
      watchdog_(watchdog),
      replicas_(s.replicas),
      rule_(rule, counted_rounds_bound(s)),
      period_s_((rule.window_s > 0 ? rule.window_s : s.workload.duration / kWindowsPerDuration) / kChecksPerWindow),
      checks_per_window_(kChecksPerWindow),
      finished_over_(rule.ttft.size(), 0) {}

void EarlyStopMonitor::start(sg4::Host* host) {
  sg4::Actor::create("early-stop", host, [this] { loop(); })->daemonize();
}

void EarlyStopMonitor::loop() {
  for (long n = 1;; ++n) {
    sg4::this_actor::sleep_for(period_s_);
    const double now = sg4::Engine::get_clock();
    if (auto why = check(now, n % checks_per_window_ == 0)) {
      reason_ = *why;
      stopped_at_ = now;
      log("early-stop").info("stopped early at t={:.1f}s: {}", now, reason_);
      watchdog_.request_stop(reason_);
      wake_replicas();
      return;
    }
  }
}

// An idle replica waits on its mailbox: a flush (which changes nothing else) wakes it to see the stop.
void EarlyStopMonitor::wake_replicas() {
  wake_.flush = true;
  for (int r = 0; r < replicas_; ++r) sg4::Mailbox::by_name(replica_mailbox(r))->put_init(&wake_, 0)->detach();
}

std::optional<std::string> EarlyStopMonitor::check(double now, bool window_end) {
  const auto& targets = rule_.options().ttft;
  const auto& rows = metrics_.rounds();
  for (; seen_ < rows.size(); ++seen_) {
    const RoundRow& r = rows[seen_];
    if (!r.counted) continue;
    ++counted_finished_;
    for (std::size_t i = 0; i < targets.size(); ++i) finished_over_[i] += r.ttft_s > targets[i].bound_s ? 1 : 0;
  }
  std::vector<std::int64_t> over = finished_over_;
  std::int64_t arrived = counted_finished_;
  for (const auto& [id, r] : metrics_.open_rounds()) {
    if (!r.counted) continue;
    ++arrived;
    // A round with its first token has its TTFT; a waiting one will have at least the wait so far.
    const double ttft = r.first_token_s >= 0 ? r.first_token_s - r.arrival_s : now - r.arrival_s;
    for (std::size_t i = 0; i < targets.size(); ++i) over[i] += ttft > targets[i].bound_s ? 1 : 0;
  }
  if (auto why = rule_.check_percentiles(over, arrived)) return why;
  if (!window_end) return std::nullopt;
  return rule_.check_queue(sample(now));
}

QueueSample EarlyStopMonitor::sample(double now) const {
  QueueSample q;
  q.time_s = now;
  q.finished = std::int64_t(metrics_.rounds().size());
  q.arrived = q.finished + std::int64_t(metrics_.open_rounds().size());
  for (const auto& [id, r] : metrics_.open_rounds()) {
    if (r.first_token_s >= 0) continue;
    ++q.waiting;
    q.oldest_wait_s = std::max(q.oldest_wait_s, now - r.arrival_s);
  }
  return q;
}

}  // namespace kvsim
