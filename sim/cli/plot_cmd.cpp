// `kvsim plot`: gnuplot scripts and data for sweep, compare and run directories.
#include "sim/cli/plot_cmd.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <tuple>

#include "engine/units.hpp"
#include "sim/cli/compare_runner.hpp"
#include "sim/cli/plot_data.hpp"
#include "sim/cli/replay_compare.hpp"
#include "sim/diagnostics.hpp"
#include "sim/output.hpp"

namespace kvsim::cli {
namespace fs = std::filesystem;
namespace {

const std::vector<std::string> kTimeParts = {"gpu_time_prefill", "gpu_time_decode", "gpu_time_stalled",
                                             "gpu_time_idle"};

fs::path find_gnuplot() {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  for (std::size_t start = 0;;) {
    const auto end = dirs.find(':', start);
    const fs::path p = fs::path(dirs.substr(start, end == std::string::npos ? end : end - start)) / "gnuplot";
    if (::access(p.c_str(), X_OK) == 0) return p;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  throw InputError(
      "gnuplot is not installed; install it (Debian: sudo apt-get install gnuplot-nox) and run "
      "`kvsim plot DIR` again");
}

// The timeline plot of one run: KV bytes in HBM and resident sessions over time.
std::string hbm_plot(const std::vector<std::pair<std::string, fs::path>>& runs) {
  std::string body = "plot ";
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const Table t = read_table(runs[i].second);
    body += fmt::format("{}{} every ::1 using {}:(${}/1e9) with steps lw 2 title {}", i ? ", " : "",
                        gp_quote(fs::absolute(runs[i].second).string()), t.gp("time_s"), t.gp("hbm_kv_bytes"),
                        gp_quote(runs[i].first));
  }
  return gp_both(
      "hbm_occupancy",
      "set title 'KV cache in HBM over time'\nset xlabel 'simulated time (s)'\nset ylabel 'KV in HBM (GB)'\n",
      body + "\n");
}

// The sweep.csv value of column `name` in row `r` as a number; NaN (which gnuplot skips) when it is empty or the
// file has no such column (a sweep.csv of an older kvsim).
double sweep_value(const Table& t, std::size_t r, const std::string& name) {
  if (!t.has(name)) return NAN;
  const std::string& v = t.rows[r][t.col(name)];
  return v.empty() ? NAN : std::stod(v);
}

// One data file per series of a sweep: x, throughput and its CI, TTFT p50/p90/p99, cumulative GPU time shares.
std::string sweep_series_file(const Table& t, const std::vector<std::size_t>& rows, std::size_t x_col, bool numeric,
                              const fs::path& file) {
  std::string text = "x,throughput,ci,ttft_p50,ttft_p90,ttft_p99,prefill,decode,stalled,idle\n";
  const auto cell = [](double v) { return std::isnan(v) ? std::string(",NaN") : fmt::format(",{:.10g}", v); };
  for (std::size_t r : rows) {
    if (t.rows[r][t.col("runs_ok")] == "0") continue;
    const double ci = sweep_value(t, r, "session_throughput_per_hour_ci95");  // empty with one replicate: no bar
    text += fmt::format("{:.10g}", numeric ? leading_number(t.rows[r][x_col]) : std::stod(t.rows[r][t.col("point")]));
    text += cell(sweep_value(t, r, "session_throughput_per_hour")) + cell(std::isnan(ci) ? 0 : ci);
    for (const char* p : {"ttft_p50_s", "ttft_p90_s", "ttft_p99_s"}) text += cell(sweep_value(t, r, p));
    double cum = 0;
    for (const auto& part : kTimeParts) text += cell(cum += sweep_value(t, r, part));
    text += "\n";
  }
  write_file_atomic(file, text);
  return fs::absolute(file).string();
}

// How a sweep is drawn: the x axis and the series, each with its legend and the part of its file names.
struct SweepLayout {
  std::size_t x_col = 0;
  bool numeric = false;
  std::string x_label;
  std::vector<std::string> labels;  ///< each series' legend (series_label())
  std::vector<std::string> slugs;   ///< each series' file-name part; one empty slug when no parameter makes series
  std::vector<std::vector<std::size_t>> rows;
};

// Whether parameter `key` takes more than one value in the sweep.
bool varies(const Table& t, const std::string& key) {
  const std::size_t c = t.col(key);
  return std::any_of(t.rows.begin(), t.rows.end(), [&](const auto& row) { return row[c] != t.rows.front()[c]; });
}

// The index in `keys` of the first parameter whose values are all numbers, or keys.size() when there is none.
std::size_t numeric_key(const Table& t, const std::vector<std::string>& keys) {
  for (std::size_t k = 0; k < keys.size(); ++k) {
    const std::size_t c = t.col(keys[k]);
    if (std::none_of(t.rows.begin(), t.rows.end(), [&](const auto& row) { return std::isnan(leading_number(row[c])); }))
      return k;
  }
  return keys.size();
}

// The x axis is the first numeric parameter; the other parameters that vary make the series.
SweepLayout sweep_layout(const Table& t, const std::vector<std::string>& keys) {
  SweepLayout l;
  const std::size_t x_key = numeric_key(t, keys);
  l.numeric = x_key < keys.size();
  l.x_col = l.numeric ? t.col(keys[x_key]) : t.col("point");
  l.x_label = "point";
  if (l.numeric) {
    const std::string& v = t.rows.front()[l.x_col];
    char* end = nullptr;
    std::strtod(v.c_str(), &end);
    l.x_label = keys[x_key] + (*end ? std::string(" (") + end + ")" : "");
  }
  std::vector<std::string> series_keys;
  for (std::size_t k = 0; k < keys.size(); ++k) {
    if (k != x_key && varies(t, keys[k])) series_keys.push_back(keys[k]);
  }
  std::vector<std::vector<std::string>> seen;
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    std::vector<std::string> values;
    for (const auto& key : series_keys) values.push_back(t.rows[r][t.col(key)]);
    const auto it = std::find(seen.begin(), seen.end(), values);
    if (it != seen.end()) {
      l.rows[std::size_t(it - seen.begin())].push_back(r);
      continue;
    }
    seen.push_back(values);
    l.labels.push_back(series_label(short_names(series_keys), values));
    l.rows.push_back({r});
  }
  l.slugs = series_keys.empty() ? std::vector<std::string>{""} : file_slugs(l.labels);
  return l;
}

// `base`, or `base-slug` for one series of several.
std::string named(const std::string& base, const std::string& slug) {
  return slug.empty() ? base : base + "-" + slug;
}

// One series' TTFT p50 (solid), p90 (dotted) and p99 (dashed) lines, in the series' colour.
std::string ttft_lines(const std::string& file, std::size_t series, const std::string& label, bool alone) {
  static const std::vector<std::tuple<int, int, std::string>> lines{{4, 1, "p50"}, {5, 3, "p90"}, {6, 2, "p99"}};
  std::string out;
  for (const auto& [col, dt, name] : lines) {
    out += fmt::format("{}{} every ::1 using 1:{} with linespoints lw 2 dt {} lc {} title {}", out.empty() ? "" : ", ",
                       file, col, dt, series + 1, gp_quote(alone ? name : label + " " + name));
  }
  return out;
}

// The sweep's line plots, one line (or three for TTFT) per series: throughput, TTFT and the prefill share.
std::string sweep_lines(const SweepLayout& l, const std::vector<std::string>& files) {
  std::string thr = "plot ", ttft = "plot ", share = "plot ";
  for (std::size_t s = 0; s < files.size(); ++s) {
    const std::string sep = s ? ", " : "", file = gp_quote(files[s]), title = gp_quote(l.labels[s]);
    thr += fmt::format("{}{} every ::1 using 1:2:3 with yerrorlines lw 2 title {}", sep, file, title);
    ttft += sep + ttft_lines(file, s, l.labels[s], l.slugs[s].empty());
    // Columns 7 and 8 are cumulative: prefill, prefill + decode.
    share +=
        fmt::format("{}{} every ::1 using 1:($8 > 0 ? $7 / $8 : 1/0) with linespoints lw 2 title {}", sep, file, title);
  }
  const std::string xl = "set xlabel " + gp_quote(l.x_label) + "\n";
  return gp_both("throughput", xl + "set title 'Session throughput'\nset ylabel 'sessions per hour'\n", thr + "\n") +
         gp_both("ttft", xl + "set title 'Time to first token'\nset ylabel 'TTFT (s)'\n", ttft + "\n") +
         gp_both("prefill_share",
                 xl + "set title 'Prefill share of busy GPU time (prefill / (prefill + decode))'\n"
                      "set ylabel 'prefill share'\nset yrange [0:1]\n",
                 share + "\n");
}

// One series' stacked shares of GPU time (columns 7 to 10 are cumulative), drawn to gpu_time[-<slug>].
std::string gpu_time_plot(const SweepLayout& l, std::size_t s, const std::string& file) {
  std::string area = "plot ";
  for (int c = 10, k = 3; c >= 7; --c, --k) {
    area += fmt::format("{}{} every ::1 using 1:{} with filledcurves x1 title {}", c < 10 ? ", " : "", gp_quote(file),
                        c, gp_quote(kTimeParts[std::size_t(k)].substr(9)));
  }
  return gp_both(named("gpu_time", l.slugs[s]),
                 "set xlabel " + gp_quote(l.x_label) + "\nset title " +
                     gp_quote("GPU time by activity, " + l.labels[s]) +
                     "\nset ylabel 'share of GPU time'\nset yrange [0:1]\nset style fill solid 0.8\n",
                 area + "\n");
}

// KV in HBM over time at the last point of the first series (replicate 0), labelled with the parameters that vary.
std::string last_point_hbm(const fs::path& dir, const Table& t, const std::vector<std::string>& keys,
                           const SweepLayout& l) {
  const std::size_t last = l.rows.front().back();
  const std::string point = t.rows[last][t.col("point")];
  const fs::path timeline = dir / "runs" / fmt::format("p{:04}-r0", std::stoul(point)) / "timeline.csv";
  if (!fs::exists(timeline)) return "";
  std::vector<std::string> varying, values;
  for (const auto& k : keys) {
    if (!varies(t, k)) continue;
    varying.push_back(k);
    values.push_back(t.rows[last][t.col(k)]);
  }
  const std::string label =
      "point " + point + (varying.empty() ? "" : ": " + pairs_label(short_names(varying), values));
  return hbm_plot({{label, timeline}});
}

// The parameter keys of the sweep in `dir`, from its sweep.json.
std::vector<std::string> sweep_keys(const fs::path& dir) {
  std::ifstream f(dir / "sweep.json");
  const nlohmann::json def = nlohmann::json::parse(f, nullptr, false);
  if (def.is_discarded() || !def.contains("params")) {
    throw InputError({Diagnostic{(dir / "sweep.json").string(), "params", 0, 0, "", "not a kvsim sweep.json"}});
  }
  std::vector<std::string> keys;
  for (const auto& p : def["params"]) keys.push_back(p.at("key").get<std::string>());
  return keys;
}

std::string sweep_script(const fs::path& dir, const fs::path& plots) {
  const std::vector<std::string> keys = sweep_keys(dir);
  const Table t = read_table(dir / "sweep.csv");
  if (t.rows.empty()) throw InputError({Diagnostic{t.file.string(), "", 0, 0, "", "the sweep has no points"}});
  const SweepLayout l = sweep_layout(t, keys);
  std::vector<std::string> files;
  for (std::size_t s = 0; s < l.labels.size(); ++s) {
    files.push_back(
        sweep_series_file(t, l.rows[s], l.x_col, l.numeric, plots / (named("series", l.slugs[s]) + ".csv")));
  }
  std::string script;
  for (std::size_t s = 0; s < files.size(); ++s) script += gpu_time_plot(l, s, files[s]);
  return script + sweep_lines(l, files) + last_point_hbm(dir, t, keys, l);
}

// TTFT p50, p90 and p99 bars per policy (the percentiles compare.csv has: p90 is missing from older files).
std::string ttft_bars(const Table& t, const std::string& file) {
  std::string bars;
  for (const char* p : {"p50", "p90", "p99"}) {
    const std::string col = fmt::format("ttft_{}_s", p);
    if (!t.has(col)) continue;
    const bool first = bars.empty();
    bars += fmt::format("{}{} every ::1 using {}{} title '{}'", first ? "" : ", ", file, t.gp(col),
                        first ? ":xtic(1)" : "", p);
  }
  return "plot " + bars + "\n";
}

// The TTFT of each counted round of the run in `dir` against its arrival, with the run's p50, p90 and p99.
std::string run_ttft_plot(const fs::path& dir) {
  std::ifstream f(dir / "summary.json");
  const nlohmann::json summary = nlohmann::json::parse(f, nullptr, false);
  if (summary.is_discarded() || !summary.contains("ttft") || !fs::exists(dir / "rounds.csv")) return "";
  const Table t = read_table(dir / "rounds.csv");
  std::string body =
      fmt::format("plot {} every ::1 using {}:(${} == 1 ? ${} : 1/0) with points pt 7 ps 0.5 title 'rounds'",
                  gp_quote(fs::absolute(t.file).string()), t.gp("arrival_s"), t.gp("counted"), t.gp("ttft_s"));
  for (const auto& [p, dt] : {std::pair{"p50", 1}, std::pair{"p90", 3}, std::pair{"p99", 2}}) {
    const nlohmann::json& v = summary["ttft"].value(std::string(p) + "_s", nlohmann::json());
    if (!v.is_number()) continue;
    body += fmt::format(", {:.10g} with lines lw 2 dt {} title {}", v.get<double>(), dt,
                        gp_quote(fmt::format("{} {}", p, format_seconds(v.get<double>()))));
  }
  return gp_both("ttft",
                 "set title 'Time to first token of each counted round'\nset xlabel 'arrival (simulated s)'\n"
                 "set ylabel 'TTFT (s)'\n",
                 body + "\n");
}

std::string compare_script(const fs::path& dir) {
  const Table t = read_table(dir / "compare.csv");
  const std::string file = gp_quote(fs::absolute(dir / "compare.csv").string());
  const std::string bars =
      "set style data histograms\nset style fill solid 0.8\nset boxwidth 0.8\nset xtics rotate by -30\n";
  std::string script = gp_both("throughput", bars + "set title 'Session throughput'\nset ylabel 'sessions per hour'\n",
                               fmt::format("plot {} every ::1 using {}:xtic(1) title 'sessions/h'\n", file,
                                           t.gp("session_throughput_per_hour")));
  script += gp_both("ttft", bars + "set title 'Time to first token'\nset ylabel 'TTFT (s)'\n", ttft_bars(t, file));
  std::string stack = "plot ";
  for (std::size_t k = 0; k < kTimeParts.size(); ++k) {
    stack += fmt::format("{}{} every ::1 using {}{} title {}", k ? ", " : "", file, t.gp(kTimeParts[k]),
                         k ? "" : ":xtic(1)", gp_quote(kTimeParts[k].substr(9)));
  }
  script += gp_both("gpu_time",
                    "set style data histograms\nset style histogram rowstacked\nset style fill solid 0.8\n"
                    "set yrange [0:1]\nset title 'GPU time by activity'\nset ylabel 'share of GPU time'\n",
                    stack + "\n");
  std::vector<std::pair<std::string, fs::path>> runs;
  for (const auto& row : t.rows) {
    const fs::path timeline = dir / row[t.col("policy")] / "timeline.csv";
    if (fs::exists(timeline)) runs.emplace_back(row[t.col("policy")], timeline);
  }
  if (!runs.empty()) script += hbm_plot(runs);
  return script;
}

// Runs gnuplot on `script` in `plots`; throws with its log's errors when it fails.
void run_gnuplot(const fs::path& plots, const std::string& script) {
  const fs::path gnuplot = find_gnuplot();
  write_file_atomic(plots / "plots.gp", script);
  const ChildJob job{{fs::absolute(plots / "plots.gp").string()}, plots / "gnuplot.log"};
  const auto outcome = run_children(gnuplot, {job}, 1, [](std::size_t, const ChildOutcome&) {});
  if (!outcome[0].started || outcome[0].exit_code != 0) {
    throw std::runtime_error("gnuplot failed; see " + (plots / "gnuplot.log").string());
  }
}

// Removes the per-series files an earlier drawing left in `plots` (gpu_time-*.png|svg, series*.csv): their names
// follow the sweep's values, so a redrawing with other series, or an older kvsim's `gpu_time-0`, would leave them.
void remove_series_files(const fs::path& plots) {
  std::vector<fs::path> stale;
  for (const auto& e : fs::directory_iterator(plots)) {
    const std::string name = e.path().filename().string(), ext = e.path().extension().string();
    const bool gpu_time = name.rfind("gpu_time-", 0) == 0 && (ext == ".png" || ext == ".svg");
    const bool series = (name.rfind("series-", 0) == 0 || name == "series.csv") && ext == ".csv";
    if (e.is_regular_file() && (gpu_time || series)) stale.push_back(e.path());
  }
  for (const auto& p : stale) fs::remove(p);
}

}  // namespace

void plot_directory(const fs::path& dir, std::ostream& out) {
  const fs::path plots = dir / "plots";
  const bool sweep = fs::exists(dir / "sweep.csv"), compare = fs::exists(dir / "compare.csv");
  if (!sweep && !compare && !fs::exists(dir / "timeline.csv")) {
    throw InputError({Diagnostic{dir.string(), "", 0, 0, "",
                                 "not a kvsim output directory: expected sweep.csv (kvsim sweep), compare.csv "
                                 "(kvsim compare) or timeline.csv (kvsim run)"}});
  }
  find_gnuplot();
  fs::create_directories(plots);
  remove_series_files(plots);
  std::string script;
  if (sweep) {
    script = sweep_script(dir, plots);
  } else if (compare) {
    script = compare_script(dir);
  } else {
    script = hbm_plot({{dir.filename().string(), dir / "timeline.csv"}}) + run_ttft_plot(dir) +
             replay_plot_script(dir);  // "" unless `dir` is a kvsim replay
  }
  script = "cd " + gp_quote(fs::absolute(plots).string()) + "\n" + script;
  run_gnuplot(plots, script);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(plots)) {
    if (e.path().extension() == ".png") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  out << "  plots in " << plots.string() << "/: " << join(names) << " (.png and .svg; plots.gp redraws them)\n";
}

void add_plot_command(CLI::App& app, PlotOptions& opt) {
  auto* cmd = app.add_subcommand("plot", "Draw a sweep, compare or run directory with gnuplot (PNG and SVG)");
  cmd->add_option("dir", opt.dir, "Output directory of kvsim sweep, compare or run")->required();
}

int run_plot(const PlotOptions& opt) {
  if (!fs::is_directory(opt.dir)) {
    throw InputError(
        {Diagnostic{opt.dir, "", 0, 0, "", "no such directory; give the --out of a sweep, compare or run"}});
  }
  plot_directory(opt.dir, std::cout);
  return 0;
}

}  // namespace kvsim::cli
