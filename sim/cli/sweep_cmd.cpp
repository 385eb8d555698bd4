// `kvsim sweep`: the grid, its runs as child processes, the log that makes it resumable, and its tables.
#include "sim/cli/sweep_cmd.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <set>
#include <thread>

#include "engine/peak_analysis.hpp"
#include "sim/cli/compare_output.hpp"
#include "sim/cli/compare_runner.hpp"
#include "sim/cli/plot_cmd.hpp"
#include "sim/cli/progress.hpp"
#include "sim/cli/sweep_mpi.hpp"
#include "sim/cli/sweep_params.hpp"
#include "sim/cli/sweep_store.hpp"
#include "sim/diagnostics.hpp"
#include "sim/output.hpp"
#include "sim/run.hpp"
#include "sim/safe_output.hpp"
#include "sim/scenario.hpp"

namespace kvsim::cli {
namespace fs = std::filesystem;
namespace {

// The sweep as planned: its grid, its runs, and the points whose input is bad.
struct Plan {
  std::vector<SweepParam> params;
  std::vector<SweepPoint> points;
  std::uint64_t base_seed = 1;
  std::vector<std::string> point_error;  ///< per point; empty when the point's scenario is valid
  std::vector<PointAnalysis> analysis;   ///< per point: analyze's figures for its scenario
  fs::path out;
};

std::string key_of(const std::string& set) {
  return set.substr(0, set.find('='));
}

// analyze's figures for a scenario's synthetic sessions: the document and one question as context.
PointAnalysis analysis_of(const Scenario& s) {
  const WorkloadSpec& w = s.workload;
  if (w.trace.trace) return {};
  const PeakReport r =
      analyze_peak(CostModel(s.model, s.deployment, s.scheduler.attention_flops),
                   w.document_tokens.expected() + w.question_tokens.expected(), w.answer_tokens.expected());
  return PointAnalysis{r.concurrency, r.prefill_s, r.decode_s, r.context_switch_s};
}

// Loads the scenario at every point in-process: a point with bad input is recorded as failed without running;
// when every point is bad, the first point's problems are the sweep's (exit 2).
void check_points(const SweepOptions& opt, Plan& plan) {
  const Catalog cat = Catalog::load(opt.platforms.empty() ? Catalog::default_dir() : fs::path(opt.platforms));
  plan.point_error.assign(plan.points.size(), "");
  plan.analysis.assign(plan.points.size(), PointAnalysis{});
  std::optional<InputError> first;
  for (const auto& p : plan.points) {
    std::vector<std::string> sets = opt.sets;
    for (const auto& s : point_sets(plan.params, p)) sets.push_back(s);
    try {
      const Scenario s = load_scenario(opt.scenario, sets, cat);
      plan.analysis[p.index] = analysis_of(s);
      check_deployment(s);
      if (p.index == 0) plan.base_seed = opt.seed ? std::uint64_t(*opt.seed) : s.seed;
    } catch (const InputError& e) {
      if (!first) first = e;
      for (const auto& d : e.items())
        plan.point_error[p.index] += (plan.point_error[p.index].empty() ? "" : "\n") + d.str();
    }
  }
  if (first && std::all_of(plan.point_error.begin(), plan.point_error.end(), [](auto& e) { return !e.empty(); })) {
    throw *first;
  }
  if (opt.seed) plan.base_seed = std::uint64_t(*opt.seed);
}

Plan make_plan(const SweepOptions& opt) {
  Plan plan;
  plan.out = opt.out_dir.empty() ? fs::path("out") / (fs::path(opt.scenario).stem().string() + "-sweep")
                                 : fs::path(opt.out_dir);
  const std::string flag = opt.out_dir.empty() ? "output directory" : "--out";
  check_output_place(plan.out, flag, OutputPlace::kInside);  // before the grid is loaded or anything runs
  check_output_place(plan.out / "runs", flag, OutputPlace::kInside);
  plan.params = parse_sweep_params("--param", opt.params);
  for (const auto& s : opt.sets) {
    for (const auto& p : plan.params) {
      if (key_of(s) == p.key) throw InputError({Diagnostic{"", "--set", 0, 0, s, p.key + " is swept by --param"}});
    }
  }
  plan.points = sweep_points(plan.params);
  check_points(opt, plan);
  return plan;
}

nlohmann::ordered_json definition(const SweepOptions& opt, const Plan& plan) {
  nlohmann::ordered_json j;
  j["scenario"] = opt.scenario;
  j["overrides"] = opt.sets;
  nlohmann::ordered_json params = nlohmann::ordered_json::array();
  for (const auto& p : plan.params) params.push_back({{"key", p.key}, {"values", p.values}});
  j["params"] = params;
  j["replicates"] = opt.replicates;
  j["base_seed"] = plan.base_seed;
  return j;
}

// Writes sweep.json, or checks that the directory's sweep.json is this sweep's.
void claim_directory(const SweepOptions& opt, const Plan& plan) {
  const fs::path file = plan.out / "sweep.json";
  const nlohmann::ordered_json mine = definition(opt, plan);
  if (fs::exists(file)) {
    std::ifstream f(file);
    nlohmann::ordered_json theirs = nlohmann::ordered_json::parse(f, nullptr, false);
    if (theirs.is_discarded() || theirs != mine) {
      throw InputError({Diagnostic{file.string(), "", 0, 0, "",
                                   "this directory holds a different sweep (scenario, --set, --param, --replicates "
                                   "or seed differ); give another --out, or remove the directory to start over"}});
    }
    return;
  }
  fs::create_directories(plan.out);
  write_file_atomic(file, mine.dump(2) + "\n");
}

// Removes the staging entries a killed sweep left (its runs' in runs/, its tables' in the directory), on rank 0
// before any rank starts a run.
void remove_stale(const Plan& plan) {
  std::vector<fs::path> stale = remove_stale_staging(plan.out, "");
  for (auto& p : remove_stale_staging(plan.out / "runs", "")) stale.push_back(std::move(p));
  note_stale_staging(stale, std::cerr);
}

// One run still to do.
struct Todo {
  std::size_t point = 0;
  int replicate = 0;
  std::uint64_t seed = 0;
};

std::vector<std::string> child_args(const SweepOptions& opt, const Plan& plan, const Todo& t, const fs::path& dir) {
  RunChild c{opt.scenario, dir, opt.sets, long(t.seed), opt.platforms, opt.audit, opt.log_level};
  for (const auto& s : point_sets(plan.params, plan.points[t.point])) c.sets.push_back(s);
  return run_child_args(c);
}

// The runs not recorded yet (failed ones too with --retry-failed), in point and replicate order.
std::vector<Todo> pending(const SweepOptions& opt, const Plan& plan, const std::set<std::string>& done) {
  std::vector<Todo> out;
  for (const auto& p : plan.points) {
    for (int r = 0; r < opt.replicates; ++r) {
      if (!done.count(run_id(p.index, r))) out.push_back(Todo{p.index, r, plan.base_seed + std::uint64_t(r)});
    }
  }
  return out;
}

// The ids this sweep need not run again, read by rank 0 and shared with every rank.
std::set<std::string> done_ids(const SweepOptions& opt, const Plan& plan, const MpiWorld& w) {
  std::string text;
  if (w.rank == 0) {
    for (const auto& r : read_records(plan.out)) {
      if (r.ok || !opt.retry_failed) text += r.id + "\n";
    }
  }
  text = mpi_broadcast(w, text);
  std::set<std::string> out;
  for (std::size_t start = 0, end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    out.insert(text.substr(start, end - start));
  }
  return out;
}

}  // namespace
}  // namespace kvsim::cli

namespace kvsim::cli {
namespace {

// Runs this rank's share; appends each run's record to `log` as it ends; returns the lines appended.
std::string execute(const SweepOptions& opt, const Plan& plan, const std::vector<Todo>& share, const fs::path& log,
                    Progress& progress) {
  std::string lines;
  const auto commit = [&](const RunRecord& r) {
    const std::string line = record_line(plan.params, plan.points, r);
    append_line(log, line);
    lines += line;
    progress.done(!r.ok);
  };
  std::vector<ChildJob> jobs;
  std::vector<Todo> ran;
  for (const auto& t : share) {
    if (!plan.point_error[t.point].empty()) {
      RunRecord r{run_id(t.point, t.replicate), t.point, t.replicate, t.seed};
      r.exit_code = 2;
      r.error = plan.point_error[t.point];
      commit(r);
      continue;
    }
    const fs::path dir = plan.out / "runs" / run_id(t.point, t.replicate);
    fs::remove_all(dir);  // what a killed earlier attempt left
    fs::create_directories(dir);
    jobs.push_back(ChildJob{child_args(opt, plan, t, dir), dir / "run.log"});
    ran.push_back(t);
  }
  const int parallel = opt.jobs > 0 ? opt.jobs : int(std::max(1u, std::thread::hardware_concurrency()));
  run_children(self_executable(), jobs, parallel, [&](std::size_t i, const ChildOutcome& o) {
    commit(child_record(ran[i].point, ran[i].replicate, ran[i].seed, jobs[i].log, o));
  });
  return lines;
}

// Rank 0: every record (the files and what the ranks sent), rewritten in order into points.jsonl.
std::vector<RunRecord> merge_records(const Plan& plan, const std::vector<std::string>& gathered) {
  std::map<std::string, RunRecord> by_id;
  for (auto& r : read_records(plan.out)) by_id[r.id] = std::move(r);
  for (std::size_t k = 0; k < gathered.size(); ++k) {
    for (auto& r : parse_records(gathered[k], fmt::format("rank {}", k))) by_id[r.id] = std::move(r);
  }
  const std::vector<RunRecord> out = in_run_order(std::move(by_id));
  std::string text;
  for (const auto& r : out) text += record_line(plan.params, plan.points, r);
  write_file_atomic(plan.out / "points.jsonl", text);
  for (const auto& e : fs::directory_iterator(plan.out)) {
    if (e.path().filename().string().rfind("points.rank", 0) == 0) fs::remove(e.path());
  }
  return out;
}

void print_summary(std::ostream& out, const Plan& plan, int replicates, const std::vector<RunRecord>& records,
                   std::size_t ran_now) {
  std::size_t failed = 0;
  for (const auto& r : records) failed += r.ok ? 0 : 1;
  out << fmt::format("kvsim sweep: {} points x {} replicates = {} runs; {} ran now, {} recorded before; {} failed\n",
                     plan.points.size(), replicates, plan.points.size() * std::size_t(replicates), ran_now,
                     records.size() - ran_now, failed);
  for (const auto& r : records) {
    if (!r.ok) out << fmt::format("  {} failed: {}\n", r.id, r.error.substr(0, r.error.find('\n')));
  }
  out << fmt::format("  outputs in {}/ (sweep.csv, runs.csv, points.jsonl; each run in runs/<id>/)\n",
                     plan.out.string());
}

}  // namespace

void add_sweep_command(CLI::App& app, SweepOptions& opt) {
  auto* cmd = app.add_subcommand("sweep", "Run a scenario over a grid of parameters, resumably, on many cores or MPI");
  cmd->add_option("scenario", opt.scenario, "Scenario YAML")->required();
  cmd->add_option("--param", opt.params,
                  "Swept key: key.path=a:b:step, a:b:xF or x,y,z; values may carry units (repeatable; the grid is "
                  "their product)");
  cmd->add_option("--set", opt.sets, "Override a key in every run: key.path=value (repeatable)");
  cmd->add_option("--replicates", opt.replicates, "Seeds per point: seed, seed+1, ... (default 1)")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--jobs", opt.jobs, "Runs at once on this machine (default: the number of cores)")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--out", opt.out_dir, "Output directory (default: out/<scenario name>-sweep)");
  cmd->add_option("--seed", opt.seed, "Seed of replicate 0 (default: the scenario's)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--platforms", opt.platforms, "Catalog directory");
  cmd->add_flag("--audit,!--no-audit", opt.audit, "Check invariants after every event (default: on in debug builds)");
  cmd->add_flag("--retry-failed", opt.retry_failed, "Run again the runs recorded as failed");
  cmd->add_flag("--plot", opt.plot, "Draw the plots at the end (kvsim plot DIR)");
}

int run_sweep(const SweepOptions& opt) {
  MpiWorld w = mpi_start();
  struct Finish {
    MpiWorld& w;
    ~Finish() { mpi_finish(w); }
  } finish{w};
  const Plan plan = make_plan(opt);
  std::string claim_error;
  if (w.rank == 0) {
    try {
      claim_directory(opt, plan);
      remove_stale(plan);
    } catch (const InputError& e) {
      claim_error = e.what();
    }
  }
  claim_error = mpi_broadcast(w, claim_error);
  if (!claim_error.empty()) throw InputError(claim_error);
  fs::create_directories(plan.out / "runs");
  const std::vector<Todo> todo = pending(opt, plan, done_ids(opt, plan, w));
  std::vector<Todo> share;
  for (std::size_t i = 0; i < todo.size(); ++i) {
    if (int(i % std::size_t(w.size)) == w.rank) share.push_back(todo[i]);
  }
  const std::size_t total = plan.points.size() * std::size_t(opt.replicates);
  Progress progress(std::cerr, w.active ? fmt::format("sweep rank {}", w.rank) : "sweep",
                    w.active ? share.size() : total, w.active ? 0 : total - todo.size(), isatty(STDERR_FILENO));
  const fs::path log = plan.out / (w.active ? fmt::format("points.rank{}.jsonl", w.rank) : "points.jsonl");
  const std::string mine = execute(opt, plan, share, log, progress);
  progress.finish();
  const std::vector<std::string> gathered = mpi_gather(w, mine);
  int code = 0;
  if (w.rank == 0) {
    const std::vector<RunRecord> records = merge_records(plan, gathered);
    write_file_atomic(plan.out / "sweep.csv",
                      sweep_csv(plan.params, plan.points, opt.replicates, records, plan.analysis));
    write_file_atomic(plan.out / "runs.csv", runs_csv(plan.params, plan.points, records));
    print_summary(std::cout, plan, opt.replicates, records, todo.size());
    if (opt.plot) plot_directory(plan.out, std::cout);
    code = std::any_of(records.begin(), records.end(), [](const RunRecord& r) { return !r.ok; }) ? 1 : 0;
  }
  return mpi_max(w, code);
}

}  // namespace kvsim::cli
