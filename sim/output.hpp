#pragma once
/// @file output.hpp
/// @brief The outputs of `kvsim run`: summary.json, sessions.csv, rounds.csv, timeline.csv and transfers.csv
/// (documented in docs/outputs.md), each written to a temporary name and renamed, and the console report.

#include <filesystem>
#include <ostream>

#include <nlohmann/json.hpp>

#include "sim/run.hpp"

namespace kvsim {

/// @brief summary.json's content: the scenario's identity and the run's summary, nested by dotted key.
nlohmann::ordered_json summary_json(const Scenario& s, const RunResult& r);
/// @brief Writes the five files into `dir` (created if needed).
void write_run_outputs(const std::filesystem::path& dir, const Scenario& s, const RunResult& r);
/// @brief A readable report of the run.
void print_report(std::ostream& out, const Scenario& s, const RunResult& r);
/// @brief Writes `text` to `path` through a temporary file and a rename, so readers never see a partial file.
void write_file_atomic(const std::filesystem::path& path, const std::string& text);

}  // namespace kvsim
