// The registry of replica schedulers: one line per scheduler.
#include <fmt/format.h>

#include "engine/sched/schedulers.hpp"

namespace kvsim {

Departure Scheduler::depart(SessionId s, bool, double) {
  throw std::logic_error(
      fmt::format("scheduler {} cannot hand session {} to another replica; use fcfs-reserve in "
                  "clusters that move sessions (prefill/decode pools, or a router other than "
                  "session-affinity)",
                  name(), s));
}

void Scheduler::release(SessionId s, double now) {
  depart(s, true, now);
}

SchedulerRegistry& schedulers() {
  static SchedulerRegistry r("scheduler", {
                                              fcfs_reserve_scheduler(),
                                              vllm_v1_scheduler(),
                                          });
  return r;
}

}  // namespace kvsim
