#pragma once
/// @file plot_data.hpp
/// @brief The tables `kvsim plot` reads (CSV with a header) and the gnuplot script pieces it writes.

#include <filesystem>
#include <string>
#include <vector>

namespace kvsim::cli {

/// @brief A CSV file read whole: its header and rows of fields.
struct Table {
  std::filesystem::path file;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  /// @brief The index of column `name`; throws InputError naming the file if there is none.
  std::size_t col(const std::string& name) const;
  /// @brief 1-based column number for gnuplot's `using`.
  int gp(const std::string& name) const { return int(col(name)) + 1; }
};

/// @brief Reads a CSV written by kvsim (fields quoted only when they hold a comma or quote).
Table read_table(const std::filesystem::path& file);

/// @brief The leading number of a value such as "36/h" or "0.5"; NaN when it does not start with one.
double leading_number(const std::string& value);

/// @brief Gnuplot lines that draw `body` (plot commands) to `name`.png and `name`.svg.
std::string gp_both(const std::string& name, const std::string& setup, const std::string& body);

/// @brief A gnuplot string literal.
std::string gp_quote(const std::string& s);

}  // namespace kvsim::cli
