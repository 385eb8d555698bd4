#pragma once
/// @file analyze_output.hpp
/// @brief Table, JSON and CSV renderings of `kvsim analyze` rows. Column names carry units and are stable.

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "engine/peak_analysis.hpp"

namespace kvsim::cli {

/// @brief One row as JSON, with the documented key names.
nlohmann::ordered_json peak_json(const PeakReport& r);
/// @brief Table notes: each model's variant note ("model yi-34b-200k: the paper's simplified Yi-34B ..."), and the
/// rows whose context plus answer exceed the model's context, which are what-ifs. Empty when there is nothing to say.
std::string model_notes(const std::vector<PeakReport>& rows);
/// @brief Writes `rows` as "table", "json" or "csv".
void write_analyze(std::ostream& out, const std::vector<PeakReport>& rows, const std::string& format);

}  // namespace kvsim::cli
