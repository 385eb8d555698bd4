#pragma once
/// @file toys.hpp
/// @brief Plug-ins written outside the engine, as a user would: a scheduler, a step model and a router, each one
/// file whose registry entry a test adds with one line (tests/sim/plugin_test.cpp).

#include "engine/cluster/router.hpp"
#include "engine/cost/step_model.hpp"
#include "engine/sched/scheduler.hpp"

namespace kvsim::toys {
SchedulerRegistry::Entry fifo_scheduler();
StepModelRegistry::Entry constant_step_model();
RouterRegistry::Entry round_robin_router();
}  // namespace kvsim::toys
