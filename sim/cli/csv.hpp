#pragma once
/// @file csv.hpp
/// @brief The one CSV field writer and line splitter of the subcommands that write and read kvsim's own CSV files.

#include <string>
#include <vector>

namespace kvsim::cli {

/// @brief `s` as one CSV field: as is, or in double quotes (inner quotes doubled) when it holds a comma, quote or
/// newline.
std::string csv_field(const std::string& s);

/// @brief The fields of one CSV line, undoing csv_field's quoting. An empty line is one empty field.
std::vector<std::string> csv_split(const std::string& line);

}  // namespace kvsim::cli
