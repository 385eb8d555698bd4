// `kvsim capacity`: bracketing and bisection on the arrival rate, one child run per probe, points in parallel.
#include "sim/cli/capacity_cmd.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <iostream>
#include <thread>

#include "engine/units.hpp"
#include "sim/cli/compare_runner.hpp"
#include "sim/cli/progress.hpp"
#include "sim/cli/slo.hpp"
#include "sim/cli/sweep_params.hpp"
#include "sim/diagnostics.hpp"
#include "sim/output.hpp"
#include "sim/run.hpp"
#include "sim/scenario.hpp"

namespace kvsim::cli {
namespace fs = std::filesystem;
namespace {

const std::string kRateKey = "workload.arrival.rate";
const std::string kTypeKey = "workload.arrival.type";

// One probe: a rate and what the run said.
struct Probe {
  double rate_per_h = 0;
  bool ran = false;
  bool meets = false;
  std::string why;  ///< the first SLO missed, or why the run failed
  nlohmann::json summary;
};

// The search of one point: the highest rate known to pass and the lowest known to fail.
struct Search {
  std::optional<double> pass, fail;
  double next = 0;
  bool done = false;
  bool broken = false;  ///< a probe could not run
  std::vector<Probe> probes;
  std::size_t best = SIZE_MAX;  ///< index of the passing probe at `pass`
};

std::string rate_text(double per_h) {
  return fmt::format("{:.6g}/h", per_h);
}

// Moves the search on after `p`; ends it when the bracket is tight, the probe budget is spent, or no rate passes.
void advance(Search& s, const CapacityOptions& opt, double from, const Probe& p) {
  s.probes.push_back(p);
  if (!p.ran) {
    s.done = s.broken = true;
    return;
  }
  if (p.meets) {
    s.pass = p.rate_per_h;
    s.best = s.probes.size() - 1;
  } else {
    s.fail = p.rate_per_h;
  }
  if (s.pass && s.fail) {
    s.next = (*s.pass + *s.fail) / 2;
    s.done = (*s.fail - *s.pass) <= opt.precision * *s.fail;
  } else {
    s.next = s.pass ? *s.pass * 2 : *s.fail / 2;
    s.done = !s.pass && *s.fail < from / 1024;
  }
  s.done = s.done || int(s.probes.size()) >= opt.max_runs;
}

std::vector<std::string> probe_args(const CapacityOptions& opt, const std::vector<std::string>& point_sets, double rate,
                                    const fs::path& dir) {
  RunChild c{opt.scenario, dir, opt.sets, opt.seed, opt.platforms, std::nullopt, opt.log_level};
  for (const auto& s : point_sets) c.sets.push_back(s);
  c.sets.push_back(kTypeKey + "=poisson");
  c.sets.push_back(kRateKey + "=" + rate_text(rate));
  return run_child_args(c);
}

Probe probe_of(double rate, const std::vector<Slo>& slos, const fs::path& dir, const ChildJob& job,
               const ChildOutcome& o) {
  Probe p{rate};
  if (!o.started || o.exit_code != 0) {
    p.why = child_error_text(job.log, o);
    return p;
  }
  std::ifstream f(dir / "summary.json");
  p.summary = nlohmann::json::parse(f, nullptr, false);
  if (p.summary.is_discarded()) {
    p.why = "the run ended but its summary.json cannot be read";
    return p;
  }
  p.ran = true;
  p.meets = meets(slos, p.summary, p.why);
  return p;
}

// Checks the input in-process at the first rate for every point, so bad input exits 2 before anything runs.
void check_input(const CapacityOptions& opt, const std::vector<SweepParam>& params,
                 const std::vector<SweepPoint>& points) {
  for (const auto& p : params) {
    if (p.key == kRateKey || p.key == kTypeKey) {
      throw InputError({Diagnostic{"", "--param", 0, 0, p.key, "capacity searches the arrival rate itself"}});
    }
  }
  const Catalog cat = Catalog::load(opt.platforms.empty() ? Catalog::default_dir() : fs::path(opt.platforms));
  for (const auto& pt : points) {
    std::vector<std::string> sets = opt.sets;
    for (const auto& s : point_sets(params, pt)) sets.push_back(s);
    sets.push_back(kTypeKey + "=poisson");
    sets.push_back(kRateKey + "=" + opt.from);
    check_deployment(load_scenario(opt.scenario, sets, cat));
  }
}

}  // namespace
}  // namespace kvsim::cli

namespace kvsim::cli {
namespace {

struct Grid {
  std::vector<SweepParam> params;
  std::vector<SweepPoint> points;
  std::vector<Slo> slos;
  double from_per_h = 0;
  fs::path out;
};

std::string point_name(const Grid& g, std::size_t i) {
  std::string out;
  for (const auto& s : point_sets(g.params, g.points[i])) out += (out.empty() ? "" : " ") + s;
  return out.empty() ? "scenario" : out;
}

std::vector<Search> search_all(const CapacityOptions& opt, const Grid& g) {
  std::vector<Search> all(g.points.size());
  for (auto& s : all) s.next = g.from_per_h;
  const int parallel = opt.jobs > 0 ? opt.jobs : int(std::max(1u, std::thread::hardware_concurrency()));
  for (;;) {
    std::vector<std::size_t> active;
    std::vector<ChildJob> jobs;
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (all[i].done) continue;
      const fs::path dir = g.out / "probes" / fmt::format("p{:04}-{:02}", i, all[i].probes.size());
      fs::remove_all(dir);
      fs::create_directories(dir);
      active.push_back(i);
      jobs.push_back(ChildJob{probe_args(opt, point_sets(g.params, g.points[i]), all[i].next, dir), dir / "run.log"});
    }
    if (active.empty()) return all;
    run_children(self_executable(), jobs, parallel, [&](std::size_t k, const ChildOutcome& o) {
      const std::size_t i = active[k];
      const Probe p = probe_of(all[i].next, g.slos, jobs[k].log.parent_path(), jobs[k], o);
      std::cerr << fmt::format("capacity: {}: {} {}{}\n", point_name(g, i), rate_text(p.rate_per_h),
                               p.meets ? "meets the SLOs" : "misses", p.meets ? "" : " (" + p.why + ")");
      advance(all[i], opt, g.from_per_h, p);
    });
  }
}

double metric(const nlohmann::json& summary, const std::string& pointer) {
  return summary.at(nlohmann::json::json_pointer(pointer)).get<double>();
}

std::string status_of(const Search& s) {
  return s.broken ? "failed" : s.pass ? "found" : "none";
}

std::string capacity_csv(const Grid& g, const std::vector<Search>& all) {
  std::string out = "point";
  for (const auto& p : g.params) out += "," + p.key;
  out += ",status,max_rate_per_hour,fail_rate_per_hour,session_throughput_per_hour";
  for (const auto& s : g.slos) out += "," + s.column;
  out += ",probes\n";
  for (std::size_t i = 0; i < all.size(); ++i) {
    const Search& s = all[i];
    out += std::to_string(i);
    for (const auto& v : g.points[i].values) out += "," + v;
    out += "," + status_of(s) + (s.pass ? fmt::format(",{:.6g}", *s.pass) : ",") +
           (s.fail ? fmt::format(",{:.6g}", *s.fail) : ",");
    const nlohmann::json* best = s.pass ? &s.probes[s.best].summary : nullptr;
    out += best ? fmt::format(",{:.10g}", metric(*best, "/session_throughput_per_hour")) : ",";
    for (const auto& slo : g.slos) out += best ? fmt::format(",{:.10g}", metric(*best, slo.pointer)) : ",";
    out += fmt::format(",{}\n", s.probes.size());
  }
  return out;
}

std::string probes_csv(const Grid& g, const std::vector<Search>& all) {
  std::string out = "point,probe,rate_per_hour,meets,session_throughput_per_hour";
  for (const auto& s : g.slos) out += "," + s.column;
  out += ",why\n";
  for (std::size_t i = 0; i < all.size(); ++i) {
    for (std::size_t k = 0; k < all[i].probes.size(); ++k) {
      const Probe& p = all[i].probes[k];
      out += fmt::format("{},{},{:.6g},{}", i, k, p.rate_per_h, p.meets ? 1 : 0);
      out += p.ran ? fmt::format(",{:.10g}", metric(p.summary, "/session_throughput_per_hour")) : ",";
      for (const auto& slo : g.slos) out += p.ran ? fmt::format(",{:.10g}", metric(p.summary, slo.pointer)) : ",";
      std::string why = p.why;
      std::replace(why.begin(), why.end(), '\n', ' ');
      std::replace(why.begin(), why.end(), ',', ';');
      out += "," + why + "\n";
    }
  }
  return out;
}

void print_capacity(std::ostream& out, const Grid& g, const std::vector<Search>& all) {
  std::string slos;
  for (const auto& s : g.slos) slos += (slos.empty() ? "" : ", ") + s.name + (s.at_most ? " <= " : " >= ") + s.text;
  out << fmt::format("kvsim capacity: the highest Poisson session rate that meets {}\n", slos);
  for (std::size_t i = 0; i < all.size(); ++i) {
    const Search& s = all[i];
    const std::string fail = s.fail ? fmt::format("; {} misses", rate_text(*s.fail)) : "; no failing rate found";
    if (s.broken) {
      out << fmt::format("  {}: a probe failed: {}\n", point_name(g, i), s.probes.back().why);
    } else if (s.pass) {
      out << fmt::format("  {}: {:.4g} sessions/h ({:.4g} completed/h){} ({} runs)\n", point_name(g, i), *s.pass,
                         metric(s.probes[s.best].summary, "/session_throughput_per_hour"), fail, s.probes.size());
    } else {
      out << fmt::format("  {}: no rate down to {} meets them ({})\n", point_name(g, i), rate_text(*s.fail),
                         s.probes.back().why);
    }
  }
  out << fmt::format("  outputs in {}/ (capacity.csv, probes.csv; each probe's run in probes/)\n", g.out.string());
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
  cmd->add_option("--precision", opt.precision, "Stop when (failing - passing) / failing <= this (default 0.05)")
      ->check(CLI::Range(0.001, 0.5));
  cmd->add_option("--max-runs", opt.max_runs, "Probes per point at most (default 16)")->check(CLI::Range(2, 100));
  cmd->add_option("--jobs", opt.jobs, "Runs at once (default: the number of cores)")->check(CLI::Range(1, 1024));
  cmd->add_option("--out", opt.out_dir, "Output directory (default: out/<scenario name>-capacity)");
  cmd->add_option("--seed", opt.seed, "Random seed of every probe (default: the scenario's)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--platforms", opt.platforms, "Catalog directory");
}

int run_capacity(const CapacityOptions& opt) {
  Grid g;
  g.slos = parse_slos(opt.slo);
  g.params = parse_sweep_params("--param", opt.params);
  g.points = sweep_points(g.params);
  const ParsedQuantity from = parse_quantity(opt.from, Dim::kRate);
  if (!from.value || *from.value <= 0) {
    throw InputError({Diagnostic{"", "--from", 0, 0, opt.from, from.value ? "expected a positive rate" : from.error}});
  }
  g.from_per_h = *from.value * 3600;
  check_input(opt, g.params, g.points);
  g.out = opt.out_dir.empty() ? fs::path("out") / (fs::path(opt.scenario).stem().string() + "-capacity")
                              : fs::path(opt.out_dir);
  fs::create_directories(g.out);
  const std::vector<Search> all = search_all(opt, g);
  write_file_atomic(g.out / "capacity.csv", capacity_csv(g, all));
  write_file_atomic(g.out / "probes.csv", probes_csv(g, all));
  print_capacity(std::cout, g, all);
  return std::any_of(all.begin(), all.end(), [](const Search& s) { return s.broken; }) ? 1 : 0;
}

}  // namespace kvsim::cli
