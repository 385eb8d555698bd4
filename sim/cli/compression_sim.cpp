// Table 2's simulated column: one saturated closed-loop `kvsim run` per method and context, per baseline and for
// the uncompressed 4K reference, run as child processes (SimGrid allows one engine per process).
#include "sim/cli/compression_sim.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "engine/peak_analysis.hpp"
#include "sim/cli/compare_runner.hpp"
#include "sim/cli/progress.hpp"
#include "sim/context_check.hpp"

namespace kvsim::cli {
namespace fs = std::filesystem;
namespace {

constexpr int kMinUsers = 8;
constexpr int kMaxUsers = 512;
constexpr double kUsersPerPrefill = 4;     // users per (session time / prefill time): enough to keep the GPU busy
constexpr double kPrefillsPerRun = 20;     // the run lasts this many times users x prefill
constexpr double kWarmupFraction = 1.0 / 6;
constexpr double kIdleTarget = 0.02;  // a run idler than this for want of work gets more users
constexpr int kMaxPasses = 4;         // the first run and up to three doublings

// One child: the model to run (a method's or a baseline's) at a document length.
struct SimJob {
  std::string name;  // its run directory under runs/
  ModelSpec model;
  double tokens = 0;
};

// Every knob and the KV-shape keys, so the child runs exactly `m` whatever the scenario's own model section says.
std::vector<std::string> model_sets(const ModelSpec& m) {
  std::vector<std::string> sets;
  for (const KnobField& f : knob_fields()) {
    sets.push_back(fmt::format("model.kv_compression.{}={}", f.key, knob_value(m.compression, f)));
  }
  sets.push_back(fmt::format("model.num_kv_heads={}", m.num_kv_heads));
  sets.push_back(fmt::format("model.kv_lora_rank={}", m.kv_lora_rank));
  sets.push_back(fmt::format("model.qk_rope_head_dim={}", m.qk_rope_head_dim));
  return sets;
}

DistSpec constant(double value) {
  DistSpec d;
  d.value = value;
  return d;
}

// Table 2 runs the paper's contexts even past the model's own (1M on Yi-34B-200K). Such a run is a what-if: it
// raises model.max_context to its longest session rather than being refused. Returns that context, or 0.
std::int64_t what_if_context(const CompressionSimRequest& req, const SimJob& j) {
  WorkloadSpec w = req.scenario->workload;
  w.document_tokens = constant(j.tokens);
  w.answer_tokens = constant(req.answer_tokens);
  const std::int64_t longest = longest_session_tokens(w);
  return j.model.max_context > 0 && double(longest) > j.model.max_context ? longest : 0;
}

std::vector<std::string> job_sets(const CompressionSimRequest& req, const SimJob& j, const SaturatingLoad& load) {
  std::vector<std::string> sets = model_sets(j.model);
  if (const std::int64_t context = what_if_context(req, j))
    sets.push_back(fmt::format("model.max_context={}", context));
  sets.push_back(fmt::format("workload.document_tokens={:.0f}", j.tokens));
  sets.push_back(fmt::format("workload.answer_tokens={:.0f}", req.answer_tokens));
  sets.push_back("workload.arrival.type=closed");
  sets.push_back(fmt::format("workload.arrival.users={}", load.users));
  sets.push_back(fmt::format("workload.duration={}s", load.duration_s));
  sets.push_back(fmt::format("workload.warmup={}s", load.warmup_s));
  return sets;
}

double prefill_of(const CompressionSimRequest& req, const SimJob& j) {
  return analyze_peak(CostModel(j.model, req.scenario->deployment, req.scenario->scheduler.attention_flops), j.tokens,
                      req.answer_tokens)
      .prefill_s;
}

SaturatingLoad load_of(const CompressionSimRequest& req, const SimJob& j) {
  const WorkloadSpec& w = req.scenario->workload;
  const PeakReport peak =
      analyze_peak(CostModel(j.model, req.scenario->deployment, req.scenario->scheduler.attention_flops), j.tokens,
                   req.answer_tokens);
  return saturating_load(peak.prefill_s, peak.decode_s, w.rounds.expected(), w.think_time.expected(), w.duration);
}

SimulatedThroughput result_of(const ChildJob& job, const ChildOutcome& o, const SaturatingLoad& load) {
  SimulatedThroughput r;
  r.users = load.users;
  r.duration_s = load.duration_s;
  r.run_dir = job.log.parent_path().string();
  if (!o.started || o.exit_code != 0) {
    r.error = child_error_text(job.log, o);
    return r;
  }
  try {
    std::ifstream in(job.log.parent_path() / "summary.json");
    const auto j = nlohmann::json::parse(in);
    r.per_hour = j.at("session_completion_rate_per_hour").get<double>();
    r.idle = j.at("time_breakdown").at("idle").get<double>();
    r.ok = true;
  } catch (const std::exception& e) {
    r.error = std::string("the run ended but its summary.json cannot be read: ") + e.what();
  }
  return r;
}

std::string tokens_name(double t) {
  return t >= 1e6 ? fmt::format("{:g}M", t / 1e6) : fmt::format("{:g}K", t / 1e3);
}

}  // namespace

SaturatingLoad load_for_users(int users, double prefill_s, double scenario_duration_s) {
  SaturatingLoad l;
  l.users = users;
  l.duration_s = std::ceil(std::max(scenario_duration_s, kPrefillsPerRun * users * std::max(prefill_s, 1e-3)));
  l.warmup_s = std::ceil(l.duration_s * kWarmupFraction);
  return l;
}

SaturatingLoad saturating_load(double prefill_s, double decode_s, double rounds, double think_s,
                               double scenario_duration_s) {
  const double p = std::max(prefill_s, 1e-3);
  const double session_s = p + rounds * (think_s + decode_s);
  const double users = std::clamp(std::ceil(kUsersPerPrefill * session_s / p), double(kMinUsers), double(kMaxUsers));
  return load_for_users(int(users), prefill_s, scenario_duration_s);
}

namespace {

// One pass: runs jobs `which` at `loads`, each in runs/<name>-u<users>/, and reads their figures.
std::vector<SimulatedThroughput> run_pass(const CompressionSimRequest& req, const std::vector<SimJob>& jobs,
                                          const std::vector<std::size_t>& which,
                                          const std::vector<SaturatingLoad>& loads, const std::string& label) {
  std::vector<ChildJob> children;
  for (std::size_t i : which) {
    const fs::path dir = req.out / "runs" / fmt::format("{}-u{}", jobs[i].name, loads[i].users);
    fs::create_directories(dir);
    RunChild c{req.scenario_path, dir, job_sets(req, jobs[i], loads[i]), std::nullopt, req.platforms};
    children.push_back(ChildJob{run_child_args(c), dir / "run.log"});
  }
  Progress progress(std::cerr, label, children.size(), 0, isatty(STDERR_FILENO));
  const auto outcomes = run_children(self_executable(), children, req.jobs, [&](std::size_t, const ChildOutcome& o) {
    progress.done(!o.started || o.exit_code != 0);
  });
  progress.finish();
  std::vector<SimulatedThroughput> results;
  for (std::size_t k = 0; k < which.size(); ++k) {
    results.push_back(result_of(children[k], outcomes[k], loads[which[k]]));
    results.back().what_if = what_if_context(req, jobs[which[k]]) > 0;
  }
  return results;
}

// Runs every job; a run whose GPU sat idle for want of work runs again with twice the users, for as long as that
// raises its completion rate. The best run counts (in swap-bound runs more users can mean more switching and less).
std::vector<SimulatedThroughput> run_saturated(const CompressionSimRequest& req, const std::vector<SimJob>& jobs) {
  std::vector<SaturatingLoad> loads;
  for (const SimJob& j : jobs) loads.push_back(load_of(req, j));
  std::vector<SimulatedThroughput> best(jobs.size());
  std::vector<std::size_t> todo(jobs.size());
  for (std::size_t i = 0; i < todo.size(); ++i) todo[i] = i;
  for (int pass = 0; !todo.empty() && pass < kMaxPasses; ++pass) {
    const auto results = run_pass(req, jobs, todo, loads, pass == 0 ? "compression runs" : "reruns, more users");
    std::vector<std::size_t> next;
    for (std::size_t k = 0; k < todo.size(); ++k) {
      const std::size_t i = todo[k];
      const bool better = !best[i].ok || (results[k].ok && results[k].per_hour > best[i].per_hour);
      if (better) best[i] = results[k];
      if (!better || !results[k].ok || results[k].idle <= kIdleTarget || loads[i].users >= kMaxUsers) continue;
      const int users = std::min(2 * loads[i].users, kMaxUsers);
      loads[i] = load_for_users(users, prefill_of(req, jobs[i]), req.scenario->workload.duration);
      next.push_back(i);
    }
    todo = std::move(next);
  }
  return best;
}

}  // namespace

CompressionSimulation simulate_compression(const CompressionSimRequest& req) {
  std::vector<SimJob> jobs;
  std::map<std::string, std::size_t> by_name;  // baselines are shared by the methods that compare against them
  auto add = [&](const std::string& name, const ModelSpec& m, double tokens) {
    const auto [it, fresh] = by_name.emplace(name, jobs.size());
    if (fresh) jobs.push_back(SimJob{name, m, tokens});
    return it->second;
  };
  std::vector<std::pair<std::size_t, std::size_t>> row_jobs;  // (baseline, method) per row
  for (const CompressionMethod* method : req.methods) {
    for (double tokens : req.contexts) {
      const ModelSpec baseline = method_baseline(*method, req.base);
      const std::string ctx = tokens_name(tokens);
      const std::size_t b = add((method->mha_baseline ? "baseline-mha-" : "baseline-") + ctx, baseline, tokens);
      const std::size_t m = add(method->slug + "-" + ctx, method_model(*method, req.base), tokens);
      row_jobs.emplace_back(b, m);
    }
  }
  CompressionSimulation sim;
  const std::size_t ref = add("reference-" + tokens_name(sim.reference_tokens), req.base, sim.reference_tokens);
  const std::vector<SimulatedThroughput> results = run_saturated(req, jobs);
  for (const auto& [b, m] : row_jobs) sim.rows.push_back(SimulatedRow{results[b], results[m]});
  sim.reference = results[ref];
  return sim;
}

}  // namespace kvsim::cli
