// `kvsim capacity`: bracketing and bisection on the arrival rate, `--replicates` child runs per probe, points in
// parallel; capacity_search.cpp judges each probe on its replicates' intervals and picks the next rate.
#include "sim/cli/capacity_cmd.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <iostream>
#include <thread>

#include "engine/units.hpp"
#include "sim/cli/capacity_search.hpp"
#include "sim/cli/compare_runner.hpp"
#include "sim/cli/csv.hpp"
#include "sim/cli/plot_data.hpp"
#include "sim/cli/progress.hpp"
#include "sim/cli/slo.hpp"
#include "sim/cli/sweep_params.hpp"
#include "sim/diagnostics.hpp"
#include "sim/output.hpp"
#include "sim/run.hpp"
#include "sim/safe_output.hpp"
#include "sim/scenario.hpp"

namespace kvsim::cli {
namespace fs = std::filesystem;
namespace {

const std::string kRateKey = "workload.arrival.rate";
const std::string kTypeKey = "workload.arrival.type";
const std::string kDurationKey = "workload.duration";

// One probe: a rate, its replicates' summaries and how they were judged.
struct Probe {
  double rate_per_h = 0;
  bool ran = false;
  Judgement j;
  std::string failure;  ///< why a replicate could not run
  std::vector<nlohmann::json> summaries;
  int stopped = 0;  ///< replicates stopped early (all or none: a probe with some is rerun without early stop)
};

// The search of one point of the other parameters.
struct Point {
  CapacitySearch search;
  std::vector<Probe> probes;
};

std::string rate_text(double per_h) {
  return fmt::format("{:.6g}/h", per_h);
}

struct Grid {
  std::vector<SweepParam> params;
  std::vector<SweepPoint> points;
  std::vector<Slo> slos;
  bool early_stop = false;  ///< children get --early-stop with the objectives
  double from_per_h = 0;
  double horizon_s = 0;
  std::uint64_t seed = 1;  ///< of replicate 0; replicate r runs replicate_seed(seed, r)
  fs::path out;
};

// Replicate r's seed: the base seed plus r strides of a large prime, so that the replicates of base seeds 1, 2, 3 ...
// never share a seed (with a stride of 1, base seeds 1 and 2 would share four of five replicates).
constexpr std::uint64_t kReplicateStride = 1000003;
long replicate_seed(std::uint64_t base, int replicate) {
  return long(base + kReplicateStride * std::uint64_t(replicate));
}

std::vector<std::string> probe_args(const CapacityOptions& opt, const Grid& g, std::size_t point, double rate,
                                    int replicate, const fs::path& dir, bool early_stop) {
  RunChild c{opt.scenario,  dir,          opt.sets,     replicate_seed(g.seed, replicate),
             opt.platforms, std::nullopt, opt.log_level};
  for (const auto& s : point_sets(g.params, g.points[point])) c.sets.push_back(s);
  c.sets.push_back(kTypeKey + "=poisson");
  c.sets.push_back(kRateKey + "=" + rate_text(rate));
  c.sets.push_back(fmt::format("{}={:.17g}s", kDurationKey, g.horizon_s));
  std::vector<std::string> args = run_child_args(c);
  if (early_stop) args.insert(args.end() - 2, "--early-stop=" + opt.slo);  // before `-- SCENARIO`
  return args;
}

// Why a replicate's run was stopped early (its summary's stopped_early.reason), or "".
std::string stop_reason(const nlohmann::json& summary) {
  const auto it = summary.find("stopped_early");
  return it == summary.end() ? "" : it->value("reason", std::string("?"));
}

// Reads the replicates' summaries; the probe has run when every replicate has.
Probe probe_of(double rate, const std::vector<Slo>& slos, const std::vector<ChildJob>& jobs,
               const std::vector<ChildOutcome>& outcomes) {
  Probe p{rate};
  for (std::size_t k = 0; k < jobs.size(); ++k) {
    const fs::path dir = jobs[k].log.parent_path();
    if (!outcomes[k].started || outcomes[k].exit_code != 0) {
      p.failure = child_error_text(jobs[k].log, outcomes[k]);
      return p;
    }
    std::ifstream f(dir / "summary.json");
    p.summaries.push_back(nlohmann::json::parse(f, nullptr, false));
    if (p.summaries.back().is_discarded()) {
      p.failure = "the run ended but " + (dir / "summary.json").string() + " cannot be read";
      return p;
    }
  }
  p.ran = true;
  std::string reason;
  for (const auto& sum : p.summaries) {
    if (!stop_reason(sum).empty() && p.stopped++ == 0) reason = stop_reason(sum);
  }
  // Every replicate certainly misses an objective: the means miss it, and the probe is a sure miss. (A probe with
  // only some stopped was rerun whole, so p.stopped is 0 or all.)
  p.j = p.stopped > 0 ? Judgement{Verdict::kMisses, false, "stopped early: " + reason} : judge(slos, p.summaries);
  return p;
}

// Whether a finished child's run was stopped early.
bool stopped_early(const ChildJob& job, const ChildOutcome& outcome) {
  if (!outcome.started || outcome.exit_code != 0) return false;
  std::ifstream f(job.log.parent_path() / "summary.json");
  const auto j = nlohmann::json::parse(f, nullptr, false);
  return !j.is_discarded() && !stop_reason(j).empty();
}

// A probe whose replicates did not all stop early cannot be judged from the stopped ones' partial figures: those
// are run again to the end, so that the probe's verdict is the one full runs give.
void rerun_partial_stops(const CapacityOptions& opt, const Grid& g, const std::vector<std::size_t>& points,
                         const std::vector<double>& rates, std::vector<ChildJob>& jobs,
                         std::vector<ChildOutcome>& outcomes, int parallel) {
  const auto reps = std::size_t(opt.replicates);
  std::vector<std::size_t> again;
  std::vector<ChildJob> rerun;
  for (std::size_t k = 0; k < points.size(); ++k) {
    std::vector<std::size_t> stopped;
    for (std::size_t r = 0; r < reps; ++r) {
      if (stopped_early(jobs[k * reps + r], outcomes[k * reps + r])) stopped.push_back(k * reps + r);
    }
    if (stopped.empty() || stopped.size() == reps) continue;
    for (const std::size_t i : stopped) {
      again.push_back(i);
      const int r = int(i - k * reps);
      rerun.push_back(
          ChildJob{probe_args(opt, g, points[k], rates[k], r, jobs[i].log.parent_path(), false), jobs[i].log});
    }
  }
  if (rerun.empty()) return;
  const auto done = run_children(self_executable(), rerun, parallel, [](std::size_t, const ChildOutcome&) {});
  for (std::size_t n = 0; n < again.size(); ++n) outcomes[again[n]] = done[n];
}

// Checks the input in-process for every point, so bad input exits 2 before anything runs; returns the seed.
std::uint64_t check_input(const CapacityOptions& opt, const Grid& g) {
  for (const auto& p : g.params) {
    if (p.key == kRateKey || p.key == kTypeKey || p.key == kDurationKey) {
      throw InputError({Diagnostic{"", "--param", 0, 0, p.key,
                                   "capacity searches the arrival rate itself, over --horizon of simulated time"}});
    }
  }
  const Catalog cat = Catalog::load(opt.platforms.empty() ? Catalog::default_dir() : fs::path(opt.platforms));
  std::uint64_t seed = 1;
  for (const auto& pt : g.points) {
    std::vector<std::string> sets = opt.sets;
    for (const auto& s : point_sets(g.params, pt)) sets.push_back(s);
    sets.push_back(kTypeKey + "=poisson");
    sets.push_back(kRateKey + "=" + opt.from);
    sets.push_back(kDurationKey + "=" + opt.horizon);
    const Scenario s = load_scenario(opt.scenario, sets, cat);
    check_deployment(s);
    seed = s.seed;
  }
  return opt.seed ? std::uint64_t(*opt.seed) : seed;
}

// A point as its values say it: `swap`, or `policy=swap, users=2` when several parameters vary.
std::string point_name(const Grid& g, std::size_t i) {
  std::vector<std::string> keys;
  for (const auto& p : g.params) keys.push_back(p.key);
  const std::string label = series_label(short_names(keys), g.points[i].values);
  return label == "all" ? "scenario" : label;
}

// Starts every replicate of the next probe of every open point, then judges each point's probe.
void probe_round(const CapacityOptions& opt, const Grid& g, std::vector<Point>& all, int parallel) {
  std::vector<std::size_t> active;
  std::vector<double> rates;
  std::vector<ChildJob> jobs;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i].search.done()) continue;
    const fs::path dir = g.out / "probes" / fmt::format("p{:04}-{:02}", i, all[i].probes.size());
    fs::remove_all(dir);
    active.push_back(i);
    rates.push_back(all[i].search.next());
    for (int r = 0; r < opt.replicates; ++r) {
      const fs::path run_dir = dir / fmt::format("r{}", r);
      fs::create_directories(run_dir);
      jobs.push_back(ChildJob{probe_args(opt, g, i, rates.back(), r, run_dir, g.early_stop), run_dir / "run.log"});
    }
  }
  auto outcomes = run_children(self_executable(), jobs, parallel, [](std::size_t, const ChildOutcome&) {});
  if (g.early_stop) rerun_partial_stops(opt, g, active, rates, jobs, outcomes, parallel);
  const auto reps = std::size_t(opt.replicates);
  for (std::size_t k = 0; k < active.size(); ++k) {
    Point& pt = all[active[k]];
    const std::vector<ChildJob> mine(jobs.begin() + long(k * reps), jobs.begin() + long((k + 1) * reps));
    const std::vector<ChildOutcome> done(outcomes.begin() + long(k * reps), outcomes.begin() + long((k + 1) * reps));
    Probe p = probe_of(pt.search.next(), g.slos, mine, done);
    const std::string why = p.ran ? p.j.why : p.failure;
    std::cerr << fmt::format("capacity: {}: {} {}{}\n", point_name(g, active[k]), rate_text(p.rate_per_h),
                             p.ran ? verdict_name(p.j.verdict) : "failed", why.empty() ? "" : " (" + why + ")");
    pt.search.record(p.ran, p.j);
    pt.probes.push_back(std::move(p));
  }
}

std::vector<Point> search_all(const CapacityOptions& opt, const Grid& g) {
  std::vector<Point> all(g.points.size(), Point{CapacitySearch(g.from_per_h, opt.precision, opt.max_runs), {}});
  const int parallel = opt.jobs > 0 ? opt.jobs : int(std::max(1u, std::thread::hardware_concurrency()));
  while (std::any_of(all.begin(), all.end(), [](const Point& p) { return !p.search.done(); })) {
    probe_round(opt, g, all, parallel);
  }
  return all;
}

}  // namespace
}  // namespace kvsim::cli

namespace kvsim::cli {
namespace {

// The figures reported for a probe: mean and 95% half-width over its replicates.
struct Column {
  std::string name;
  std::string pointer;
};

std::vector<Column> columns(const Grid& g) {
  std::vector<Column> out = {{"session_throughput_per_hour", "/session_throughput_per_hour"},
                             {"ttft_p50_s", "/ttft/p50_s"},
                             {"ttft_p90_s", "/ttft/p90_s"},
                             {"ttft_p99_s", "/ttft/p99_s"}};
  for (const auto& s : g.slos) {
    if (std::none_of(out.begin(), out.end(), [&](const Column& c) { return c.name == s.column; })) {
      out.push_back({s.column, s.pointer});
    }
  }
  return out;
}

MeanCi stat(const Probe& p, const Column& c) {
  std::vector<double> v;
  for (const auto& s : p.summaries) v.push_back(s.at(nlohmann::json::json_pointer(c.pointer)).get<double>());
  return mean_ci(v);
}

std::string stat_fields(const Grid& g, const Probe* p) {
  std::string out;
  for (const auto& c : columns(g)) {
    const MeanCi m = p && p->ran ? stat(*p, c) : MeanCi{};
    out += p && p->ran ? fmt::format(",{:.10g},{:.10g}", m.mean, m.half) : ",,";
  }
  return out;
}

std::string stat_header(const Grid& g) {
  std::string out;
  for (const auto& c : columns(g)) out += "," + c.name + "," + c.name + "_ci95";
  return out;
}

std::string status_of(const Point& p) {
  return p.search.broken() ? "failed" : p.search.estimate() ? "found" : "none";
}

std::string opt_rate(std::optional<double> r) {
  return r ? fmt::format(",{:.6g}", *r) : ",";
}

// The probe at the estimate, if any.
const Probe* best_probe(const Point& p) {
  const auto est = p.search.estimate();
  for (const auto& probe : p.probes) {
    if (est && probe.ran && probe.rate_per_h == *est) return &probe;
  }
  return nullptr;
}

std::string capacity_csv(const CapacityOptions& opt, const Grid& g, const std::vector<Point>& all) {
  std::string out = "point";
  for (const auto& p : g.params) out += "," + p.key;
  out += ",status,max_rate_per_hour,max_rate_ci_low_per_hour,max_rate_ci_high_per_hour,fail_rate_per_hour";
  out += ",replicates,horizon_s" + stat_header(g) + ",probes\n";
  for (std::size_t i = 0; i < all.size(); ++i) {
    const Point& pt = all[i];
    out += std::to_string(i);
    for (const auto& v : g.points[i].values) out += "," + v;
    const bool found = pt.search.estimate().has_value();
    out += "," + status_of(pt) + opt_rate(pt.search.estimate()) +
           (found ? opt_rate(pt.search.ci_low().value_or(0)) : ",") + opt_rate(pt.search.ci_high()) +
           opt_rate(pt.search.mean_fail());
    out += fmt::format(",{},{:.10g}", opt.replicates, g.horizon_s) + stat_fields(g, best_probe(pt));
    out += fmt::format(",{}\n", pt.probes.size());
  }
  return out;
}

std::string probes_csv(const Grid& g, const std::vector<Point>& all) {
  std::string out = "point,probe,rate_per_hour,verdict,mean_meets" + stat_header(g) + ",stopped_early,why\n";
  for (std::size_t i = 0; i < all.size(); ++i) {
    for (std::size_t k = 0; k < all[i].probes.size(); ++k) {
      const Probe& p = all[i].probes[k];
      out += fmt::format("{},{},{:.6g},{},{}", i, k, p.rate_per_h, p.ran ? verdict_name(p.j.verdict) : "failed",
                         p.ran && p.j.mean_meets ? 1 : 0);
      out += stat_fields(g, &p) + fmt::format(",{},", p.stopped) + csv_field(p.ran ? p.j.why : p.failure) + "\n";
    }
  }
  return out;
}

std::string found_line(const CapacityOptions& opt, const Grid& g, const Point& pt) {
  const Probe& best = *best_probe(pt);
  const MeanCi thr = stat(best, columns(g)[0]), p90 = stat(best, columns(g)[2]);
  const auto high = pt.search.ci_high();
  return fmt::format(
      "{:.4g} sessions/h (95% CI {:.4g} to {}); there {:.4g} ± {:.2g} completed/h, TTFT p90 {:.4g} ± {:.2g} s "
      "({} replicates x {}, {} probes)",
      *pt.search.estimate(), pt.search.ci_low().value_or(0), high ? fmt::format("{:.4g}/h", *high) : "unbounded",
      thr.mean, thr.half, p90.mean, p90.half, opt.replicates, format_seconds(g.horizon_s), pt.probes.size());
}

void print_capacity(std::ostream& out, const CapacityOptions& opt, const Grid& g, const std::vector<Point>& all) {
  std::string slos;
  for (const auto& s : g.slos) slos += (slos.empty() ? "" : ", ") + s.name + (s.at_most ? " <= " : " >= ") + s.text;
  out << fmt::format("kvsim capacity: the highest Poisson session rate that meets {}\n", slos);
  for (std::size_t i = 0; i < all.size(); ++i) {
    const Point& pt = all[i];
    if (pt.search.broken()) {
      out << fmt::format("  {}: a probe failed: {}\n", point_name(g, i), pt.probes.back().failure);
    } else if (pt.search.estimate()) {
      out << fmt::format("  {}: {}\n", point_name(g, i), found_line(opt, g, pt));
    } else {
      out << fmt::format("  {}: no rate down to {} meets them ({})\n", point_name(g, i),
                         rate_text(pt.probes.back().rate_per_h), pt.probes.back().j.why);
    }
  }
  out << fmt::format("  outputs in {}/ (capacity.csv, probes.csv; each probe's runs in probes/)\n", g.out.string());
}

}  // namespace

void add_capacity_command(CLI::App& app, CapacityOptions& opt) {
  auto* cmd = app.add_subcommand("capacity", "Find the highest session arrival rate that meets the SLOs");
  cmd->add_option("scenario", opt.scenario, "Scenario YAML")->required();
  cmd->add_option("--slo", opt.slo, "Objectives, e.g. ttft_p90=30s,decode_rate_p50=6tok/s; names: " + join(slo_names()))
      ->required();
  cmd->add_option("--param", opt.params, "Search at every point of these (as in kvsim sweep; repeatable)");
  cmd->add_option("--set", opt.sets, "Override a key in every run: key.path=value (repeatable)");
  cmd->add_option("--from", opt.from, "The first rate probed (default 10/h)");
  cmd->add_option("--precision", opt.precision,
                  "Stop each bracket (the estimate, the interval's ends) when (high - low) / high <= this "
                  "(default 0.05)")
      ->check(CLI::Range(0.001, 0.5));
  cmd->add_option("--max-runs", opt.max_runs, "Probes per point at most (default 30)")->check(CLI::Range(2, 100));
  cmd->add_option("--replicates", opt.replicates,
                  "Runs per probe, with seeds seed + r x 1000003 (r = 0, 1, ...); objectives are judged on their "
                  "95% interval (default 4)")
      ->check(CLI::Range(1, 100));
  cmd->add_option("--horizon", opt.horizon, "Simulated time of every run, as workload.duration (default 20h)");
  cmd->add_option("--jobs", opt.jobs, "Runs at once (default: the number of cores)")->check(CLI::Range(1, 1024));
  cmd->add_option("--out", opt.out_dir, "Output directory (default: out/<scenario name>-capacity)");
  cmd->add_option("--seed", opt.seed, "Seed of every probe's first replicate (default: the scenario's)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--platforms", opt.platforms, "Catalog directory");
  cmd->add_flag("--no-early-stop", opt.no_early_stop,
                "Run every probe to its end; by default a run stops once a TTFT objective is certainly missed or its "
                "queue grows without bound (docs/sweeps.md, \"Early stop\")");
}

int run_capacity(const CapacityOptions& opt) {
  Grid g;
  g.out = opt.out_dir.empty() ? fs::path("out") / (fs::path(opt.scenario).stem().string() + "-capacity")
                              : fs::path(opt.out_dir);
  const std::string flag = opt.out_dir.empty() ? "output directory" : "--out";
  check_output_place(g.out, flag, OutputPlace::kInside);  // before anything is loaded or run
  check_output_place(g.out / "probes", flag, OutputPlace::kInside);
  g.slos = parse_slos(opt.slo);
  g.early_stop = !opt.no_early_stop && early_stop_for(g.slos).enabled();
  g.params = parse_sweep_params("--param", opt.params);
  g.points = sweep_points(g.params);
  g.from_per_h = parse_flag_quantity("--from", opt.from, Dim::kRate, 0) * 3600;
  if (!(g.from_per_h > 0)) throw InputError({Diagnostic{"", "--from", 0, 0, opt.from, "expected a positive rate"}});
  g.horizon_s = parse_flag_quantity("--horizon", opt.horizon, Dim::kTime, 0);
  g.seed = check_input(opt, g);
  std::vector<fs::path> stale = remove_stale_staging(g.out, "");  // of a killed search: its probes' and files'
  for (auto& p : remove_stale_staging(g.out / "probes", "")) stale.push_back(std::move(p));
  note_stale_staging(stale, std::cerr);
  fs::create_directories(g.out);
  const std::vector<Point> all = search_all(opt, g);
  write_file_atomic(g.out / "capacity.csv", capacity_csv(opt, g, all));
  write_file_atomic(g.out / "probes.csv", probes_csv(g, all));
  print_capacity(std::cout, opt, g, all);
  return std::any_of(all.begin(), all.end(), [](const Point& p) { return p.search.broken(); }) ? 1 : 0;
}

}  // namespace kvsim::cli
