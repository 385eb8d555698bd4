#pragma once
/// @file run_size.hpp
/// @brief How big a run will be, estimated from its scenario before simulating (sessions, rounds, forward steps,
/// timeline rows, peak live actors, memory), the limits a run must stay within (`kvsim run --max-events`,
/// `--max-memory`), and the watchdog that enforces the same limits while it runs. docs/reliability.md gives the
/// formulas.

#include <cstdint>
#include <string>

#include "sim/scenario.hpp"

namespace kvsim {

/// @brief The estimated size of a run; each figure is an estimate from the scenario's means, documented in
/// docs/reliability.md ("Run size").
struct RunSize {
  double sessions = 0;       ///< sessions the run starts
  double rounds = 0;         ///< rounds of those sessions
  double forward_steps = 0;  ///< upper bound: every step advances a round by a token or a prefill chunk
  double transfers = 0;      ///< KV transfers: one out and one in per round at most
  double timeline_rows = 0;  ///< duration / timeline_period
  double peak_actors = 0;    ///< SimGrid actors alive at once: sessions or users, replicas, the drivers
  double max_actors = 0;     ///< the most that can be alive at once (every session at the same time)
  double stack_bytes = 0;    ///< resident bytes of each actor's stack
  double memory_bytes = 0;   ///< peak resident memory
  /// @brief Events the watchdog counts: forward steps and KV transfers.
  double events() const { return forward_steps + transfers; }
};

/// @brief Limits of one run; the defaults are what a 2-core machine with 24 GB survives in a few hours.
struct RunLimits {
  static constexpr double kDefaultMaxEvents = 1e9;               ///< about 3 hours at 100k events/s
  static constexpr double kDefaultMaxMemory = 16.0 * (1 << 30);  ///< 16 GiB, leaving 8 GB to the rest
  double max_events = kDefaultMaxEvents;
  double max_memory = kDefaultMaxMemory;
};

/// @brief Bytes of a SimGrid actor's stack (contexts/stack-size; larger under AddressSanitizer).
double actor_stack_bytes();

/// @brief The estimate for a loaded, validated scenario (check_deployment passed).
RunSize estimate_run_size(const Scenario& s);

/// @brief The estimate as a few report lines, each starting with two spaces.
std::string describe_run_size(const RunSize& size, const RunLimits& limits);

/// @brief Refuses (InputError naming --max-events or --max-memory, the estimate, the limit and how to raise it) a
/// run whose estimate is over a limit.
void check_run_size(const RunSize& size, const RunLimits& limits);

/// @brief Parses --max-events (a count, e.g. 1e9 or 2B) and --max-memory (bytes with a unit, e.g. 16GiB); InputError
/// naming the flag.
RunLimits parse_run_limits(const std::string& max_events, const std::string& max_memory);

/// @brief Resident memory of this process in bytes, from /proc/self/statm (0 if unreadable).
double resident_bytes();

/// @brief Enforces RunLimits during a run: the replica actors count each forward step and KV transfer they start,
/// and every kCheckEvery events the resident memory is sampled. Over a limit, it throws RunLimitExceeded. It also
/// carries the early stop's request (request_stop) to the replica actors: their next event throws RunStoppedEarly.
class RunWatchdog {
 public:
  static constexpr std::uint64_t kCheckEvery = 4096;
  explicit RunWatchdog(RunLimits limits) : limits_(limits) {}
  /// @brief One forward step or transfer started at simulated time `now`.
  void on_event(double now);
  /// @brief Ends the run at the next forward step or transfer of any replica, for `reason`.
  void request_stop(std::string reason) { stop_reason_ = std::move(reason); }
  /// @brief Throws RunStoppedEarly once a stop was requested (a replica actor checks it each time it wakes).
  void check_stop() const;
  std::uint64_t events() const { return events_; }
  double peak_memory() const { return peak_memory_; }

 private:
  [[noreturn]] void stop(const std::string& flag, const std::string& what, double now) const;
  RunLimits limits_;
  std::uint64_t events_ = 0;
  double peak_memory_ = 0;
  std::string stop_reason_;
};

/// @brief A run ended on purpose by the early stop (RunWatchdog::request_stop); what() is the reason.
class RunStoppedEarly : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// @brief A run stopped by the watchdog; `flag` is the limit it crossed.
class RunLimitExceeded : public std::runtime_error {
 public:
  RunLimitExceeded(std::string flag, const std::string& message)
      : std::runtime_error(message), flag_(std::move(flag)) {}
  const std::string& flag() const { return flag_; }

 private:
  std::string flag_;
};

}  // namespace kvsim
