// `kvsim plan`: the flags, the candidates and their analytic pruning, the directory claim, then the search
// (plan_search.cpp) and the outputs (plan_output.cpp).
#include "sim/cli/plan_cmd.hpp"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>

#include "engine/cluster/router.hpp"
#include "engine/offload_policy.hpp"
#include "sim/cli/plan_search.hpp"
#include "sim/cli/plan_yaml.hpp"
#include "sim/diagnostics.hpp"
#include "sim/run.hpp"
#include "sim/safe_output.hpp"
#include "sim/scenario.hpp"
#include "sim/yaml_load.hpp"

namespace kvsim::cli {
namespace fs = std::filesystem;
namespace {

// The keys plan chooses itself; a --set of one of them (or under it) would be overwritten, so it is refused.
const std::vector<std::string> kPlanKeys{
    "hardware.gpu", "hardware.count", "hardware.tensor_parallel", "router.type", "scheduler.kv_offload.policy",
    "cluster.pools"};

void check_sets(const std::vector<std::string>& sets) {
  for (const auto& s : sets) {
    const std::string key = s.substr(0, s.find('='));
    for (const auto& k : kPlanKeys) {
      if (key == k || key.rfind(k + ".", 0) == 0) {
        throw InputError({Diagnostic{"", "--set", 0, 0, s,
                                     k + " is what kvsim plan chooses; narrow the search with --tp, --layouts, "
                                         "--routers or --policies instead"}});
      }
    }
  }
}

std::vector<int> parse_tp(const std::string& text, const std::vector<GpuBudget>& budget) {
  int most = 0;
  for (const auto& b : budget) most = std::max(most, b.count);
  std::vector<int> out;
  if (text.empty()) {
    for (int tp = 1; tp <= most && tp <= 8; tp *= 2) out.push_back(tp);
    return out;
  }
  for (const auto& item : split_flag_list("--tp", text)) {
    int v = 0;
    const auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (ec != std::errc() || ptr != item.data() + item.size() || v < 1 || v > most) {
      throw InputError({Diagnostic{"", "--tp", 0, 0, item,
                                   fmt::format("expected whole GPUs per replica in [1, {}] (the largest count of "
                                               "--gpus)",
                                               most)}});
    }
    if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
  }
  return out;
}

// A list flag whose items must be names of a registry; `fallback` (filtered to registered names) when empty.
std::vector<std::string> registered(const std::string& flag, const std::string& text,
                                    const std::vector<std::string>& names, const std::vector<std::string>& fallback) {
  std::vector<std::string> out;
  if (text.empty()) {
    for (const auto& f : fallback) {
      if (std::find(names.begin(), names.end(), f) != names.end()) out.push_back(f);
    }
    return out.empty() ? std::vector<std::string>{names.front()} : out;
  }
  for (const auto& item : split_flag_list(flag, text)) {
    if (std::find(names.begin(), names.end(), item) == names.end()) {
      throw InputError({Diagnostic{"", flag, 0, 0, item, "expected one of " + join(names)}});
    }
    if (std::find(out.begin(), out.end(), item) == out.end()) out.push_back(item);
  }
  return out;
}

PlanSpace parse_space(const PlanOptions& opt, const Catalog& cat) {
  PlanSpace sp;
  sp.budget = parse_gpu_budget(opt.gpus, cat);
  sp.tensor_parallel = parse_tp(opt.tp, sp.budget);
  const bool cluster_keys = scenario_schema().is_section("cluster");
  const std::string layouts = opt.layouts.empty() ? (cluster_keys ? "mixed,pd" : "mixed") : opt.layouts;
  sp.mixed = sp.disaggregated = false;
  for (const auto& l : split_flag_list("--layouts", layouts)) {
    if (l != "mixed" && l != "pd") throw InputError({Diagnostic{"", "--layouts", 0, 0, l, "expected mixed or pd"}});
    (l == "mixed" ? sp.mixed : sp.disaggregated) = true;
  }
  if (sp.disaggregated && !cluster_keys) {
    throw InputError({Diagnostic{"", "--layouts", 0, 0, layouts,
                                 "pd needs the scenario key cluster.pools, which this kvsim does not have"}});
  }
  if (opt.pd_tp != "same" && opt.pd_tp != "any") {
    throw InputError({Diagnostic{"", "--pd-tp", 0, 0, opt.pd_tp, "expected same or any"}});
  }
  sp.pd_same_tp = opt.pd_tp == "same";
  sp.routers = registered("--routers", opt.routers, routers().names(), {"session-affinity", "least-loaded"});
  sp.policies = registered("--policies", opt.policies, offload_policies().names(), {"swap", "recompute"});
  return sp;
}

Scenario load_doc(const YAML::Node& doc, const PlanOptions& opt, const Catalog& cat) {
  return load_scenario_text(document_text(doc, ""), opt.scenario, {}, cat);
}

// analyze's figures for every (GPU, TP) the candidates use, from a one-replica scenario of it.
std::map<std::pair<std::string, int>, PoolFigures> all_figures(const PlanOptions& opt, const PlanSetup& s,
                                                               const std::vector<Candidate>& cands,
                                                               const Scenario& base, const BoundScope& scope,
                                                               const Catalog& cat) {
  std::map<std::pair<std::string, int>, PoolFigures> out;
  for (const auto& c : cands) {
    for (const auto& p : c.pools) {
      if (out.count({p.gpu, p.tensor_parallel})) continue;
      const Candidate one{
          0, {PoolChoice{"mixed", p.gpu, p.tensor_parallel, 1}}, base.router, base.scheduler.offload_policy};
      PoolFigures f;
      try {
        const Scenario sc = load_doc(candidate_yaml(s, one, {}, {}), opt, cat);
        f = pool_figures(sc, scope);
      } catch (const InputError& e) {
        f.problem = e.items().empty() ? e.what() : e.items().front().message;
      }
      out[{p.gpu, p.tensor_parallel}] = f;
    }
  }
  return out;
}

// Bounds every candidate, prunes those that cannot meet the SLOs (or run at all), and loads the rest in-process
// so that a candidate the scenario format refuses is reported, not run.
void bound_candidates(const PlanOptions& opt, PlanSetup& s, const std::vector<Candidate>& cands, const Scenario& base,
                      const Catalog& cat) {
  const BoundScope scope = bound_scope(base);
  const auto figures = all_figures(opt, s, cands, base, scope, cat);
  for (const auto& c : cands) {
    PlanOutcome o{c, candidate_bounds(c, figures, scope, s.slos)};
    const bool must = o.bounds.prune == "fit";
    if (must || (!opt.no_prune && !o.bounds.prune.empty())) {
      o.prune = o.bounds.prune;
      o.why = o.bounds.why;
    } else {
      try {
        check_deployment(load_doc(candidate_yaml(s, c, {}, {}), opt, cat));
      } catch (const InputError& e) {
        o.prune = "invalid";
        o.why = e.items().empty() ? e.what() : e.items().front().str();
      }
    }
    s.all.push_back(std::move(o));
  }
}

nlohmann::ordered_json definition(const PlanOptions& opt, const PlanSetup& s) {
  nlohmann::ordered_json j;
  j["scenario"] = opt.scenario;
  j["overrides"] = s.sets;
  j["gpus"] = opt.gpus;
  j["slo"] = opt.slo;
  nlohmann::ordered_json cands = nlohmann::ordered_json::array();
  for (const auto& o : s.all) cands.push_back(o.candidate.label());
  j["candidates"] = cands;
  j["replicates"] = opt.replicates;
  j["base_seed"] = s.seed;
  j["no_prune"] = opt.no_prune;
  j["no_early_stop"] = opt.no_early_stop;
  return j;
}

// Writes plan.json, or checks that the directory's plan.json is this plan's.
void claim_directory(const PlanOptions& opt, const PlanSetup& s) {
  const fs::path file = s.out / "plan.json";
  const nlohmann::ordered_json mine = definition(opt, s);
  if (fs::exists(file)) {
    std::ifstream f(file);
    const nlohmann::ordered_json theirs = nlohmann::ordered_json::parse(f, nullptr, false);
    if (theirs.is_discarded() || theirs != mine) {
      throw InputError({Diagnostic{file.string(), "", 0, 0, "",
                                   "this directory holds a different plan (scenario, --set, --gpus, --slo, the search "
                                   "flags, --replicates or seed differ); give another --out, or remove it"}});
    }
    return;
  }
  fs::create_directories(s.out);
  write_file_atomic(file, mine.dump(2) + "\n");
}

std::string winner_text(const PlanOptions& opt, const PlanSetup& s, const PlanOutcome& w, const fs::path& file) {
  const YAML::Node doc = candidate_yaml(s, w.candidate, fs::path(opt.scenario).parent_path(), file.parent_path());
  const std::string header = fmt::format(
      "Written by kvsim plan: {} with candidate {} of --gpus {} under --slo {}:\n{}\n"
      "It ran at {:.4g} sessions/h per GPU with TTFT p90 {:.4g} s (seed {}); run it alone with kvsim run.",
      opt.scenario, w.candidate.index, opt.gpus, opt.slo, w.candidate.label(), w.per_gpu, w.ttft_p90, s.seed);
  return document_text(doc, header);
}

PlanSetup make_setup(const PlanOptions& opt) {
  PlanSetup s;
  s.out = opt.out_dir.empty() ? fs::path("out") / (fs::path(opt.scenario).stem().string() + "-plan")
                              : fs::path(opt.out_dir);
  const std::string flag = opt.out_dir.empty() ? "output directory" : "--out";
  check_output_place(s.out, flag, OutputPlace::kInside);
  check_output_place(s.out / "runs", flag, OutputPlace::kInside);
  if (!opt.write_scenario.empty()) check_output_file(opt.write_scenario, "--write-scenario", {opt.scenario});
  s.slos = parse_slos(opt.slo);
  const Catalog cat = Catalog::load(opt.platforms.empty() ? Catalog::default_dir() : fs::path(opt.platforms));
  const PlanSpace space = parse_space(opt, cat);
  for (const auto& b : space.budget) {
    s.budget += fmt::format("{}{} x {}", s.budget.empty() ? "" : " + ", b.count, b.gpu);
  }
  check_sets(opt.sets);
  s.base = load_yaml_file(opt.scenario);
  s.sets = opt.sets;
  const Scenario base = load_scenario(opt.scenario, s.sets, cat);
  s.base_gpu = base.deployment.gpu.name;
  s.seed = opt.seed ? std::uint64_t(*opt.seed) : base.seed;
  if (opt.seed) s.sets.push_back(fmt::format("seed={}", *opt.seed));
  const std::vector<Candidate> cands = plan_candidates(space);
  if (cands.empty()) {
    throw InputError({Diagnostic{"", "--tp", 0, 0, opt.tp,
                                 "no deployment of --gpus " + opt.gpus +
                                     " has such a "
                                     "tensor parallelism"}});
  }
  bound_candidates(opt, s, cands, base, cat);
  const auto runnable = [](const PlanOutcome& o) { return o.prune != "fit" && o.prune != "invalid"; };
  if (std::none_of(s.all.begin(), s.all.end(), runnable)) {
    throw InputError({Diagnostic{
        "", "--gpus", 0, 0, opt.gpus,
        fmt::format("no candidate can run (--tp {}): {}", opt.tp.empty() ? "default" : opt.tp, s.all.front().why)}});
  }
  return s;
}

}  // namespace

void add_plan_command(CLI::App& app, PlanOptions& opt) {
  auto* cmd = app.add_subcommand("plan", "Search deployments of a GPU budget for the best sessions per GPU under SLOs");
  cmd->add_option("scenario", opt.scenario, "Scenario YAML (its workload is what the deployments serve)")->required();
  cmd->add_option("--gpus", opt.gpus, "GPU budget: TYPE:N[,TYPE:N], TYPE a GPU of platforms/gpus.yaml")->required();
  cmd->add_option("--slo", opt.slo, "Objectives, e.g. ttft_p90=10s,decode_rate_p50=6tok/s; names: " + join(slo_names()))
      ->required();
  cmd->add_option("--tp", opt.tp, "Tensor parallelism per pool, e.g. 1,2,4,8 (default: 1, 2, 4, 8 up to the budget)");
  cmd->add_option("--layouts", opt.layouts, "mixed, pd or mixed,pd (default: both where cluster.pools exists)");
  cmd->add_option("--pd-tp", opt.pd_tp, "same: P/D pools of one GPU type share a TP (default); any: every pair");
  cmd->add_option("--routers", opt.routers, "Routers to try (default: session-affinity,least-loaded)");
  cmd->add_option("--policies", opt.policies, "KV offload policies to try (default: swap,recompute)");
  cmd->add_option("--set", opt.sets, "Override a key in every candidate: key.path=value (repeatable)");
  cmd->add_option("--replicates", opt.replicates, "Runs per candidate, seeds seed + r x 1000003 (default 1)")
      ->check(CLI::Range(1, 100));
  cmd->add_option("--jobs", opt.jobs, "Runs at once (default: the number of cores)")->check(CLI::Range(1, 1024));
  cmd->add_option("--out", opt.out_dir, "Output directory (default: out/<scenario name>-plan)");
  cmd->add_option("--write-scenario", opt.write_scenario, "Also write the winner's scenario YAML to this file");
  cmd->add_option("--seed", opt.seed, "Seed of every candidate's first replicate (default: the scenario's)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--platforms", opt.platforms, "Catalog directory");
  cmd->add_flag("--no-prune", opt.no_prune, "Simulate every candidate that can run, ignoring the analytic bounds");
  cmd->add_flag("--no-early-stop", opt.no_early_stop,
                "Run every candidate to its end; by default a run stops once a TTFT objective is surely missed "
                "(docs/sweeps.md, early stop), and the candidate is recorded as missing it");
}

int run_plan(const PlanOptions& opt) {
  const auto start = std::chrono::steady_clock::now();
  PlanSetup s = make_setup(opt);
  claim_directory(opt, s);
  std::vector<fs::path> stale = remove_stale_staging(s.out, "");
  for (auto& p : remove_stale_staging(s.out / "runs", "")) stale.push_back(std::move(p));
  note_stale_staging(stale, std::cerr);
  fs::create_directories(s.out / "runs");
  fs::create_directories(s.out / "candidates");
  plan_search(opt, s);
  const std::vector<FrontierPoint> frontier = pareto_frontier(feasible_points(s.all));
  write_file_atomic(s.out / "candidates.csv", candidates_csv(s.all));
  write_file_atomic(s.out / "frontier.csv", frontier_csv(s.all, frontier));
  PlanHeadline h;
  h.budget = s.budget;
  for (const auto& sl : s.slos)
    h.slos += (h.slos.empty() ? "" : ", ") + sl.name + (sl.at_most ? " <= " : " >= ") + sl.text;
  h.out = s.out.string();
  if (const PlanOutcome* w = plan_winner(s.all)) {
    write_file_atomic(s.out / "winner.yaml", winner_text(opt, s, *w, s.out / "winner.yaml"));
    h.winner_file = (s.out / "winner.yaml").string();
    if (!opt.write_scenario.empty()) {
      write_file_atomic(opt.write_scenario, winner_text(opt, s, *w, opt.write_scenario));
      h.winner_file = opt.write_scenario;
    }
  }
  h.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  print_plan(std::cout, h, s.all, frontier);
  return std::any_of(s.all.begin(), s.all.end(), [](const PlanOutcome& o) { return o.status == PlanStatus::kFailed; })
             ? 1
             : 0;
}

}  // namespace kvsim::cli
