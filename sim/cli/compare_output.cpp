// `kvsim compare`'s results: read from each run's summary.json and rounds.csv, written as CSV, JSON and a table.
#include "sim/cli/compare_output.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <optional>
#include <sstream>

#include "engine/metrics.hpp"
#include "engine/units.hpp"
#include "sim/cli/csv.hpp"

namespace kvsim::cli {
namespace fs = std::filesystem;
namespace {

std::size_t column_index(const std::vector<std::string>& header, const std::string& name, const fs::path& file) {
  const auto it = std::find(header.begin(), header.end(), name);
  if (it == header.end()) throw std::runtime_error(file.string() + ": no column " + name);
  return static_cast<std::size_t>(it - header.begin());
}

// The median swap-in stall over counted rounds, from rounds.csv.
double stall_p50(const fs::path& file) {
  std::ifstream f(file);
  std::string line;
  if (!f || !std::getline(f, line)) throw std::runtime_error("cannot read " + file.string());
  const auto header = csv_split(line);
  const std::size_t stall = column_index(header, "swap_in_stall_s", file);
  const std::size_t counted = column_index(header, "counted", file);
  std::vector<double> values;
  while (std::getline(f, line)) {
    const auto row = csv_split(line);
    if (row.size() != header.size()) throw std::runtime_error(file.string() + ": malformed row: " + line);
    if (row[counted] == "1") values.push_back(std::stod(row[stall]));
  }
  return percentile(values, 50);
}

nlohmann::json read_json(const fs::path& file) {
  std::ifstream f(file);
  if (!f) throw std::runtime_error("cannot read " + file.string());
  try {
    return nlohmann::json::parse(f);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(file.string() + ": " + e.what());
  }
}

std::string better_name(Better b) {
  switch (b) {
    case Better::kHigher:
      return "higher";
    case Better::kLower:
      return "lower";
    case Better::kNone:
      break;
  }
  return "none";
}

std::string show(const CompareColumn& c, double v) {
  switch (c.show) {
    case Show::kRate:
      return fmt::format("{:.2f}", v);
    case Show::kSeconds:
      return format_seconds(v);
    case Show::kBytes:
      return format_bytes(v);
    case Show::kTokens:
    case Show::kCount:
      return fmt::format("{:.0f}", v);
    case Show::kFraction:
      break;
  }
  return fmt::format("{:.1f}%", 100 * v);
}

// `v` at the precision compare.csv writes (10 significant digits): runs that differ only by floating-point residue
// (14.87346191 against 14.87346191000001) are tied, as their equal compare.csv fields say.
double as_written(double v) {
  return std::stod(fmt::format("{:.10g}", v));
}

// The console table's text: a header row, then one row per metric column; each row holds the metric, `better`
// and one cell per policy.
std::vector<std::vector<std::string>> console_cells(const std::vector<PolicyResult>& results) {
  std::vector<std::vector<std::string>> rows{{"metric", "better"}};
  for (const auto& r : results) rows[0].push_back(r.policy);
  const auto& columns = compare_columns();
  for (std::size_t c = 0; c < columns.size(); ++c) {
    std::vector<std::string> row{columns[c].name,
                                 columns[c].better == Better::kNone ? "-" : better_name(columns[c].better)};
    for (const auto& r : results) row.push_back(r.ok ? show(columns[c], r.values[c]) : "failed");
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

const std::vector<CompareColumn>& compare_columns() {
  using B = Better;
  static const std::vector<CompareColumn> columns{
      {"session_throughput_per_hour", "sessions/h", B::kHigher, Show::kRate, "/session_throughput_per_hour"},
      {"session_completion_rate_per_hour", "sessions/h", B::kHigher, Show::kRate, "/session_completion_rate_per_hour"},
      {"max_resident", "sessions", B::kHigher, Show::kCount, "/concurrency/max_resident"},
      {"mean_resident", "sessions", B::kHigher, Show::kRate, "/concurrency/mean_resident"},
      {"prefill_p99_s", "s", B::kLower, Show::kSeconds, "/prefill/p99_s"},
      {"decode_mean_s", "s", B::kLower, Show::kSeconds, "/decode/mean_s"},
      {"ttft_p50_s", "s", B::kLower, Show::kSeconds, "/ttft/p50_s"},
      {"ttft_p90_s", "s", B::kLower, Show::kSeconds, "/ttft/p90_s"},
      {"ttft_p99_s", "s", B::kLower, Show::kSeconds, "/ttft/p99_s"},
      {"stall_p50_s", "s", B::kLower, Show::kSeconds, ""},
      {"stall_p99_s", "s", B::kLower, Show::kSeconds, "/swap/stall_p99_s"},
      {"swap_bytes_out", "bytes", B::kLower, Show::kBytes, "/swap/bytes_out"},
      {"swap_bytes_in", "bytes", B::kLower, Show::kBytes, "/swap/bytes_in"},
      {"swap_count", "transfers", B::kNone, Show::kCount, "/swap/count"},
      {"swap_transfer_mean_s", "s", B::kLower, Show::kSeconds, "/swap/transfer_mean_s"},
      {"recompute_tokens", "tokens", B::kLower, Show::kTokens, "/recompute/tokens"},
      {"gpu_time_prefill", "fraction", B::kNone, Show::kFraction, "/time_breakdown/prefill"},
      {"gpu_time_decode", "fraction", B::kNone, Show::kFraction, "/time_breakdown/decode"},
      {"gpu_time_stalled", "fraction", B::kLower, Show::kFraction, "/time_breakdown/stalled"},
      {"gpu_time_idle", "fraction", B::kNone, Show::kFraction, "/time_breakdown/idle"},
      {"gpu_prefill_s", "s", B::kNone, Show::kSeconds, "/time_breakdown/prefill_s"},
      {"gpu_decode_s", "s", B::kNone, Show::kSeconds, "/time_breakdown/decode_s"},
      {"slo_ttft_attainment", "fraction", B::kHigher, Show::kFraction, "/slo/ttft_attainment"},
      {"slo_decode_rate_attainment", "fraction", B::kHigher, Show::kFraction, "/slo/decode_rate_attainment"},
  };
  return columns;
}

std::vector<double> read_policy_metrics(const fs::path& dir) {
  const nlohmann::json summary = read_json(dir / "summary.json");
  std::vector<double> values;
  for (const auto& c : compare_columns()) {
    if (c.pointer.empty()) {
      values.push_back(stall_p50(dir / "rounds.csv"));
      continue;
    }
    const nlohmann::json::json_pointer ptr(c.pointer);
    if (!summary.contains(ptr) || !summary.at(ptr).is_number()) {
      throw std::runtime_error((dir / "summary.json").string() + ": no number at " + c.pointer);
    }
    values.push_back(summary.at(ptr).get<double>());
  }
  return values;
}

std::vector<std::vector<bool>> best_marks(const std::vector<PolicyResult>& results) {
  const auto& columns = compare_columns();
  std::vector<std::vector<bool>> marks(results.size(), std::vector<bool>(columns.size(), false));
  for (std::size_t c = 0; c < columns.size(); ++c) {
    if (columns[c].better == Better::kNone) continue;
    const bool higher = columns[c].better == Better::kHigher;
    std::optional<double> best;
    for (const auto& r : results) {
      if (!r.ok) continue;
      const double v = as_written(r.values[c]);
      if (!best || (higher ? v > *best : v < *best)) best = v;
    }
    for (std::size_t i = 0; i < results.size(); ++i) {
      marks[i][c] = results[i].ok && as_written(results[i].values[c]) == best;
    }
  }
  return marks;
}

std::string compare_csv(const std::vector<PolicyResult>& results) {
  std::string out = "policy,status";
  for (const auto& c : compare_columns()) out += "," + c.name;
  out += "\n";
  for (const auto& r : results) {
    out += r.policy + (r.ok ? ",ok" : ",failed");
    for (std::size_t c = 0; c < compare_columns().size(); ++c) {
      out += r.ok ? fmt::format(",{:.10g}", r.values[c]) : ",";
    }
    out += "\n";
  }
  return out;
}

nlohmann::ordered_json compare_json(const CompareIdentity& id, const std::vector<PolicyResult>& results) {
  const auto& columns = compare_columns();
  nlohmann::ordered_json j;
  j["kvsim_version"] = KVSIM_VERSION;
  j["scenario"] = {{"file", fs::path(id.scenario).filename().string()},
                   {"model", id.model},
                   {"gpu", id.gpu},
                   {"seed", id.seed},
                   {"overrides", id.overrides}};
  j["columns"] = nlohmann::ordered_json::array();
  for (const auto& c : columns) {
    j["columns"].push_back({{"name", c.name}, {"unit", c.unit}, {"better", better_name(c.better)}});
  }
  j["runs"] = nlohmann::ordered_json::array();
  for (const auto& r : results) {
    nlohmann::ordered_json run{
        {"policy", r.policy}, {"status", r.ok ? "ok" : "failed"}, {"exit_code", r.exit_code}, {"dir", r.policy}};
    for (std::size_t c = 0; c < columns.size(); ++c) {
      run[columns[c].name] = r.ok ? nlohmann::ordered_json(r.values[c]) : nlohmann::ordered_json(nullptr);
    }
    run["error"] = r.ok ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.error);
    j["runs"].push_back(run);
  }
  const auto marks = best_marks(results);
  j["best"] = nlohmann::ordered_json::object();
  for (std::size_t c = 0; c < columns.size(); ++c) {
    if (columns[c].better == Better::kNone) continue;
    auto& names = j["best"][columns[c].name] = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (marks[i][c]) names.push_back(results[i].policy);
    }
  }
  return j;
}

void print_compare_table(std::ostream& out, const CompareIdentity& id, const std::vector<PolicyResult>& results) {
  const auto rows = console_cells(results);
  const auto marks = best_marks(results);
  std::vector<std::size_t> width(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (std::size_t k = 0; k < row.size(); ++k) width[k] = std::max(width[k], row[k].size());
  }
  out << fmt::format("\nkvsim compare: {} (seed {}), {} on {}\n", id.scenario, id.seed, id.model, id.gpu);
  out << "  one row per metric, one column per policy; * marks the best value of a row, which is the higher or the\n"
         "  lower one as `better` says (rows marked - are not ranked)\n\n";
  for (std::size_t r = 0; r < rows.size(); ++r) {
    // The metric and `better` are left-aligned, the policies' values right-aligned, each followed by its mark.
    std::string line = fmt::format("  {:<{}}  {:<{}}", rows[r][0], width[0], rows[r][1], width[1]);
    for (std::size_t i = 0; i < results.size(); ++i) {
      const bool marked = r > 0 && marks[i][r - 1];
      line += fmt::format("  {:>{}}{}", rows[r][i + 2], width[i + 2], marked ? "*" : " ");
    }
    out << line << "\n";
  }
  for (const auto& r : results) {
    if (!r.ok) out << fmt::format("\n  {} failed (exit code {}): {}\n", r.policy, r.exit_code, r.error);
  }
}

}  // namespace kvsim::cli
