#pragma once
/// @file scenario_override.hpp
/// @brief The `--set key.path=value` edit of a scenario document, for code that edits the YAML tree itself (`kvsim
/// plan` writes each candidate's scenario).

#include <yaml-cpp/yaml.h>

#include <string>

#include "sim/diagnostics.hpp"

namespace kvsim {

/// @brief Applies one `--set` override ("a.b.c=value", a flow map or list as in YAML) to a scenario document as
/// load_scenario does, creating maps on the way; a malformed one goes to `diag`. Unknown keys are left to validation.
void apply_scenario_override(YAML::Node& root, const std::string& text, Diagnostics& diag);

}  // namespace kvsim
