#pragma once
/// @file compression_output.hpp
/// @brief Table, JSON and CSV renderings of `kvsim analyze --compare-compression`.

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "engine/compression_methods.hpp"

namespace kvsim::cli {

/// @brief Writes the per-method ratios as "table", "json" or "csv".
void write_compression(std::ostream& out, const std::vector<CompressionDelta>& rows, const std::string& format);

}  // namespace kvsim::cli
