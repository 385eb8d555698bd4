#pragma once
/// @file schedulers.hpp
/// @brief The registry entries of the built-in schedulers, one per file in engine/sched/, listed in registry.cpp.

#include "engine/sched/scheduler.hpp"

namespace kvsim {
SchedulerRegistry::Entry fcfs_reserve_scheduler();
SchedulerRegistry::Entry vllm_v1_scheduler();
}  // namespace kvsim
