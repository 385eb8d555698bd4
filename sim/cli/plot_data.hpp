#pragma once
/// @file plot_data.hpp
/// @brief The tables `kvsim plot` reads (CSV with a header) and the gnuplot script pieces it writes.

#include <cstddef>
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
  /// @brief Whether the table has a column `name`.
  bool has(const std::string& name) const;
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

/// @brief The names legends give sweep parameters: each key's last dotted component (`policy` for
/// `scheduler.kv_offload.policy`), or the whole key where two keys end in the same component.
std::vector<std::string> short_names(const std::vector<std::string>& keys);

/// @brief `name=value` pairs joined by ", " (`users=3, policy=swap`); empty without parameters.
std::string pairs_label(const std::vector<std::string>& names, const std::vector<std::string>& values);

/// @brief The legend of one series, the values of the parameters that vary across series: the value alone when
/// one parameter varies (`swap`), pairs_label() when several do (`policy=swap, users=2`), "all" when none does.
std::string series_label(const std::vector<std::string>& names, const std::vector<std::string>& values);

/// @brief File-name parts for `labels`, in order: every character other than a letter, digit, `.`, `+` or `-`
/// becomes `_` (runs of them one `_`, none at either end; `20/h` gives `20_h`), at most 60 characters, `_` for a
/// label with nothing left; made unique, ignoring case, with a `-2`, `-3`, ... suffix.
std::vector<std::string> file_slugs(const std::vector<std::string>& labels);

}  // namespace kvsim::cli
