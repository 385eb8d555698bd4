#pragma once
/// @file early_stop.hpp
/// @brief Ending a run as soon as its verdict against service-level objectives is certain (docs/sweeps.md, "Early
/// stop"). Two rules, both pure arithmetic on what the run has shown so far:
///
/// - **A percentile already missed** (exact). The run's TTFT percentile p over its final N counted rounds is above
///   a bound B once at least misses_to_exceed(p, N) of them have a TTFT above B. Rounds already over B count:
///   finished ones with TTFT > B, and rounds still waiting for their first token that have waited more than B
///   (their TTFT can only grow). N is not known before the run ends, but an upper bound is enough, because the
///   misses needed never decrease as N grows.
/// - **A queue growing without bound** (a conservative heuristic). Over `growth_windows` consecutive windows the
///   rounds arrived but not finished grew in every window, rounds arrived faster than the measured service rate
///   (completions per second while a backlog was present) by at least `growth_margin`, and the oldest waiting round
///   has already waited longer than the tightest TTFT bound.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kvsim {

/// @brief A bound on a percentile of the run's round TTFTs (summary.json `ttft.pNN_s`).
struct TtftTarget {
  std::string name;        ///< as the user wrote it: ttft_p90
  double percentile = 90;  ///< in (0, 100]
  double bound_s = 0;      ///< the run misses when its percentile is above this
};

/// @brief Which rules end a run early (RunOptions::early_stop). With no target and no queue rule, nothing stops.
struct EarlyStop {
  std::vector<TtftTarget> ttft;  ///< rule (a): stop once one of these is provably missed
  bool queue_growth = false;     ///< rule (b): stop once the queue grows without bound (needs a TTFT target)
  int growth_windows = 10;       ///< rule (b): consecutive windows of growth
  double growth_margin = 0.05;   ///< rule (b): arrivals must exceed completions by this fraction
  double window_s = 0;           ///< rule (b)'s window; 0: the run's duration / 50
  /// @brief Whether any rule is on.
  bool enabled() const { return !ttft.empty(); }
};

/// @brief The fewest rounds whose value must be above B for the p-th percentile (numpy's linear interpolation, as
/// kvsim's percentile()) of `rounds` values to be above B: rounds - floor(p / 100 x (rounds - 1)). Nondecreasing in
/// `rounds`; 1 for a single round.
std::int64_t misses_to_exceed(double percentile, std::int64_t rounds);

/// @brief Rule (a): the reason, when `over` rounds already above the target's bound make it missed whatever the
/// final count of rounds, given that it is at most `rounds_bound`; nothing otherwise.
std::optional<std::string> percentile_missed(const TtftTarget& target, std::int64_t over, std::int64_t rounds_bound);

/// @brief What the run shows at the end of one window of rule (b).
struct QueueSample {
  double time_s = 0;
  std::int64_t arrived = 0;   ///< rounds arrived since the start
  std::int64_t finished = 0;  ///< rounds finished since the start
  std::int64_t waiting = 0;   ///< rounds arrived that have not had their first token
  double oldest_wait_s = 0;   ///< how long the oldest of those has waited (0 when none)
  std::int64_t unfinished() const { return arrived - finished; }
};

/// @brief Rule (b) over the samples taken at the end of each window.
class QueueGrowth {
 public:
  /// @param windows consecutive windows of growth; @param margin arrivals over completions; @param min_wait_s the
  /// tightest TTFT bound.
  QueueGrowth(int windows, double margin, double min_wait_s);
  /// @brief Adds the sample at the end of a window; returns the reason once the queue grows without bound.
  std::optional<std::string> add(const QueueSample& s);

 private:
  int windows_;
  double margin_, min_wait_s_;
  std::vector<QueueSample> last_;  ///< the last windows_ + 1 samples
};

/// @brief Both rules together, as the run's monitor applies them.
class EarlyStopRule {
 public:
  /// @param rounds_bound an upper bound on the counted rounds of the run (-1: unknown, rule (a) off).
  EarlyStopRule(EarlyStop options, std::int64_t rounds_bound);
  /// @brief Rule (a) at one check: `over[i]` counted rounds are already above target i's bound, of `arrived`
  /// counted rounds so far. Returns the reason to stop, if any.
  std::optional<std::string> check_percentiles(const std::vector<std::int64_t>& over, std::int64_t arrived);
  /// @brief Rule (b) at the end of a window.
  std::optional<std::string> check_queue(const QueueSample& s);
  const EarlyStop& options() const { return options_; }
  /// @brief Whether rule (a) is still on (it turns off if more rounds arrive than the bound allowed).
  bool percentiles_on() const { return rounds_bound_ >= 0; }

 private:
  EarlyStop options_;
  std::int64_t rounds_bound_;
  QueueGrowth growth_;
};

}  // namespace kvsim
