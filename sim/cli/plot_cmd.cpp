// `kvsim plot`: gnuplot scripts and data for sweep, compare and run directories.
#include "sim/cli/plot_cmd.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "sim/cli/compare_runner.hpp"
#include "sim/cli/plot_data.hpp"
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

// One data file per series of a sweep: x, throughput and its CI, TTFT p50/p99, cumulative GPU time shares.
std::string sweep_series_file(const Table& t, const std::vector<std::size_t>& rows, std::size_t x_col, bool numeric,
                              const fs::path& file) {
  std::string text = "x,throughput,ci,ttft_p50,ttft_p99,prefill,decode,stalled,idle\n";
  const auto num = [&](std::size_t r, const std::string& c) {
    const std::string& v = t.rows[r][t.col(c)];
    return v.empty() ? 0.0 : std::stod(v);
  };
  for (std::size_t r : rows) {
    if (t.rows[r][t.col("runs_ok")] == "0") continue;
    const double x = numeric ? leading_number(t.rows[r][x_col]) : std::stod(t.rows[r][t.col("point")]);
    double cum = 0;
    text += fmt::format("{:.10g},{:.10g},{:.10g},{:.10g},{:.10g}", x, num(r, "session_throughput_per_hour"),
                        num(r, "session_throughput_per_hour_ci95"), num(r, "ttft_p50_s"), num(r, "ttft_p99_s"));
    for (const auto& part : kTimeParts) text += fmt::format(",{:.10g}", cum += num(r, part));
    text += "\n";
  }
  write_file_atomic(file, text);
  return fs::absolute(file).string();
}

struct SweepLayout {
  std::size_t x_col = 0;
  bool numeric = false;
  std::string x_label;
  std::vector<std::string> series_names;
  std::vector<std::vector<std::size_t>> series_rows;
};

// The x axis is the first parameter whose values are all numbers; the other parameters make the series.
SweepLayout sweep_layout(const Table& t, const std::vector<std::string>& keys) {
  SweepLayout l;
  std::size_t x_key = keys.size();
  for (std::size_t k = 0; k < keys.size() && x_key == keys.size(); ++k) {
    bool all = !t.rows.empty();
    for (const auto& row : t.rows) all = all && !std::isnan(leading_number(row[t.col(keys[k])]));
    if (all) x_key = k;
  }
  l.numeric = x_key < keys.size();
  l.x_col = l.numeric ? t.col(keys[x_key]) : t.col("point");
  if (l.numeric) {
    const std::string& v = t.rows.front()[l.x_col];
    char* end = nullptr;
    std::strtod(v.c_str(), &end);
    l.x_label = keys[x_key] + (*end ? std::string(" (") + end + ")" : "");
  } else {
    l.x_label = "point";
  }
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    std::string name;
    for (std::size_t k = 0; k < keys.size(); ++k) {
      if (k != x_key) name += (name.empty() ? "" : " ") + keys[k] + "=" + t.rows[r][t.col(keys[k])];
    }
    const auto it = std::find(l.series_names.begin(), l.series_names.end(), name);
    if (it == l.series_names.end()) {
      l.series_names.push_back(name);
      l.series_rows.push_back({r});
    } else {
      l.series_rows[std::size_t(it - l.series_names.begin())].push_back(r);
    }
  }
  return l;
}

std::string series_title(const std::string& name) {
  return gp_quote(name.empty() ? "all" : name);
}

std::string sweep_script(const fs::path& dir, const fs::path& plots) {
  std::ifstream f(dir / "sweep.json");
  const nlohmann::json def = nlohmann::json::parse(f, nullptr, false);
  if (def.is_discarded() || !def.contains("params")) {
    throw InputError({Diagnostic{(dir / "sweep.json").string(), "params", 0, 0, "", "not a kvsim sweep.json"}});
  }
  std::vector<std::string> keys;
  for (const auto& p : def["params"]) keys.push_back(p.at("key").get<std::string>());
  const Table t = read_table(dir / "sweep.csv");
  const SweepLayout l = sweep_layout(t, keys);
  std::vector<std::string> files;
  for (std::size_t s = 0; s < l.series_names.size(); ++s) {
    files.push_back(
        sweep_series_file(t, l.series_rows[s], l.x_col, l.numeric, plots / fmt::format("series-{}.csv", s)));
  }
  const std::string xl = "set xlabel " + gp_quote(l.x_label) + "\n";
  std::string thr = "plot ", ttft = "plot ", share = "plot ", script;
  for (std::size_t s = 0; s < files.size(); ++s) {
    const std::string sep = s ? ", " : "", file = gp_quote(files[s]);
    thr += fmt::format("{}{} every ::1 using 1:2:3 with yerrorlines lw 2 title {}", sep, file,
                       series_title(l.series_names[s]));
    ttft += fmt::format(
        "{}{} every ::1 using 1:4 with linespoints lw 2 lc {} title {}, {} every ::1 using 1:5 with "
        "linespoints lw 2 dt 2 lc {} title {}",
        sep, file, s + 1, gp_quote(l.series_names[s] + " p50"), file, s + 1, gp_quote(l.series_names[s] + " p99"));
    // Columns 6 and 7 are cumulative: prefill, prefill + decode.
    share += fmt::format("{}{} every ::1 using 1:($7 > 0 ? $6 / $7 : 1/0) with linespoints lw 2 title {}", sep, file,
                         series_title(l.series_names[s]));
    std::string area = "plot ";
    for (int c = 9, k = 3; c >= 6; --c, --k) {
      area += fmt::format("{}{} every ::1 using 1:{} with filledcurves x1 title {}", c < 9 ? ", " : "", file, c,
                          gp_quote(kTimeParts[std::size_t(k)].substr(9)));
    }
    script += gp_both(
        fmt::format("gpu_time-{}", s),
        xl + "set title " +
            gp_quote("GPU time by activity, " + (l.series_names[s].empty() ? std::string("all") : l.series_names[s])) +
            "\nset ylabel 'share of GPU time'\nset yrange [0:1]\nset style fill solid 0.8\n",
        area + "\n");
  }
  script += gp_both("throughput", xl + "set title 'Session throughput'\nset ylabel 'sessions per hour'\n", thr + "\n");
  script += gp_both("ttft", xl + "set title 'Time to first token'\nset ylabel 'TTFT (s)'\n", ttft + "\n");
  script += gp_both("prefill_share",
                    xl + "set title 'Prefill share of busy GPU time (prefill / (prefill + decode))'\n"
                         "set ylabel 'prefill share'\nset yrange [0:1]\n",
                    share + "\n");
  const std::size_t last = l.series_rows.front().back();
  const fs::path timeline =
      dir / "runs" / fmt::format("p{:04}-r0", std::stoul(t.rows[last][t.col("point")])) / "timeline.csv";
  std::string label = "point " + t.rows[last][t.col("point")] + ":";
  for (const auto& k : keys) label += " " + k + "=" + t.rows[last][t.col(k)];
  if (fs::exists(timeline)) script += hbm_plot({{label, timeline}});
  return script;
}

std::string compare_script(const fs::path& dir) {
  const Table t = read_table(dir / "compare.csv");
  const std::string file = gp_quote(fs::absolute(dir / "compare.csv").string());
  const std::string bars =
      "set style data histograms\nset style fill solid 0.8\nset boxwidth 0.8\nset xtics rotate by -30\n";
  std::string script = gp_both("throughput", bars + "set title 'Session throughput'\nset ylabel 'sessions per hour'\n",
                               fmt::format("plot {} every ::1 using {}:xtic(1) title 'sessions/h'\n", file,
                                           t.gp("session_throughput_per_hour")));
  script +=
      gp_both("ttft", bars + "set title 'Time to first token'\nset ylabel 'TTFT (s)'\n",
              fmt::format("plot {0} every ::1 using {1}:xtic(1) title 'p50', {0} every ::1 using {2} title 'p99'\n",
                          file, t.gp("ttft_p50_s"), t.gp("ttft_p99_s")));
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
  std::string script;
  if (sweep) {
    script = sweep_script(dir, plots);
  } else if (compare) {
    script = compare_script(dir);
  } else {
    script = hbm_plot({{dir.filename().string(), dir / "timeline.csv"}});
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
