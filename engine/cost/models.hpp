#pragma once
/// @file models.hpp
/// @brief The registry entries of the built-in step models, one per file in engine/cost/, listed in registry.cpp.

#include "engine/cost/step_model.hpp"

namespace kvsim {
StepModelRegistry::Entry roofline_step_model();
StepModelRegistry::Entry profiled_step_model();
StepModelRegistry::Entry fitted_step_model();
}  // namespace kvsim
