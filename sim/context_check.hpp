#pragma once
/// @file context_check.hpp
/// @brief Refuses sessions longer than the model's context window (`max_context`: the catalog's, a config.json's
/// max_position_embeddings, or the scenario's `model.max_context`), before anything runs.

#include <cstdint>
#include <string>

#include "sim/scenario.hpp"

namespace kvsim {

/// @brief Quantile at which a length distribution without a maximum (exponential, lognormal without `max`) is
/// taken when checking a session against the context.
inline constexpr double kContextCheckQuantile = 0.999;

/// @brief The most tokens a synthetic session of `w` can hold, as check_context takes it: document + rounds x
/// (question + answer), each at its distribution's largest value (kContextCheckQuantile without a maximum).
std::int64_t longest_session_tokens(const WorkloadSpec& w);

/// @brief Where the model's context comes from, for messages: "model.max_context", "max_position_embeddings in
/// config.json" or "max_context in models.yaml".
std::string context_origin(const Scenario& s);

/// @brief Throws InputError, with the arithmetic and what to change, when a session can hold more tokens than
/// the model's context. Synthetic sessions are taken at document + rounds x (question + answer), each at its
/// distribution's largest value (kContextCheckQuantile for one without a maximum); a trace's sessions at the
/// tokens of their longest round (stateless) or of all their rounds (sessions that keep their context). Does
/// nothing when the model's context is unknown (0).
void check_context(const Scenario& s);

}  // namespace kvsim
