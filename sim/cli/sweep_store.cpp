// A sweep's files: the append-only run log and the tables built from it.
#include "sim/cli/sweep_store.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "sim/cli/compare_output.hpp"
#include "sim/cli/csv.hpp"
#include "sim/diagnostics.hpp"

namespace kvsim::cli {
namespace fs = std::filesystem;
namespace {

// Reads `file` whole; cuts a torn last line (no newline) off the file.
std::string read_and_heal(const fs::path& file) {
  std::ifstream f(file, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string text = ss.str();
  const auto last = text.rfind('\n');
  const std::size_t keep = last == std::string::npos ? 0 : last + 1;
  if (keep < text.size()) {
    text.resize(keep);
    fs::resize_file(file, keep);
  }
  return text;
}

// A metric of a record; NaN when the record has none (a line written by a kvsim without that column) or null (a
// NaN written back).
double metric_or_nan(const nlohmann::json& metrics, const std::string& name) {
  const auto it = metrics.find(name);
  return it == metrics.end() || it->is_null() ? std::nan("") : it->get<double>();
}

RunRecord parse_record(const nlohmann::json& j) {
  RunRecord r;
  r.id = j.at("id").get<std::string>();
  r.point = j.at("point").get<std::size_t>();
  r.replicate = j.at("replicate").get<int>();
  r.seed = j.at("seed").get<std::uint64_t>();
  r.ok = j.at("status").get<std::string>() == "ok";
  r.exit_code = j.at("exit_code").get<int>();
  r.error = j.value("error", "");
  r.wall_s = j.value("wall_s", 0.0);
  if (r.ok) {
    const auto& m = j.at("metrics");
    for (const auto& c : compare_columns()) r.metrics.push_back(metric_or_nan(m, c.name));
  }
  return r;
}

void read_log(const fs::path& file, std::map<std::string, RunRecord>& out) {
  for (auto& r : parse_records(read_and_heal(file), file.string())) out[r.id] = std::move(r);
}

std::string params_header(const std::vector<SweepParam>& params) {
  std::string out = "point";
  for (const auto& p : params) out.append(",").append(csv_field(p.key));
  return out;
}

std::string point_fields(const SweepPoint& p) {
  std::string out = std::to_string(p.index);
  for (const auto& v : p.values) out.append(",").append(csv_field(v));
  return out;
}

// Mean and 95% half-width of column `c` over the successful runs of one point.
// One metric's mean and half-width over a point's runs, as sweep.csv fields: empty when a run lacks it, and no
// half-width for a single run.
std::pair<std::string, std::string> mean_ci_fields(const std::vector<const RunRecord*>& runs, std::size_t c) {
  const auto missing = [c](const RunRecord* r) { return std::isnan(r->metrics[c]); };
  if (runs.empty() || std::any_of(runs.begin(), runs.end(), missing)) return {"", ""};
  std::vector<double> values;
  for (const auto* r : runs) values.push_back(r->metrics[c]);
  const MeanCi m = mean_ci(values);
  return {fmt::format("{:.10g}", m.mean), runs.size() < 2 ? "" : fmt::format("{:.10g}", m.half)};
}

}  // namespace

RunRecord child_record(std::size_t point, int replicate, std::uint64_t seed, const fs::path& log,
                       const ChildOutcome& o) {
  RunRecord r{run_id(point, replicate), point, replicate, seed};
  r.exit_code = o.started ? o.exit_code : -1;
  r.wall_s = o.wall_s;
  if (!o.started || o.exit_code != 0) {
    r.error = child_error_text(log, o);
    return r;
  }
  try {
    r.metrics = read_policy_metrics(log.parent_path());
    r.ok = true;
  } catch (const std::exception& e) {
    r.error = std::string("the run ended but its outputs cannot be read: ") + e.what();
  }
  return r;
}

std::string run_id(std::size_t point, int replicate) {
  return fmt::format("p{:04}-r{}", point, replicate);
}

std::string record_line(const std::vector<SweepParam>& params, const std::vector<SweepPoint>& points,
                        const RunRecord& r) {
  nlohmann::ordered_json j;
  j["id"] = r.id;
  j["point"] = r.point;
  j["replicate"] = r.replicate;
  j["seed"] = r.seed;
  nlohmann::ordered_json values = nlohmann::ordered_json::object();
  for (std::size_t k = 0; k < params.size(); ++k) values[params[k].key] = points.at(r.point).values[k];
  j["params"] = values;
  j["status"] = r.ok ? "ok" : "failed";
  j["exit_code"] = r.exit_code;
  if (!r.ok) j["error"] = r.error;
  if (r.ok) {
    nlohmann::ordered_json m;
    for (std::size_t c = 0; c < compare_columns().size(); ++c) m[compare_columns()[c].name] = r.metrics[c];
    j["metrics"] = m;
  }
  j["wall_s"] = r.wall_s;
  return j.dump() + "\n";
}

std::vector<RunRecord> parse_records(const std::string& text, const std::string& source) {
  std::vector<RunRecord> out;
  std::istringstream in(text);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    try {
      out.push_back(parse_record(nlohmann::json::parse(line)));
    } catch (const nlohmann::json::exception& e) {
      throw InputError({Diagnostic{source, "run record", n, 0, line.substr(0, 80),
                                   std::string("not a sweep run record: ") + e.what() +
                                       "; remove the line or start the sweep in a new --out directory"}});
    }
  }
  return out;
}

std::vector<RunRecord> read_records(const fs::path& dir) {
  std::map<std::string, RunRecord> by_id;
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name == "points.jsonl" || (name.rfind("points.rank", 0) == 0 && e.path().extension() == ".jsonl")) {
      files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) read_log(f, by_id);
  return in_run_order(std::move(by_id));
}

std::vector<RunRecord> in_run_order(std::map<std::string, RunRecord> by_id) {
  std::vector<RunRecord> out;
  for (auto& [id, r] : by_id) out.push_back(std::move(r));
  std::sort(out.begin(), out.end(), [](const RunRecord& a, const RunRecord& b) {
    return std::pair(a.point, a.replicate) < std::pair(b.point, b.replicate);
  });
  return out;
}

void append_line(const fs::path& file, const std::string& line) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(fmt::format("cannot open {}: {}", file.string(), std::strerror(errno)));
  const ssize_t n = ::write(fd, line.data(), line.size());
  const int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(line.size())) {
    throw std::runtime_error(fmt::format("cannot append to {}: {}", file.string(), std::strerror(err)));
  }
}

MeanCi mean_ci(const std::vector<double>& values) {
  MeanCi out;
  if (values.empty()) return out;
  double sum = 0;
  for (double v : values) sum += v;
  const double n = double(values.size());
  out.mean = sum / n;
  if (values.size() < 2) return out;
  double ss = 0;
  for (double v : values) ss += (v - out.mean) * (v - out.mean);
  out.half = t975(int(values.size()) - 1) * std::sqrt(ss / (n - 1) / n);
  return out;
}

double t975(int dof) {
  static const double table[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                 2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                                 2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  if (dof < 1) return 0;
  if (dof <= 30) return table[dof - 1];
  if (dof <= 40) return 2.021;
  if (dof <= 60) return 2.000;
  if (dof <= 120) return 1.980;
  return 1.960;
}

// The analyze_* fields of one point: %.10g, or empty where there is no figure.
std::string analysis_fields(const std::vector<PointAnalysis>& analysis, std::size_t point) {
  const PointAnalysis a = point < analysis.size() ? analysis[point] : PointAnalysis{};
  std::string out;
  for (double v : {a.concurrency, a.prefill_s, a.decode_s, a.context_switch_s}) {
    out += std::isfinite(v) ? fmt::format(",{:.10g}", v) : ",";
  }
  return out;
}

std::string sweep_csv(const std::vector<SweepParam>& params, const std::vector<SweepPoint>& points, int replicates,
                      const std::vector<RunRecord>& records, const std::vector<PointAnalysis>& analysis) {
  std::string out = params_header(params) + ",runs_ok,runs_failed";
  out += ",analyze_concurrency,analyze_prefill_s,analyze_decode_s,analyze_context_switch_s";
  for (const auto& c : compare_columns()) out += "," + c.name + "," + c.name + "_ci95";
  out += "\n";
  std::vector<std::vector<const RunRecord*>> ok(points.size());
  std::vector<int> failed(points.size(), 0);
  for (const auto& r : records) {
    if (r.point >= points.size() || r.replicate >= replicates) continue;
    if (r.ok) ok[r.point].push_back(&r);
    failed[r.point] += r.ok ? 0 : 1;
  }
  for (const auto& p : points) {
    out += point_fields(p) + fmt::format(",{},{}", ok[p.index].size(), failed[p.index]);
    out += analysis_fields(analysis, p.index);
    for (std::size_t c = 0; c < compare_columns().size(); ++c) {
      const auto [mean, half] = mean_ci_fields(ok[p.index], c);
      out += "," + mean + "," + half;
    }
    out += "\n";
  }
  return out;
}

std::string runs_csv(const std::vector<SweepParam>& params, const std::vector<SweepPoint>& points,
                     const std::vector<RunRecord>& records) {
  std::string out = params_header(params) + ",replicate,seed,status,exit_code";
  for (const auto& c : compare_columns()) out += "," + c.name;
  out += ",error\n";
  for (const auto& r : records) {
    if (r.point >= points.size()) continue;
    out += point_fields(points[r.point]) +
           fmt::format(",{},{},{},{}", r.replicate, r.seed, r.ok ? "ok" : "failed", r.exit_code);
    for (std::size_t c = 0; c < compare_columns().size(); ++c) {
      out += r.ok && !std::isnan(r.metrics[c]) ? fmt::format(",{:.10g}", r.metrics[c]) : ",";
    }
    out.append(",").append(csv_field(r.error)).append("\n");
  }
  return out;
}

}  // namespace kvsim::cli
