// The registry of replica schedulers: one line per scheduler.
#include "engine/sched/schedulers.hpp"

namespace kvsim {

SchedulerRegistry& schedulers() {
  static SchedulerRegistry r("scheduler", {
                                              fcfs_reserve_scheduler(),
                                              vllm_v1_scheduler(),
                                          });
  return r;
}

}  // namespace kvsim
