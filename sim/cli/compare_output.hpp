#pragma once
/// @file compare_output.hpp
/// @brief The results of `kvsim compare`: the metric columns, read from each policy's run outputs, and their
/// renderings as compare.csv, compare.json and a console table (documented in docs/outputs.md).

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

namespace kvsim::cli {

/// @brief Which value of a column is best.
enum class Better { kHigher, kLower, kNone };

/// @brief How a column's value is shown on the console.
enum class Show { kRate, kSeconds, kBytes, kTokens, kCount, kFraction };

/// @brief One metric column.
struct CompareColumn {
  std::string name;  ///< the CSV column and JSON key, with its unit as suffix
  std::string unit;  ///< for the documentation and compare.json
  Better better;     ///< kNone: not ranked, no value is marked
  Show show;
  std::string pointer;  ///< JSON pointer into summary.json; empty for stall_p50_s (from rounds.csv)
};

/// @brief The metric columns, in order.
const std::vector<CompareColumn>& compare_columns();

/// @brief One policy's run: its metrics, or why it failed.
struct PolicyResult {
  std::string policy;
  bool ok = false;
  int exit_code = -1;          ///< the run's exit status; -1 if it did not start or exit normally
  std::string error;           ///< the run's error text when it failed
  std::vector<double> values;  ///< one per compare_columns() entry when ok
};

/// @brief What was compared.
struct CompareIdentity {
  std::string scenario;  ///< the path as given
  std::string model, gpu;
  std::uint64_t seed = 1;
  std::vector<std::string> overrides;  ///< the user's --set values
};

/// @brief Reads one run's metrics from `dir` (summary.json, rounds.csv); throws std::runtime_error naming the
/// file and the problem.
std::vector<double> read_policy_metrics(const std::filesystem::path& dir);

/// @brief best[row][column]: whether that value is the best of its column among the runs that succeeded
/// (every tied value is marked, values equal at compare.csv's 10 significant digits being tied; nothing in a kNone
/// column).
std::vector<std::vector<bool>> best_marks(const std::vector<PolicyResult>& results);

/// @brief compare.csv's text.
std::string compare_csv(const std::vector<PolicyResult>& results);
/// @brief compare.json's content.
nlohmann::ordered_json compare_json(const CompareIdentity& id, const std::vector<PolicyResult>& results);
/// @brief The console table: one row per metric, one column per policy, the best value marked with `*`; each
/// column as wide as its widest label or value, two spaces apart.
void print_compare_table(std::ostream& out, const CompareIdentity& id, const std::vector<PolicyResult>& results);

}  // namespace kvsim::cli
