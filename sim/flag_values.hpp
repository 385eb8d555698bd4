#pragma once
/// @file flag_values.hpp
/// @brief Numbers given on the command line held to the same plausible ranges as scenario keys (sim/plausible.hpp):
/// `--answer-tokens inf`, `--tp 100000` or `--host-link-bw 1e-9GBps` is refused with the flag, the value and the
/// range (exit code 2) before any work, so no per-token or per-step loop runs on an absurd value.

#include <string>

#include "engine/units.hpp"
#include "sim/plausible.hpp"

namespace kvsim {

/// @brief Throws InputError naming `flag`, `value` and `range` (in `dim`'s units) when `value` is outside `range`
/// (NaN included), or is not a whole number when `whole`; returns `value`.
double check_flag_range(const std::string& flag, double value, Dim dim, plausible::Range range, bool whole);

/// @brief Parses `text` as a quantity of `dim` (a unit where the dimension has one) and checks it as above.
double parse_flag_in_range(const std::string& flag, const std::string& text, Dim dim, plausible::Range range,
                           bool whole = false);

}  // namespace kvsim
