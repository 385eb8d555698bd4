#include "sim/cli/replay_cmd.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "engine/cost_model.hpp"
#include "sim/cli/replay_compare.hpp"
#include "sim/diagnostics.hpp"
#include "sim/output.hpp"
#include "sim/run.hpp"
#include "sim/safe_output.hpp"
#include "sim/scenario.hpp"
#include "sim/trace_input.hpp"

namespace kvsim::cli {
namespace fs = std::filesystem;
namespace {

// A YAML double-quoted scalar (JSON string syntax is valid YAML).
std::string quoted(const std::string& s) {
  return nlohmann::json(s).dump();
}

// The value of `--set key=...` or `--set key.catalog=...`, the last one given.
std::optional<std::string> set_value(const std::vector<std::string>& sets, const std::string& key) {
  std::optional<std::string> out;
  for (const auto& s : sets) {
    for (const auto& k : {key + "=", key + ".catalog="}) {
      if (s.rfind(k, 0) == 0) out = s.substr(k.size());
    }
  }
  return out;
}

Diagnostic meta_problem(const VllmRun& run, const std::string& field, const std::string& value,
                        const std::string& message) {
  return Diagnostic{(fs::path(run.dir) / "meta.json").string(), field, 0, 0, value, message};
}

// The catalog GPU of the run and where it came from; empty name when --set hardware.gpu decides.
struct GpuChoice {
  std::string name;
  std::string note;
  bool from_run = false;  // the run's own device: its total memory applies
};

GpuChoice pick_gpu(const VllmRun& run, const ReplayOptions& opt, const Catalog& cat) {
  if (auto v = set_value(opt.sets, "hardware.gpu")) return {*v, "GPU " + *v + " from --set hardware.gpu", false};
  const auto& device = run.meta.device_name;
  if (device) {
    const std::string g = cat.gpu_by_device_name(*device);
    if (!g.empty()) return {g, fmt::format("GPU {} from meta.json hardware.device_name '{}'", g, *device), true};
    throw InputError(std::vector<Diagnostic>{meta_problem(
        run, "hardware.device_name", *device,
        "no GPU of the catalog lists this device name (platforms/gpus.yaml device_names); add it there or pass "
        "--set hardware.gpu=NAME")});
  }
  const std::string g = cat.gpu_by_folder_name(run.gpu_folder);
  if (!g.empty()) {
    return {
        g,
        fmt::format("GPU {} from the directory name '{}' (meta.json has no hardware.device_name)", g, run.gpu_folder),
        true};
  }
  throw InputError(std::vector<Diagnostic>{meta_problem(
      run, "hardware", run.gpu_folder,
      fmt::format("meta.json names no GPU and the run's folder name matches none of the catalog ({}); pass "
                  "--set hardware.gpu=NAME",
                  join(cat.gpu_names())))});
}

std::pair<std::string, std::string> pick_model(const VllmRun& run, const ReplayOptions& opt, const Catalog& cat) {
  if (auto v = set_value(opt.sets, "model")) return {*v, "model " + *v + " from --set model"};
  const std::string m = cat.model_by_hf_name(run.meta.model);
  if (!m.empty()) return {m, fmt::format("model {} from meta.json model '{}'", m, run.meta.model)};
  throw InputError(std::vector<Diagnostic>{meta_problem(
      run, "model", run.meta.model,
      "no model of the catalog has this Hugging Face name (platforms/models.yaml hf_name); add it there or pass "
      "--set model=NAME")});
}

// The one place that picks the replay's scheduler: vLLM v1's, with the run's engine settings and, when the run
// recorded it, the KV pool vLLM chose (num_gpu_blocks), so the replay preempts where vLLM did. vLLM v1 preempts by
// recomputing.
std::string scheduler_yaml(const VllmRun& run) {
  const auto& m = run.meta;
  std::string pool;
  if (m.num_gpu_blocks) {
    pool = fmt::format("  num_gpu_blocks: {}  # kv_cache.num_gpu_blocks\n", *m.num_gpu_blocks);
  } else {
    pool = fmt::format("  gpu_memory_utilization: {}  # {}\n", m.gpu_memory_utilization.value_or(0.9),
                       m.gpu_memory_utilization ? "kv_cache.gpu_memory_utilization"
                                                : "not recorded: vLLM's default, 0.9; num_gpu_blocks not recorded");
  }
  return fmt::format(
      "scheduler:\n"
      "  type: vllm-v1\n"
      "  max_batch_tokens: {}  # max_num_batched_tokens\n"
      "  max_batch_size: {}  # max_num_seqs\n"
      "  block_tokens: {}  # kv_cache.block_size{}\n"
      "  prefix_cache: {}  # kv_cache.enable_prefix_caching{}\n"
      "{}"
      "  kv_offload:\n"
      "    policy: recompute  # vLLM v1 preempts by recomputing\n",
      m.max_num_batched_tokens, m.max_num_seqs, m.block_size.value_or(16), m.block_size ? "" : " (not recorded: 16)",
      m.enable_prefix_caching.value_or(true) ? "true" : "false",
      m.enable_prefix_caching ? "" : " (not recorded: vLLM's default, on)", pool);
}

// The one place that picks the replay's step model. --profile DIR is `step_model.type: profiled` with
// `step_model.profile: DIR`; --step-model NAME any registered one, and NAME:FILE one with its data file (fitted:FILE
// is `step_model.coefficients: FILE`, profiled:DIR as --profile); neither: roofline.
std::string step_model_yaml(const ReplayOptions& opt) {
  const auto path = [](const std::string& p) { return quoted(fs::absolute(p).lexically_normal().string()); };
  if (!opt.profile.empty()) return fmt::format("step_model:\n  type: profiled\n  profile: {}\n", path(opt.profile));
  const std::string choice = opt.step_model.empty() ? "roofline" : opt.step_model;
  const auto colon = choice.find(':');
  if (colon == std::string::npos) return fmt::format("step_model:\n  type: {}\n", choice);
  const std::string name = choice.substr(0, colon), file = choice.substr(colon + 1);
  const char* key = name == "fitted" ? "coefficients" : name == "profiled" ? "profile" : nullptr;
  if (key == nullptr || file.empty()) {
    throw InputError(std::vector<Diagnostic>{
        Diagnostic{"", "--step-model", 0, 0, choice, "NAME:FILE is fitted:COEFFICIENTS_FILE or profiled:BUNDLE_DIR"}});
  }
  return fmt::format("step_model:\n  type: {}\n  {}: {}\n", name, key, path(file));
}

std::string hardware_yaml(const VllmRun& run, const GpuChoice& gpu) {
  std::string gpu_yaml = fmt::format("  gpu:\n    catalog: {}\n", quoted(gpu.name));
  if (gpu.from_run && run.meta.device_total_memory_bytes) {
    gpu_yaml += fmt::format("    hbm_capacity: {:.0f}B  # hardware.device_total_memory_bytes\n",
                            *run.meta.device_total_memory_bytes);
  }
  return fmt::format("hardware:\n{}  tensor_parallel: {}  # tensor_parallel_size\n", gpu_yaml,
                     run.meta.tensor_parallel_size);
}

double last_arrival(const Trace& t) {
  double last = 0;
  for (const auto& s : t.sessions) last = std::max(last, s.rounds.front().arrival_s);
  return last;
}

}  // namespace

Trace replay_trace(const VllmRun& run) {
  Trace t;
  t.file = (fs::path(run.dir) / "requests.jsonl").string();
  t.format = "kvsim";
  double first = run.requests.front().queued_ts;
  for (const auto& r : run.requests) first = std::min(first, r.queued_ts);
  for (const auto& r : run.requests) {
    TraceRound round;
    round.arrival_s = r.queued_ts - first;
    round.prompt_tokens = r.input_toks;
    round.output_tokens = r.output_toks;
    round.line = r.line;
    t.sessions.push_back(TraceSession{r.id, true, {round}});
  }
  std::stable_sort(t.sessions.begin(), t.sessions.end(), [](const TraceSession& a, const TraceSession& b) {
    return a.rounds.front().arrival_s < b.rounds.front().arrival_s;
  });
  t.lines = long(run.requests.size());
  return t;
}

ReplayScenario replay_scenario(const VllmRun& run, const ReplayOptions& opt, const Catalog& catalog,
                               const std::string& trace_name) {
  ReplayScenario out;
  const GpuChoice gpu = pick_gpu(run, opt, catalog);
  const auto [model, model_note] = pick_model(run, opt, catalog);
  out.notes = {gpu.note, model_note};
  out.trace = std::make_shared<const Trace>(replay_trace(run));
  out.trace_name = trace_name;
  std::string model_yaml = fmt::format("model:\n  catalog: {}\n", quoted(model));
  if (run.meta.max_model_len) {
    model_yaml += fmt::format("  max_context: {}  # max_model_len\n", *run.meta.max_model_len);
  }
  out.yaml = fmt::format(
      "# kvsim replay of the vLLM run {} ({} requests); written by `kvsim replay`.\n"
      "description: {}\n{}{}{}{}"
      "workload:\n  trace:\n    path: {}\n    format: kvsim\n  duration: {:.0f}s\n",
      run.dir, run.requests.size(), quoted("replay of the vLLM run " + run.dir), model_yaml, hardware_yaml(run, gpu),
      scheduler_yaml(run), step_model_yaml(opt), quoted(trace_name), std::ceil(last_arrival(*out.trace)) + 1);
  return out;
}

void add_replay_command(CLI::App& app, ReplayOptions& opt) {
  auto* cmd = app.add_subcommand("replay", "Simulate a recorded vLLM run and compare with what it measured");
  cmd->add_option("run_dir", opt.run_dir,
                  "Run directory runs/<GPU>/<model> (meta.json, requests.jsonl, "
                  "timeseries.csv)")
      ->required();
  auto* profile = cmd->add_option("--profile", opt.profile, "Kernel-profile bundle: step_model profiled");
  cmd->add_option("--step-model", opt.step_model,
                  "Step model: NAME, or fitted:COEFFICIENTS_FILE / profiled:BUNDLE_DIR (default roofline)")
      ->excludes(profile);
  cmd->add_option("--set", opt.sets, "Override a key of the replay's scenario: key.path=value (repeatable)");
  cmd->add_option("--out", opt.out_dir, "Output directory (default: out/replay-<GPU folder>-<model folder>)");
  cmd->add_option("--write-scenario", opt.write_scenario,
                  "Also write the scenario to FILE and its trace beside it (FILE's stem + .trace.jsonl)");
  cmd->add_option("--platforms", opt.platforms, "Catalog directory");
  cmd->add_flag("--quiet", opt.quiet, "Print nothing on success");
}

namespace {

fs::path default_out(const ReplayOptions& opt) {
  fs::path abs = fs::absolute(opt.run_dir).lexically_normal();
  if (abs.filename().empty()) abs = abs.parent_path();
  return fs::path("out") / fmt::format("replay-{}-{}", abs.parent_path().filename().string(), abs.filename().string());
}

std::vector<std::string> replay_output_names() {
  std::vector<std::string> names = run_output_names();
  for (const char* n : {"comparison.json", "replay_timeseries.csv", "replay_requests.csv"}) names.push_back(n);
  return names;
}

// Writes the scenario and its trace (kvsim's session-trace format) once the run has succeeded.
void write_scenario_files(const ReplayOptions& opt, const ReplayScenario& rs) {
  std::ostringstream trace;
  write_kvsim_trace(*rs.trace, trace);
  const fs::path dir = fs::path(opt.write_scenario).parent_path();
  if (!dir.empty()) fs::create_directories(dir);
  write_file_atomic(dir / rs.trace_name, trace.str());
  write_file_atomic(opt.write_scenario, rs.yaml);
}

// Loads the replay's scenario; on a problem (such as a bad --set) shows the YAML with line numbers first, since
// the messages name lines of a scenario that exists only in memory.
Scenario load_replay_scenario(const ReplayScenario& rs, const fs::path& name, const std::vector<std::string>& sets,
                              const Catalog& cat) {
  try {
    return load_scenario_text(rs.yaml, name, sets, cat, rs.trace);
  } catch (const InputError&) {
    std::cerr << "the scenario kvsim replay built from the run (" << name.string() << "):\n";
    std::istringstream lines(rs.yaml);
    int n = 0;
    for (std::string line; std::getline(lines, line);) std::cerr << fmt::format("{:4} | {}\n", ++n, line);
    throw;
  }
}

}  // namespace

int run_replay(const ReplayOptions& opt) {
  const auto wall_start = std::chrono::steady_clock::now();
  const fs::path out = opt.out_dir.empty() ? default_out(opt) : fs::path(opt.out_dir);
  check_output_dir(out, opt.out_dir.empty() ? "output directory" : "--out", replay_output_names());
  const std::string trace_name =
      opt.write_scenario.empty() ? "replay.trace.jsonl" : fs::path(opt.write_scenario).stem().string() + ".trace.jsonl";
  if (!opt.write_scenario.empty()) {
    const fs::path d(opt.run_dir);
    const std::vector<fs::path> inputs{d / "meta.json", d / "requests.jsonl", d / "timeseries.csv"};
    check_output_file(opt.write_scenario, "--write-scenario", inputs);
    check_output_file(fs::path(opt.write_scenario).parent_path() / trace_name, "--write-scenario", inputs);
  }
  const Catalog cat = Catalog::load(opt.platforms.empty() ? Catalog::default_dir() : fs::path(opt.platforms));
  const VllmRun run = load_vllm_run_input(opt.run_dir);
  const ReplayScenario rs = replay_scenario(run, opt, cat, trace_name);
  const fs::path name = opt.write_scenario.empty() ? out / "replay.yaml" : fs::path(opt.write_scenario);
  const Scenario s = load_replay_scenario(rs, name, opt.sets, cat);
  const RunResult r = run_scenario(s, RunOptions{});

  const CostModel cost(s.model, s.deployment, s.scheduler.attention_flops);
  const RequestFigures measured = measured_figures(run), simulated = simulated_figures(*r.metrics);
  const auto queue = simulated_queue(*r.metrics, run.timeseries, r.kv_pool_bytes * s.replicas, r.end_s);
  nlohmann::ordered_json comparison = comparison_json(measured, simulated, run.timeseries, queue);
  comparison["run"] = {{"dir", run.dir}, {"model", run.meta.model}, {"notes", rs.notes}};
  write_run_outputs(out, s, r,
                    {{"comparison.json", comparison.dump(2) + "\n"},
                     {"replay_timeseries.csv", replay_timeseries_csv(run.timeseries, queue)},
                     {"replay_requests.csv", replay_requests_csv(measured, simulated)}});
  if (!opt.write_scenario.empty()) write_scenario_files(opt, rs);
  if (opt.quiet) return 0;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  std::cout << fmt::format("kvsim replay of {}: {} requests, {} on {} x {}\n", run.dir, run.requests.size(),
                           s.model.name, s.deployment.tensor_parallel, s.deployment.gpu.name);
  for (const auto& n : rs.notes) std::cout << "  " << n << "\n";
  print_comparison(std::cout, comparison);
  std::cout << fmt::format(
      "\n  outputs in {}/ (comparison.json, replay_timeseries.csv, replay_requests.csv and the "
      "run's files){}; {:.2f} s wall\n",
      out.string(), opt.write_scenario.empty() ? "" : "; scenario in " + opt.write_scenario, wall);
  return 0;
}

}  // namespace kvsim::cli
