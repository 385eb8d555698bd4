#pragma once
/// @file clients.hpp
/// @brief The user side: sessions arrive (open loop, a list, or a closed loop of users), each session sends its
/// rounds to its replica, waits for each answer, and thinks. Think time is the only sleep in kvsim.

#include <simgrid/s4u.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "engine/metrics.hpp"
#include "engine/sched/scheduler.hpp"
#include "sim/frontend.hpp"
#include "sim/replica_actor.hpp"
#include "workloads/session.hpp"

namespace kvsim {

/// @brief The users of one run: the actors that start sessions and run them, each round placed by the frontend.
class ClientSide {
 public:
  /// `hosts[r]` is the CPU host of replica r: a session's actor moves there to talk to its replica. `frontend`
  /// places each round on a replica.
  ClientSide(const WorkloadSpec& spec, std::uint64_t seed, Frontend& frontend, std::vector<simgrid::s4u::Host*> hosts,
             RunMetrics& metrics);
  /// @brief Creates the actors that generate sessions, and the coordinator that shuts the replicas down once
  /// every session has ended.
  void start();
  /// @brief Sessions started so far.
  std::uint64_t sessions_started() const { return next_id_; }

 private:
  void run_session(std::uint64_t key);
  void exchange(int r, const RoundRequest& req, simgrid::s4u::Semaphore* done);
  void finish_round(SessionPlace& place, const RoundRequest& round, simgrid::s4u::Semaphore* done);
  void open_loop();
  void closed_user(long user);
  void coordinator();
  void trace_loop();
  /// @brief A trace session's identity and its first round's message, posted by the trace loop.
  struct TraceSend {
    SessionPlace place;
    RoundRequest round;  ///< the first round as the trace has it (the message holds what the replica runs)
    int replica = 0;
    simgrid::s4u::SemaphorePtr done;
    ReplicaMessage msg;
  };
  void flush(std::vector<bool>& touched);
  std::shared_ptr<TraceSend> post_first_round(const TraceSession& ts, std::size_t first, std::size_t count);
  void trace_session(const TraceSession& ts, std::size_t first, std::size_t count, std::shared_ptr<TraceSend> send);
  void spawn(std::function<void()> body);

  const WorkloadSpec& spec_;
  std::uint64_t seed_;
  SessionFactory factory_;
  Frontend& frontend_;
  std::vector<simgrid::s4u::Host*> hosts_;
  RunMetrics& metrics_;
  std::vector<int> home_;  ///< trace replay: the replica of each trace session's latest request (-1: none)
  double trace_gap_s_;     ///< trace replay: the mean gap between a session's rounds, the think time schedulers expect
  SessionId next_id_ = 0;
  long live_ = 0;        ///< session actors and users still running
  long generators_ = 0;  ///< actors still starting sessions
  simgrid::s4u::MutexPtr mutex_;
  simgrid::s4u::ConditionVariablePtr all_done_;
};

}  // namespace kvsim
