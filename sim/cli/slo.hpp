#pragma once
/// @file slo.hpp
/// @brief Service-level objectives of `kvsim capacity`: `--slo ttft_p90=30s,decode_rate_p50=6tok/s`, each a bound on
/// one summary.json metric (the paper's Table 1 preferences: an answer starts soon, and decodes faster than
/// a person reads).

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/early_stop.hpp"

namespace kvsim::cli {

/// @brief One objective: the metric at `pointer` in summary.json must be at most (or at least) `bound`.
struct Slo {
  std::string name;     ///< as written: ttft_p90
  std::string pointer;  ///< JSON pointer into summary.json
  bool at_most = true;  ///< true: value <= bound; false: value >= bound
  double bound = 0;     ///< in the metric's base unit (s, tokens/s, fraction)
  std::string text;     ///< the bound as written: 30s
  std::string column;   ///< its column in capacity tables, with the unit: ttft_p90_s
};

/// @brief The names --slo accepts, with their metric and unit, for help and errors.
std::vector<std::string> slo_names();

/// @brief Parses `--slo` (comma-separated name=value); throws InputError naming the bad entry and what was expected.
std::vector<Slo> parse_slos(const std::string& text);

/// @brief Whether `summary` meets every objective; a run that completed no round meets none. `why` receives the
/// first objective missed, with its value.
bool meets(const std::vector<Slo>& slos, const nlohmann::json& summary, std::string& why);

/// @brief The early stop that judges a run on `slos` (RunOptions::early_stop, `kvsim run --early-stop`): each TTFT
/// percentile objective becomes a target of rule (a), and rule (b) (a queue growing without bound) is on. Off
/// (enabled() false) when no objective is a TTFT percentile: the other metrics can still recover.
EarlyStop early_stop_for(const std::vector<Slo>& slos);

}  // namespace kvsim::cli
