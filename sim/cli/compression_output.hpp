#pragma once
/// @file compression_output.hpp
/// @brief Table, JSON and CSV renderings of `kvsim analyze --compare-compression`.

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "engine/compression_methods.hpp"
#include "sim/cli/compression_sim.hpp"

namespace kvsim::cli {

/// @brief Writes the per-method ratios as "table", "json" or "csv"; with `sim`, the simulated session throughput
/// of every row too (the table prints it as a second table; JSON and CSV add fields, empty in CSV without it).
void write_compression(std::ostream& out, const std::vector<CompressionDelta>& rows, const std::string& format,
                       const CompressionSimulation* sim = nullptr);

}  // namespace kvsim::cli
