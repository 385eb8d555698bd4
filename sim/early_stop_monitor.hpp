#pragma once
/// @file early_stop_monitor.hpp
/// @brief The SimGrid side of the early stop (engine/early_stop.hpp): a daemon actor that looks at the run's metrics
/// at regular simulated times and, once a rule says the verdict is certain, records why and asks the run's watchdog
/// to stop it: the next forward step or transfer of any replica then ends the run, as a run over its limits ends.

#include <simgrid/s4u.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "engine/early_stop.hpp"
#include "engine/metrics.hpp"
#include "sim/replica_actor.hpp"
#include "sim/run_size.hpp"
#include "sim/scenario.hpp"

namespace kvsim {

/// @brief An upper bound on the rounds of the sessions the run counts (those starting at or after the warmup), or
/// -1 when the workload does not bound them in advance. Open loops (poisson, list) replay the run's own arrival
/// process and session draws (both deterministic in the seed): the bound is the exact count. Closed loops and traces
/// return -1.
std::int64_t counted_rounds_bound(const Scenario& s);

/// @brief Watches one run; create it before the engine runs, then call start().
class EarlyStopMonitor {
 public:
  /// @param rule the options; a window of 0 becomes the scenario's duration / 50.
  EarlyStopMonitor(const Scenario& s, EarlyStop rule, const RunMetrics& metrics, RunWatchdog& watchdog);
  /// @brief Creates the daemon actor on `host` (it ends with the run).
  void start(simgrid::s4u::Host* host);
  /// @brief Why the run was stopped; empty if it was not.
  const std::string& reason() const { return reason_; }
  /// @brief The simulated time the rule fired (the run ends at the next replica event).
  double stopped_at() const { return stopped_at_; }

 private:
  void loop();
  std::optional<std::string> check(double now, bool window_end);
  QueueSample sample(double now) const;
  void wake_replicas();

  const RunMetrics& metrics_;
  RunWatchdog& watchdog_;
  int replicas_;
  EarlyStopRule rule_;
  double period_s_;
  int checks_per_window_;
  std::size_t seen_ = 0;                     ///< finished rounds already tallied
  std::int64_t counted_finished_ = 0;        ///< of those, the counted ones
  std::vector<std::int64_t> finished_over_;  ///< per target: counted finished rounds above its bound
  std::string reason_;
  double stopped_at_ = 0;
  ReplicaMessage wake_;  ///< the flush posted to each replica when stopping
};

}  // namespace kvsim
