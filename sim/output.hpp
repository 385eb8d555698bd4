#pragma once
/// @file output.hpp
/// @brief The outputs of `kvsim run`: summary.json, sessions.csv, rounds.csv, timeline.csv and transfers.csv
/// (documented in docs/outputs.md), built in a fresh sibling directory and swapped into place as a whole, and the
/// console report.

#include <filesystem>
#include <ostream>

#include <nlohmann/json.hpp>

#include "sim/run.hpp"
#include "sim/safe_output.hpp"

namespace kvsim {

/// @brief summary.json's content: the scenario's identity and the run's summary, nested by dotted key.
nlohmann::ordered_json summary_json(const Scenario& s, const RunResult& r);
/// @brief The entries of a run directory kvsim writes: the five files, and `plots` (from `kvsim plot`). An existing
/// `--out` holding anything else is refused, since write_run_outputs() replaces the directory as a whole.
std::vector<std::string> run_output_names();
/// @brief Writes the five files into a fresh directory and swaps it in place of `dir` (old contents removed), so
/// `dir` always holds the old run's set or the new one's, never a mix. `extra` files (name, content) are written
/// beside them in the same swap (`kvsim replay` adds its comparison), and kept by name like the five.
void write_run_outputs(const std::filesystem::path& dir, const Scenario& s, const RunResult& r,
                       const std::vector<std::pair<std::string, std::string>>& extra = {});
/// @brief A readable report of the run.
void print_report(std::ostream& out, const Scenario& s, const RunResult& r);

}  // namespace kvsim
