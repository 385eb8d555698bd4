#pragma once
/// @file replica_actor.hpp
/// @brief The actor of one model replica: it asks its scheduler for a plan, turns the plan's forward step and KV
/// transfers into SimGrid parallel tasks, and feeds their completions and arriving rounds back to the scheduler.

#include <simgrid/s4u.hpp>

#include <string>
#include <unordered_map>
#include <vector>

#include "engine/sched/scheduler.hpp"
#include "sim/activities.hpp"
#include "sim/platform.hpp"
#include "sim/run_size.hpp"

namespace kvsim {

/// @brief What a client sends to a replica's mailbox.
struct ReplicaMessage {
  bool shutdown = false;
  RoundRequest round;
  simgrid::s4u::Semaphore* done = nullptr;  ///< released when the round completes
  /// The trace loop posts every round recorded at one instant, then a `flush` to each replica it wrote to. A round
  /// marked `hold` keeps an idle replica from starting a step until the flush, so that it plans with all of that
  /// instant's rounds, whatever order SimGrid runs actors in.
  bool hold = false;
  bool flush = false;
  /// Another replica pulled the KV of `round.session`, which departed from here: let go of it. Sent by the puller,
  /// allocated with new and deleted by the receiver.
  bool release = false;
  /// Nothing to do but plan again: the frontend changed this replica's scheduler (a session departed).
  bool wake = false;
};

/// @brief Tells replica `r` that session `s`'s KV landed elsewhere (a ReplicaMessage with `release`).
void send_release(int r, SessionId s);
/// @brief Makes replica `r` plan again.
void send_wake(int r);

/// @brief The mailbox name of replica `r`.
std::string replica_mailbox(int r);

/// @brief Runs one replica until it receives a shutdown and has nothing left to do.
class ReplicaActor {
 public:
  /// `split_times` (the metrics window's ends) split a fast-forwarded stretch, so that work is attributed to either
  /// side of them exactly. `watchdog`, if given, counts every forward step (or fast-forwarded stretch) and KV
  /// transfer started, and throws RunLimitExceeded out of the actor body when the run goes over its limits.
  /// `all` holds every replica's hosts, for pulls from other replicas (null: none happen).
  ReplicaActor(int index, ReplicaHosts hosts, Scheduler& scheduler, std::vector<double> split_times = {},
               RunWatchdog* watchdog = nullptr, const std::vector<ReplicaHosts>* all = nullptr);
  /// @brief The actor body.
  void operator()();

 private:
  enum class Tag { kInbox, kStep, kTransfer };
  void start_plan(double now, bool gpu_free);
  void on_message(ReplicaMessage* msg, double now);
  void on_step_done(double now);
  double next_timeout(double now) const;
  void split_stretch(double now);

  int index_;
  ReplicaHosts hosts_;
  Scheduler& scheduler_;
  StepLauncher steps_;
  simgrid::s4u::ExecPtr step_;
  struct Transfer {
    simgrid::s4u::ExecPtr exec;
    std::uint64_t id = 0;
    int source = -1;  ///< the replica a pull comes from; -1 for a local move
    SessionId session = 0;
  };
  std::vector<Transfer> transfers_;
  std::unordered_map<SessionId, simgrid::s4u::Semaphore*> waiters_;
  std::vector<simgrid::s4u::ActivityPtr> activities_;
  std::vector<std::pair<Tag, std::size_t>> tags_;
  bool shutdown_ = false;
  bool holding_ = false;  ///< rounds of an instant are still being posted (see ReplicaMessage::hold)
  double wake_at_ = 0;
  std::vector<double> split_times_;
  RunWatchdog* watchdog_;
  const std::vector<ReplicaHosts>* all_;
};

}  // namespace kvsim
