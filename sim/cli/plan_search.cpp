// `kvsim plan`'s runs: waves of candidates as child processes, recorded as sweep runs are, and judged on the SLOs.
#include "sim/cli/plan_search.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include "sim/cli/capacity_search.hpp"
#include "sim/cli/compare_output.hpp"
#include "sim/cli/compare_runner.hpp"
#include "sim/cli/plan_yaml.hpp"
#include "sim/cli/progress.hpp"
#include "sim/cli/sweep_store.hpp"
#include "sim/safe_output.hpp"

namespace kvsim::cli {
namespace fs = std::filesystem;
namespace {

// Replicate r's seed, as capacity's probes: the base seed plus r strides of a large prime.
constexpr std::uint64_t kReplicateStride = 1000003;

// The candidates as sweep points, so that points.jsonl and its reader are the sweep's.
struct Grid {
  std::vector<SweepParam> params{{"layout", {}}, {"pools", {}}, {"router", {}}, {"kv_offload_policy", {}}};
  std::vector<SweepPoint> points;
};

Grid grid_of(const std::vector<PlanOutcome>& all) {
  Grid g;
  for (const auto& o : all) {
    const Candidate& c = o.candidate;
    g.points.push_back(SweepPoint{c.index, {c.layout(), c.pools_text(), c.router, c.policy}});
  }
  return g;
}

fs::path run_dir(const PlanSetup& s, std::size_t index, int replicate) {
  return s.out / "runs" / run_id(index, replicate);
}

// Writes the candidate's scenario where its runs read it, and returns the replicates still to run with their jobs.
std::vector<std::pair<int, ChildJob>> candidate_jobs(const PlanOptions& opt, const PlanSetup& s, const Candidate& c,
                                                     const std::map<std::string, RunRecord>& done) {
  const fs::path file = s.out / "candidates" / fmt::format("p{:04}.yaml", c.index);
  const YAML::Node doc = candidate_yaml(s, c, fs::path(opt.scenario).parent_path(), file.parent_path());
  write_file_atomic(file, document_text(doc, "kvsim plan candidate " + std::to_string(c.index) + ": " + c.label()));
  std::vector<std::pair<int, ChildJob>> jobs;
  for (int r = 0; r < opt.replicates; ++r) {
    if (done.count(run_id(c.index, r))) continue;
    const fs::path dir = run_dir(s, c.index, r);
    fs::remove_all(dir);  // what a killed earlier attempt left
    fs::create_directories(dir);
    RunChild child{file.string(), dir,          {},           long(s.seed + kReplicateStride * std::uint64_t(r)),
                   opt.platforms, std::nullopt, opt.log_level};
    std::vector<std::string> args = run_child_args(child);
    // A candidate that has surely missed a TTFT objective stops there (before `-- SCENARIO`).
    if (!opt.no_early_stop && early_stop_for(s.slos).enabled()) args.insert(args.end() - 2, "--early-stop=" + opt.slo);
    jobs.emplace_back(r, ChildJob{std::move(args), dir / "run.log"});
  }
  return jobs;
}

// Judges a candidate whose replicates are all recorded: its means, and the SLOs on its summaries.
void evaluate(const PlanOptions& opt, const PlanSetup& s, PlanOutcome& o,
              const std::map<std::string, RunRecord>& done) {
  std::vector<nlohmann::json> summaries;
  std::vector<double> per_gpu, p90;
  for (int r = 0; r < opt.replicates; ++r) {
    const RunRecord& rec = done.at(run_id(o.candidate.index, r));
    const fs::path file = run_dir(s, o.candidate.index, r) / "summary.json";
    std::ifstream f(file);
    nlohmann::json j = rec.ok ? nlohmann::json::parse(f, nullptr, false) : nlohmann::json();
    if (!rec.ok || j.is_discarded() || !j.is_object()) {
      o.status = PlanStatus::kFailed;
      o.why = rec.ok ? file.string() + " cannot be read; run the plan in a new --out" : rec.error;
      return;
    }
    per_gpu.push_back(j.value("session_throughput_per_hour", 0.0) / o.candidate.gpus());
    p90.push_back(j.at("ttft").value("p90_s", 0.0));
    summaries.push_back(std::move(j));
  }
  o.status = PlanStatus::kRan;
  for (const auto& j : summaries) {
    const auto stop = j.find("stopped_early");
    if (stop == j.end()) continue;
    o.per_gpu = mean_ci(per_gpu).mean;  // of the run up to the stop: not a frontier point
    o.ttft_p90 = mean_ci(p90).mean;
    o.meets = false;
    o.why = "stopped early: " + stop->value("reason", std::string("?"));
    return;
  }
  const Judgement jd = judge(s.slos, summaries);
  o.per_gpu = mean_ci(per_gpu).mean;
  o.ttft_p90 = mean_ci(p90).mean;
  o.meets = jd.mean_meets;
  o.why = jd.why;
}

// Marks the candidates of `wave` that the frontier so far surely dominates; returns those still to run.
std::vector<std::size_t> prune_wave(const PlanOptions& opt, PlanSetup& s, const std::vector<std::size_t>& wave) {
  const std::vector<FrontierPoint> frontier = pareto_frontier(feasible_points(s.all));
  std::vector<std::size_t> keep;
  for (std::size_t i : wave) {
    PlanOutcome& o = s.all[i];
    const auto by = std::find_if(frontier.begin(), frontier.end(), [&](const FrontierPoint& f) {
      return surely_dominated(o.bounds.per_gpu_ub, o.bounds.ttft_lb_s, {f});
    });
    if (opt.no_prune || by == frontier.end()) {
      keep.push_back(i);
      continue;
    }
    o.prune = "frontier";
    o.why = fmt::format(
        "at most {:.4g} sessions/h per GPU with TTFT p90 at least {:.4g} s: dominated by p{:04} "
        "({:.4g} sessions/h per GPU, TTFT p90 {:.4g} s)",
        o.bounds.per_gpu_ub, o.bounds.ttft_lb_s, by->index, by->per_gpu, by->ttft_p90);
  }
  return keep;
}

// The candidates to simulate, most promising first: highest sessions-per-GPU bound, then index.
std::vector<std::size_t> run_order(const PlanSetup& s) {
  std::vector<std::size_t> order;
  for (const auto& o : s.all) {
    if (o.prune.empty()) order.push_back(o.candidate.index);
  }
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return s.all[a].bounds.per_gpu_ub > s.all[b].bounds.per_gpu_ub;
  });
  return order;
}

}  // namespace

YAML::Node candidate_yaml(const PlanSetup& s, const Candidate& c, const fs::path& from_dir, const fs::path& to_dir) {
  YAML::Node doc = candidate_document(s.base, s.sets, candidate_edits(c, s.base_gpu));
  if (!to_dir.empty()) rebase_paths(doc, from_dir.empty() ? fs::path(".") : from_dir, to_dir);
  return doc;
}

void plan_search(const PlanOptions& opt, PlanSetup& s) {
  const Grid g = grid_of(s.all);
  std::map<std::string, RunRecord> done;
  for (auto& r : read_records(s.out)) done[r.id] = std::move(r);
  const std::vector<std::size_t> order = run_order(s);
  std::size_t recorded = 0;
  for (std::size_t i : order) {
    for (int r = 0; r < opt.replicates; ++r) recorded += done.count(run_id(i, r));
  }
  Progress progress(std::cerr, "plan", order.size() * std::size_t(opt.replicates), recorded, isatty(STDERR_FILENO));
  const int parallel = opt.jobs > 0 ? opt.jobs : int(std::max(1u, std::thread::hardware_concurrency()));
  for (std::size_t start = 0; start < order.size(); start += kPlanWave) {
    const std::vector<std::size_t> wave(order.begin() + long(start),
                                        order.begin() + long(std::min(order.size(), start + kPlanWave)));
    const std::vector<std::size_t> keep = prune_wave(opt, s, wave);
    std::vector<ChildJob> jobs;
    std::vector<std::pair<std::size_t, int>> who;
    for (std::size_t i : keep) {
      for (auto& [r, j] : candidate_jobs(opt, s, s.all[i].candidate, done)) {
        who.emplace_back(i, r);
        jobs.push_back(std::move(j));
      }
    }
    run_children(self_executable(), jobs, parallel, [&](std::size_t k, const ChildOutcome& o) {
      const auto [i, r] = who[k];
      const RunRecord rec = child_record(i, r, s.seed + kReplicateStride * std::uint64_t(r), jobs[k].log, o);
      append_line(s.out / "points.jsonl", record_line(g.params, g.points, rec));
      progress.done(!rec.ok);
      done[rec.id] = rec;
    });
    for (std::size_t i : keep) evaluate(opt, s, s.all[i], done);
  }
  progress.finish();
  for (const auto& f : pareto_frontier(feasible_points(s.all))) s.all[f.index].on_frontier = true;
}

}  // namespace kvsim::cli
