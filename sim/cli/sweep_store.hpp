#pragma once
/// @file sweep_store.hpp
/// @brief What a sweep keeps on disk (docs/outputs.md): sweep.json (the definition, checked on resume),
/// points.jsonl (one line per finished run, appended as each ends, the commit point of a run), and the tables
/// built from it, sweep.csv (one row per point, mean and 95% confidence half-width over replicates) and runs.csv
/// (one row per run).

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/cli/compare_runner.hpp"
#include "sim/cli/sweep_params.hpp"

namespace kvsim::cli {

/// @brief One run of a sweep: a point and a replicate.
struct RunRecord {
  std::string id;  ///< "p0003-r1"
  std::size_t point = 0;
  int replicate = 0;
  std::uint64_t seed = 0;
  bool ok = false;
  int exit_code = -1;
  std::string error;
  std::vector<double> metrics;  ///< one per compare_columns() entry when ok; NaN where the record has none
  double wall_s = 0;
};

/// @brief The run id of point `point`, replicate `replicate`.
std::string run_id(std::size_t point, int replicate);

/// @brief The record of one finished child run of a sweep or plan (point `point`, replicate `replicate`): its exit,
/// wall time, and the metrics read from the outputs beside its `log`, or why there are none.
RunRecord child_record(std::size_t point, int replicate, std::uint64_t seed, const std::filesystem::path& log,
                       const ChildOutcome& o);

/// @brief One points.jsonl line (with its newline).
std::string record_line(const std::vector<SweepParam>& params, const std::vector<SweepPoint>& points,
                        const RunRecord& r);

/// @brief Every run recorded in `dir`'s points.jsonl and points.rank*.jsonl, one per id (the last line wins).
/// A torn last line (a kill during a write) is ignored and cut off the file so appends start on a fresh line.
/// Throws InputError naming the file and line of any other unreadable line.
std::vector<RunRecord> read_records(const std::filesystem::path& dir);

/// @brief The records of `by_id` sorted by (point, replicate), the order of points.jsonl and runs.csv.
std::vector<RunRecord> in_run_order(std::map<std::string, RunRecord> by_id);

/// @brief The records in `text` (JSON lines) from `source` (a file name, for errors), in order.
std::vector<RunRecord> parse_records(const std::string& text, const std::string& source);

/// @brief Appends one line to `file` in a single write (O_APPEND).
void append_line(const std::filesystem::path& file, const std::string& line);

/// @brief Student's t quantile at 0.975 for `dof` degrees of freedom (for 95% two-sided intervals).
double t975(int dof);

/// @brief Mean and 95% half-width (Student's t over the values; 0 for fewer than two) of some values.
struct MeanCi {
  double mean = 0;
  double half = 0;
};

/// @brief The mean and 95% half-width of `values`, as sweep.csv's `_ci95` and capacity's intervals report them.
MeanCi mean_ci(const std::vector<double>& values);

/// @brief `kvsim analyze`'s figures for one point's scenario: one user at theoretical peak, with the document plus
/// one question as context (NaN where the point's scenario does not load, or replays a trace).
struct PointAnalysis {
  double concurrency = std::nan("");
  double prefill_s = std::nan("");
  double decode_s = std::nan("");
  double context_switch_s = std::nan("");
};

/// @brief sweep.csv: per point, the parameters, the number of runs that succeeded and failed, `analysis` (one per
/// point, or empty for none) as analyze_* columns, and per metric the mean and the 95% confidence half-width (empty
/// with fewer than two runs; both empty when a run of the point has no value, e.g. a record of an older kvsim).
std::string sweep_csv(const std::vector<SweepParam>& params, const std::vector<SweepPoint>& points, int replicates,
                      const std::vector<RunRecord>& records, const std::vector<PointAnalysis>& analysis = {});

/// @brief runs.csv: one row per recorded run, in point and replicate order (a metric the record lacks is empty).
std::string runs_csv(const std::vector<SweepParam>& params, const std::vector<SweepPoint>& points,
                     const std::vector<RunRecord>& records);

}  // namespace kvsim::cli
