#pragma once
/// @file scenario_checks.hpp
/// @brief The rules between scenario keys, checked before the run: each key's own range is the schema's (see
/// sim/plausible.hpp); these are the divisibility, ordering and product limits that involve more than one key.

#include "sim/scenario.hpp"

namespace kvsim {

/// @brief Checks the cross-key rules of a built scenario: replicas (count / tensor_parallel) at most
/// plausible::kMaxReplicas, tensor_parallel dividing the model's KV heads, arrival times in order, expected sessions
/// (rate x duration) and timeline rows (duration / period) within their caps. Adds one diagnostic per broken rule,
/// located at the key to change, with the arithmetic.
void check_scenario_rules(const Scenario& s, Diagnostics& diag);

}  // namespace kvsim
