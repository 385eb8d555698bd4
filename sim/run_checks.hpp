#pragma once
/// @file run_checks.hpp
/// @brief Making a run's plug-ins from the scenario, each refusal turned into an input error at its key.

#include <memory>
#include <stdexcept>
#include <string>

#include "engine/cluster/topology.hpp"
#include "engine/cost/step_model.hpp"
#include "sim/diagnostics.hpp"
#include "sim/scenario.hpp"

namespace kvsim {

/// @brief Calls `make` (a registry's make), turning a refusal by the plug-in's factory (std::invalid_argument)
/// into an InputError at `key`.
template <typename Make>
auto make_at(const Scenario& s, const std::string& key, Make make) {
  try {
    return make();
  } catch (const std::invalid_argument& e) {
    throw InputError(std::vector<Diagnostic>{s.values.at(key, e.what())});
  }
}

/// @brief The step model of `pool`'s replicas (its step_model.type, the scenario's parameters and data files).
std::unique_ptr<StepModel> make_step_model(const Scenario& s, const Pool& pool, const CostModel& cost);

}  // namespace kvsim
