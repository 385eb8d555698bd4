// `kvsim compare`: one scenario and seed under several KV offload policies. Each policy is a child `kvsim run`
// (SimGrid allows one engine per process); the parent checks the input first, so that bad input common to all
// runs exits 2 before anything runs or is written, then tabulates the runs' summaries.
#include "sim/cli/compare_cmd.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "engine/offload_policy.hpp"
#include "sim/cli/compare_output.hpp"
#include "sim/cli/compare_runner.hpp"
#include "sim/diagnostics.hpp"
#include "sim/output.hpp"
#include "sim/run.hpp"
#include "sim/safe_output.hpp"
#include "sim/scenario.hpp"

namespace kvsim::cli {
namespace fs = std::filesystem;
namespace {

const std::string kPolicyKey = "scheduler.kv_offload.policy";

// One --policies entry checked against the registry; adds a diagnostic and returns false if it is not valid.
bool check_policy(const std::string& name, const std::vector<std::string>& chosen, Diagnostics& diag) {
  const auto valid = offload_policy_names();
  if (name.empty()) {
    diag.add({"", "--policies", 0, 0, "", "empty policy name; expected a comma-separated list of: " + join(valid)});
  } else if (std::find(valid.begin(), valid.end(), name) == valid.end()) {
    std::string message = "unknown offload policy; valid: " + join(valid);
    if (const auto guess = closest_match(name, valid); !guess.empty()) message += "; did you mean '" + guess + "'?";
    diag.add({"", "--policies", 0, 0, name, message});
  } else if (std::find(chosen.begin(), chosen.end(), name) != chosen.end()) {
    diag.add({"", "--policies", 0, 0, name, "listed twice"});
  } else {
    return true;
  }
  return false;
}

// The --policies list, in the order given; every problem is reported in one InputError.
std::vector<std::string> parse_policies(const CompareOptions& opt) {
  std::vector<std::string> out;
  Diagnostics diag;
  for (std::size_t start = 0;;) {
    const auto end = opt.policies.find(',', start);
    const std::string name = trim(opt.policies.substr(start, end == std::string::npos ? end : end - start));
    if (check_policy(name, out, diag)) out.push_back(name);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  for (const auto& s : opt.sets) {
    if (trim(s.substr(0, s.find('='))) == kPolicyKey) {
      diag.add({"", "--set", 0, 0, s, kPolicyKey + " is set for each run by --policies"});
    }
  }
  diag.throw_if_any();
  return out;
}

// The --set overrides of one policy's run, as `run` applies them.
std::vector<std::string> run_sets(const CompareOptions& opt, const std::string& policy) {
  std::vector<std::string> sets = opt.sets;
  if (opt.seed) sets.push_back(fmt::format("seed={}", *opt.seed));
  sets.push_back(kPolicyKey + "=" + policy);
  return sets;
}

// Loads and checks the scenario under every policy, in-process and without simulating: bad input exits 2 here.
CompareIdentity check_scenario(const CompareOptions& opt, const std::vector<std::string>& policies) {
  const Catalog cat =
      Catalog::load(opt.platforms.empty() ? Catalog::default_dir() : fs::path(opt.platforms));
  CompareIdentity id;
  id.scenario = opt.scenario;
  id.overrides = opt.sets;
  for (const auto& p : policies) {
    const Scenario s = load_scenario(opt.scenario, run_sets(opt, p), cat);
    check_deployment(s);
    id.model = s.model.name;
    id.gpu = s.deployment.gpu.name;
    id.seed = s.seed;
  }
  return id;
}

// The child's command line: `kvsim --log-level L run --quiet --out=DIR/<policy> --set=... -- SCENARIO`.
std::vector<std::string> child_args(const CompareOptions& opt, const std::string& policy, const fs::path& dir) {
  RunChild c{opt.scenario, dir, opt.sets, opt.seed, opt.platforms, opt.audit, opt.log_level};
  c.sets.push_back(kPolicyKey + "=" + policy);
  return run_child_args(c);
}

PolicyResult result_of(const std::string& policy, const fs::path& dir, const ChildJob& job, const ChildOutcome& o) {
  PolicyResult r;
  r.policy = policy;
  r.exit_code = o.started ? o.exit_code : -1;
  if (!o.started || o.exit_code != 0) {
    r.error = child_error_text(job.log, o);
    return r;
  }
  try {
    r.values = read_policy_metrics(dir);
    r.ok = true;
  } catch (const std::exception& e) {
    r.error = std::string("the run ended but its outputs cannot be read: ") + e.what();
  }
  return r;
}

std::vector<PolicyResult> run_policies(const CompareOptions& opt, const std::vector<std::string>& policies,
                                       const fs::path& out) {
  std::vector<ChildJob> jobs;
  for (const auto& p : policies) {
    std::error_code ec;
    fs::create_directories(out / p, ec);  // if this fails, starting the run fails and says why
    jobs.push_back(ChildJob{child_args(opt, p, out / p), out / p / "run.log"});
  }
  std::size_t done = 0;
  const auto outcomes = run_children(self_executable(), jobs, opt.jobs, [&](std::size_t i, const ChildOutcome& o) {
    const std::string how = o.started && o.exit_code == 0 ? "done" : "failed";
    std::cout << fmt::format("  [{}/{}] {}: {} ({:.2f} s wall)\n", ++done, jobs.size(), policies[i], how, o.wall_s)
              << std::flush;
  });
  std::vector<PolicyResult> results;
  for (std::size_t i = 0; i < policies.size(); ++i) {
    results.push_back(result_of(policies[i], out / policies[i], jobs[i], outcomes[i]));
  }
  return results;
}

}  // namespace

void add_compare_command(CLI::App& app, CompareOptions& opt) {
  auto* cmd = app.add_subcommand("compare", "Run a scenario under several KV offload policies and compare them");
  cmd->add_option("scenario", opt.scenario, "Scenario YAML")->required();
  cmd->add_option("--policies", opt.policies, "Comma-separated offload policies: " + join(offload_policy_names()))
      ->required();
  cmd->add_option("--out", opt.out_dir, "Output directory (default: out/<scenario name>-compare)");
  cmd->add_option("--set", opt.sets, "Override a key in every run: key.path=value (repeatable)");
  cmd->add_option("--seed", opt.seed, "Random seed for every run (overrides the scenario's)");
  cmd->add_option("--platforms", opt.platforms, "Catalog directory");
  cmd->add_option("--jobs", opt.jobs, "Runs at once (default 1)")->check(CLI::Range(1, 256));
  cmd->add_flag("--audit,!--no-audit", opt.audit, "Check invariants after every event (default: on in debug builds)");
}

// Refuses a bad --out before anything is loaded or run, and a policy's directory that is a file or cannot be
// written. (What a policy's directory holds is its run's to judge: a run that refuses it is reported as failed.)
void check_out(const CompareOptions& opt, const std::vector<std::string>& policies, const fs::path& out) {
  const std::string flag = opt.out_dir.empty() ? "output directory" : "--out";
  check_output_place(out, flag, OutputPlace::kInside);
  for (const auto& p : policies) check_output_place(out / p, flag, OutputPlace::kNextTo);
}

int run_compare(const CompareOptions& opt) {
  const std::vector<std::string> policies = parse_policies(opt);
  const fs::path out = opt.out_dir.empty() ? fs::path("out") / (fs::path(opt.scenario).stem().string() + "-compare")
                                           : fs::path(opt.out_dir);
  check_out(opt, policies, out);
  const CompareIdentity id = check_scenario(opt, policies);
  note_stale_staging(remove_stale_staging(out, ""), std::cerr);  // of a killed comparison (its runs' and files')
  fs::create_directories(out);
  std::cout << fmt::format("kvsim compare: {} policies, {} at a time, into {}/\n", policies.size(), opt.jobs,
                           out.string());
  const std::vector<PolicyResult> results = run_policies(opt, policies, out);
  write_file_atomic(out / "compare.csv", compare_csv(results));
  write_file_atomic(out / "compare.json", compare_json(id, results).dump(2) + "\n");
  print_compare_table(std::cout, id, results);
  std::cout << fmt::format("\n  outputs in {}/ (compare.csv, compare.json; each policy's run in {}/<policy>/)\n",
                           out.string(), out.string());
  int failed = 0;
  for (const auto& r : results) {
    if (r.ok) continue;
    ++failed;
    std::cerr << fmt::format("error: policy {} failed (exit code {}): {}\n", r.policy, r.exit_code, r.error);
  }
  return failed == 0 ? 0 : 1;
}

}  // namespace kvsim::cli
