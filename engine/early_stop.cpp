// The rules that end a run once its verdict is certain (see early_stop.hpp).
#include "engine/early_stop.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/units.hpp"

namespace kvsim {

std::int64_t misses_to_exceed(double percentile, std::int64_t rounds) {
  if (rounds <= 1) return 1;
  // percentile() sorts the values and interpolates between ranks lo = floor(pos) and lo + 1, pos = p (n - 1): the
  // result is above B when the value at rank lo is, that is when the n - lo largest values all are.
  const auto lo = static_cast<std::int64_t>(std::floor(percentile / 100.0 * double(rounds - 1)));
  return rounds - lo;
}

std::optional<std::string> percentile_missed(const TtftTarget& t, std::int64_t over, std::int64_t rounds_bound) {
  if (rounds_bound <= 0) return std::nullopt;
  const std::int64_t needed = misses_to_exceed(t.percentile, rounds_bound);
  if (over < needed) return std::nullopt;
  return fmt::format(
      "{} already missed: {} rounds have a TTFT above {} (finished, or still waiting longer than "
      "that), and {} of at most {} rounds suffice to put the p{:g} above it",
      t.name, over, format_seconds(t.bound_s), needed, rounds_bound, t.percentile);
}

QueueGrowth::QueueGrowth(int windows, double margin, double min_wait_s)
    : windows_(std::max(1, windows)), margin_(margin), min_wait_s_(min_wait_s) {}

std::optional<std::string> QueueGrowth::add(const QueueSample& s) {
  last_.push_back(s);
  if (last_.size() > std::size_t(windows_) + 1) last_.erase(last_.begin());
  if (last_.size() < std::size_t(windows_) + 1) return std::nullopt;
  for (std::size_t i = 1; i < last_.size(); ++i) {
    if (last_[i].unfinished() <= last_[i - 1].unfinished()) return std::nullopt;
  }
  const QueueSample& first = last_.front();
  const double arrived = double(s.arrived - first.arrived), finished = double(s.finished - first.finished);
  const double span = s.time_s - first.time_s;
  if (!(arrived > (1 + margin_) * finished)) return std::nullopt;
  if (s.waiting < windows_ || !(s.oldest_wait_s > min_wait_s_)) return std::nullopt;
  return fmt::format(
      "queue growing without bound: rounds arrived but unfinished rose in each of the last {} windows "
      "({} to {}), {:.4g} rounds/h arrived against {:.4g}/h served, and the oldest of {} waiting "
      "rounds has waited {}, over the TTFT bound {}",
      windows_, first.unfinished(), s.unfinished(), arrived / span * 3600, finished / span * 3600, s.waiting,
      format_seconds(s.oldest_wait_s), format_seconds(min_wait_s_));
}

namespace {

double tightest(const std::vector<TtftTarget>& targets) {
  double b = std::numeric_limits<double>::infinity();
  for (const auto& t : targets) b = std::min(b, t.bound_s);
  return b;
}

}  // namespace

EarlyStopRule::EarlyStopRule(EarlyStop options, std::int64_t rounds_bound)
    : options_(std::move(options)),
      rounds_bound_(rounds_bound),
      growth_(options_.growth_windows, options_.growth_margin, tightest(options_.ttft)) {}

std::optional<std::string> EarlyStopRule::check_percentiles(const std::vector<std::int64_t>& over,
                                                            std::int64_t arrived) {
  if (arrived > rounds_bound_) rounds_bound_ = -1;  // the bound was wrong: never stop on it
  if (rounds_bound_ < 0) return std::nullopt;
  for (std::size_t i = 0; i < options_.ttft.size() && i < over.size(); ++i) {
    if (auto why = percentile_missed(options_.ttft[i], over[i], rounds_bound_)) return why;
  }
  return std::nullopt;
}

std::optional<std::string> EarlyStopRule::check_queue(const QueueSample& s) {
  if (!options_.queue_growth || options_.ttft.empty()) return std::nullopt;
  return growth_.add(s);
}

}  // namespace kvsim
