// `kvsim analyze`: the paper's four metrics for one user at theoretical peak, for one deployment or a sweep.
#include "sim/cli/analyze_cmd.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <optional>
#include <thread>

#include "engine/peak_analysis.hpp"
#include "sim/cli/analyze_output.hpp"
#include "sim/cli/compression_output.hpp"
#include "sim/flag_values.hpp"
#include "sim/scenario.hpp"

namespace kvsim::cli {
namespace {
namespace fs = std::filesystem;

struct Case {
  ModelSpec model;
  Deployment deployment;
  double context = 0;
  std::string compute_dtype = "auto";                ///< resolved per case: a sweep may change the GPU
  AttentionFlops attention = AttentionFlops::kFull;  ///< without a scenario: the paper's Eq. 7
};

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const auto end = s.find(',', start);
    out.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

const std::vector<std::string> kSweepKeys{"context",   "gpu", "tp",       "model",
                                          "attention", "moe", "kv_dtype", "weights_dtype"};

// Applies one sweep value to a case; throws InputError on a bad value.
void apply(const Catalog& cat, Case& c, const std::string& key, const std::string& value) {
  const std::string flag = "--sweep " + key;
  if (key == "context") {
    c.context = parse_flag_in_range(flag, value, Dim::kTokens, plausible::kTokens, true);
  } else if (key == "gpu") {
    c.deployment.gpu = cat.gpu(value);
    c.deployment.host_link = c.deployment.gpu.host_link;
  } else if (key == "tp") {
    c.deployment.tensor_parallel =
        int(parse_flag_in_range(flag, value, Dim::kCount, plausible::kTensorParallel, true));
  } else if (key == "model") {
    c.model = cat.model(value);
  } else if (key == "attention") {
    if (value == "mha") {
      c.model.num_kv_heads = c.model.num_attention_heads;
    } else if (value == "mqa") {
      c.model.num_kv_heads = 1;
    } else if (value != "gqa") {
      throw InputError(std::vector<Diagnostic>{{"", flag, 0, 0, value, "expected mha, gqa or mqa"}});
    }
    c.model.name += "-" + value;
  } else if (key == "moe") {
    upcycle_moe(c.model, flag, value);
  } else if (key == "kv_dtype" || key == "weights_dtype") {
    auto t = parse_dtype(value);
    if (!t) throw InputError(std::vector<Diagnostic>{{"", flag, 0, 0, value, "expected one of " + dtype_names()}});
    (key == "kv_dtype" ? c.model.kv_dtype : c.model.weights_dtype) = *t;
  }
}

// The compute dtype of a case, from its GPU and weights; a dtype the GPU does not list is refused.
void set_compute_dtype(Case& c, const std::string& flag) {
  const auto t = choose_compute_dtype(c.compute_dtype, c.model.weights_dtype, c.deployment.gpu);
  if (!t) {
    throw InputError(
        std::vector<Diagnostic>{{"", flag, 0, 0, c.compute_dtype,
                                 fmt::format("GPU {} lists no {} peak; it has {} (or use auto)", c.deployment.gpu.name,
                                             c.compute_dtype, compute_dtype_names(c.deployment.gpu))}});
  }
  c.deployment.compute_dtype = *t;
}

std::vector<Case> expand(const Catalog& cat, const Case& base, const std::vector<std::string>& contexts,
                         const std::vector<std::string>& sweeps) {
  std::vector<Case> cases;
  for (const auto& ctx : contexts) {
    Case c = base;
    c.context = parse_flag_in_range("--context", ctx, Dim::kTokens, plausible::kTokens, true);
    cases.push_back(c);
  }
  for (const auto& sweep : sweeps) {
    const auto eq = sweep.find('=');
    const std::string key = sweep.substr(0, eq);
    if (eq == std::string::npos || std::find(kSweepKeys.begin(), kSweepKeys.end(), key) == kSweepKeys.end()) {
      throw InputError(std::vector<Diagnostic>{
          {"", "--sweep", 0, 0, sweep, "expected KEY=v1,v2,... with KEY one of: " + join(kSweepKeys)}});
    }
    std::vector<Case> next;
    for (const auto& c : cases) {
      for (const auto& v : split_list(sweep.substr(eq + 1))) {
        Case n = c;
        apply(cat, n, key, v);
        next.push_back(n);
      }
    }
    cases = std::move(next);
  }
  return cases;
}

// The numeric flags CLI11 reads as numbers, held to the plausible ranges of their scenario keys before any work:
// `--answer-tokens inf` would loop per token forever, `--compute-efficiency 1e-300` give centuries.
void check_number_flags(const AnalyzeOptions& opt) {
  using plausible::kEfficiency;
  using plausible::kTokens;
  if (opt.answer_tokens) check_flag_range("--answer-tokens", *opt.answer_tokens, Dim::kTokens, kTokens, true);
  if (opt.tp) check_flag_range("--tp", *opt.tp, Dim::kCount, plausible::kTensorParallel, true);
  if (opt.compute_eff) check_flag_range("--compute-efficiency", *opt.compute_eff, Dim::kRatio, kEfficiency, false);
  if (opt.memory_eff) check_flag_range("--memory-efficiency", *opt.memory_eff, Dim::kRatio, kEfficiency, false);
}

// Flags that override the deployment apply after the sweep, so `--sweep gpu=...` keeps `--host-link-bw`.
void apply_flags(const Catalog& cat, const AnalyzeOptions& opt, Deployment& d) {
  if (opt.tp) d.tensor_parallel = *opt.tp;
  if (!opt.host_link.empty()) d.host_link = cat.link(opt.host_link);
  if (!opt.host_link_bw.empty()) {
    d.host_link.bandwidth =
        parse_flag_in_range("--host-link-bw", opt.host_link_bw, Dim::kBandwidth, plausible::kBandwidth);
  }
  if (opt.host_link_per_gpu) d.host_link_shared = false;
  if (opt.compute_eff) d.compute_efficiency = *opt.compute_eff;
  if (opt.memory_eff) d.memory_efficiency = *opt.memory_eff;
}

// The methods --methods names (preset names), in table order; all of them by default.
std::vector<const CompressionMethod*> chosen_methods(const AnalyzeOptions& opt) {
  std::vector<const CompressionMethod*> out;
  std::vector<std::string> names;
  for (const auto& m : compression_methods()) {
    names.push_back(m.slug);
    if (opt.methods.empty() || std::find(opt.methods.begin(), opt.methods.end(), m.slug) != opt.methods.end()) {
      out.push_back(&m);
    }
  }
  for (const auto& want : opt.methods) {
    if (std::find(names.begin(), names.end(), want) == names.end()) {
      throw InputError(std::vector<Diagnostic>{{"", "--methods", 0, 0, want, "expected one of " + join(names)}});
    }
  }
  return out;
}

// --simulate runs the scenario itself, so only what the children can reproduce may change the analytic side.
void check_simulate_flags(const AnalyzeOptions& opt, const Scenario* sc) {
  if (!opt.compare_compression) throw InputError("--simulate needs --compare-compression");
  if (!sc) {
    throw InputError("--simulate needs a SCENARIO to run, e.g. scenarios/paper/yi34b-50k-a100.yaml");
  }
  const bool deployment_flags = !opt.model.empty() || !opt.hf_config.empty() || !opt.gpu.empty() || opt.tp ||
                                !opt.host_link.empty() || !opt.host_link_bw.empty() || opt.host_link_per_gpu ||
                                opt.compute_eff || opt.memory_eff || !opt.kv_dtype.empty() ||
                                !opt.weights_dtype.empty() || !opt.compute_dtype.empty() ||
                                !opt.attention_flops.empty() || !opt.sweeps.empty();
  if (deployment_flags) {
    throw InputError(
        "--simulate runs the SCENARIO as written, so --model, --hf-config, --gpu, --tp, --host-link*, "
        "--compute-efficiency, --memory-efficiency, --kv-dtype, --weights-dtype, --compute-dtype, "
        "--attention-flops and --sweep cannot apply to it; edit the scenario instead (or copy it)");
  }
  if (sc->workload.trace.trace) {
    throw InputError(sc->file.string() +
                     ": --simulate sets the document length of synthetic sessions; this scenario replays a trace "
                     "(workload.trace); use one with workload.document_tokens");
  }
}

// The rows' context lengths and answer length: the flags when given, else a scenario's document and answer (the
// means of their distributions), else the defaults: 50K, or Table 2's 50K, 200K and 1M, and 250-token answers.
// Table 2 keeps its three contexts with a scenario too, as the paper's table has them.
struct Lengths {
  std::vector<std::string> contexts;
  double answer = 250;
};

// Says on stderr which value of a length distribution analyze takes, when it is not a constant.
void note_mean(const DistSpec& d, const std::string& key) {
  if (d.kind != "constant") {
    std::cerr << fmt::format("note: {} is a {} distribution; analyze takes its mean, {:.0f} tokens\n", key, d.kind,
                             d.expected());
  }
}

Lengths lengths_of(const AnalyzeOptions& opt, const Scenario* sc) {
  Lengths l;
  l.contexts = opt.compare_compression ? std::vector<std::string>{"50000", "200000", "1000000"}
                                       : std::vector<std::string>{"50000"};
  if (sc && !sc->workload.trace.trace) {
    const WorkloadSpec& w = sc->workload;
    if (!opt.compare_compression && opt.contexts.empty()) {
      l.contexts = {fmt::format("{:.0f}", w.document_tokens.expected())};
      note_mean(w.document_tokens, "workload.document_tokens");
    }
    l.answer = w.answer_tokens.expected();
    if (!opt.answer_tokens) note_mean(w.answer_tokens, "workload.answer_tokens");
  } else if (sc && (opt.contexts.empty() || !opt.answer_tokens)) {
    std::cerr << "note: " << sc->file.string()
              << " replays a trace, which has no one document length; analyze takes its default lengths, or "
                 "--context and --answer-tokens\n";
  }
  if (!opt.contexts.empty()) l.contexts = opt.contexts;
  if (opt.answer_tokens) l.answer = *opt.answer_tokens;
  return l;
}

// Table 2: every method at every context (default 50K, 200K and 1M), on the first case's model and deployment;
// with --simulate, each row's session throughput from runs of the scenario.
int run_compare_compression(const AnalyzeOptions& opt, const std::vector<Case>& cases, const Scenario* sc,
                            double answer_tokens) {
  const auto methods = chosen_methods(opt);
  std::vector<CompressionDelta> rows;
  for (const CompressionMethod* method : methods) {
    for (const auto& c : cases)
      rows.push_back(compare_method(*method, c.model, c.deployment, c.context, answer_tokens, c.attention));
  }
  if (!opt.simulate) {
    write_compression(std::cout, rows, opt.format);
    return 0;
  }
  CompressionSimRequest req{sc, opt.scenario, cases.front().model, methods, {}, answer_tokens};
  for (const auto& c : cases) req.contexts.push_back(c.context);
  req.out = opt.out.empty() ? fs::path("out") / (sc->file.stem().string() + "-compression") : fs::path(opt.out);
  req.platforms = opt.platforms;
  req.jobs = opt.jobs > 0 ? opt.jobs : int(std::max(1u, std::thread::hardware_concurrency()));
  const CompressionSimulation sim = simulate_compression(req);
  write_compression(std::cout, rows, opt.format, &sim);
  return 0;
}

// The case before sweeps and flags: the scenario's model, deployment and settings, or the flags' model and GPU
// with the paper's counting (full attention FLOPs, Eq. 7).
Case base_case(const Catalog& cat, const AnalyzeOptions& opt, const Scenario* sc) {
  Case base;
  base.context = 50000;
  if (sc) {
    base.model = sc->model;
    base.deployment = sc->deployment;
    base.compute_dtype = sc->compute_dtype;
    base.attention = sc->scheduler.attention_flops;
    return base;
  }
  const bool paper_example = opt.compare_compression && opt.model.empty() && opt.hf_config.empty();
  if (!paper_example && opt.model.empty() == opt.hf_config.empty()) {
    throw InputError("analyze needs a SCENARIO, or exactly one of --model and --hf-config");
  }
  const std::string name = paper_example ? "yi-34b-200k" : opt.model;  // the paper's running example
  base.model = opt.hf_config.empty() ? cat.model(name) : load_hf_config(opt.hf_config);
  base.deployment.gpu = cat.gpu(opt.gpu.empty() ? "a100-sxm-80g" : opt.gpu);
  base.deployment.host_link = base.deployment.gpu.host_link;
  return base;
}

}  // namespace

void add_analyze_command(CLI::App& app, AnalyzeOptions& opt) {
  auto* cmd = app.add_subcommand("analyze", "The paper's four metrics for one user at theoretical peak");
  cmd->add_option("scenario", opt.scenario, "Scenario YAML to take the model and hardware from");
  cmd->add_option("--model", opt.model, "Model from platforms/models.yaml");
  cmd->add_option("--hf-config", opt.hf_config, "Model from a Hugging Face config.json");
  cmd->add_option("--gpu", opt.gpu, "GPU from platforms/gpus.yaml");
  cmd->add_option("--tp", opt.tp, "Tensor-parallel GPUs per replica");
  cmd->add_option("--context", opt.contexts,
                  "Context lengths in tokens (e.g. 4K 50K); several allowed (default: the scenario's document, else "
                  "50K; with --compare-compression 50K, 200K and 1M)")
      ->delimiter(',');
  cmd->add_option("--answer-tokens", opt.answer_tokens,
                  "Tokens per answer for the decode latency (default: the scenario's, else 250)");
  cmd->add_option("--host-link", opt.host_link, "Host link from platforms/links.yaml (default: the GPU's)");
  cmd->add_option("--host-link-bw", opt.host_link_bw, "Override the host-link bandwidth, e.g. 20GBps (the paper's)");
  cmd->add_flag("--host-link-per-gpu", opt.host_link_per_gpu, "Each GPU has its own host link (default: shared)");
  cmd->add_option("--compute-efficiency", opt.compute_eff, "Fraction of peak FLOP/s achieved (default 1)");
  cmd->add_option("--memory-efficiency", opt.memory_eff, "Fraction of peak HBM bandwidth achieved (default 1)");
  cmd->add_option("--kv-dtype", opt.kv_dtype, "KV element type: " + dtype_names());
  cmd->add_option("--weights-dtype", opt.weights_dtype, "Weight element type: " + dtype_names());
  cmd->add_option("--compute-dtype", opt.compute_dtype,
                  "Tensor-core dtype whose peak FLOP/s sets compute time: auto (fp8/fp4 weights in that dtype where "
                  "the GPU has it, else bf16), bf16, fp16, fp8, int8 or fp4 (default: the scenario's, else auto)")
      ->check(CLI::IsMember({"auto", "bf16", "fp16", "fp8", "int8", "fp4"}));
  cmd->add_option("--attention-flops", opt.attention_flops,
                  "Prefill attention FLOPs: full (the paper's Eq. 7, the default without a scenario) or causal "
                  "(what vLLM's kernels compute; kvsim run's default); with a SCENARIO, its scheduler.attention_flops")
      ->check(CLI::IsMember({"full", "causal"}));
  cmd->add_option("--sweep", opt.sweeps, "KEY=v1,v2 with KEY in " + join(kSweepKeys) + "; several give a product");
  cmd->add_option("--format", opt.format, "table, json or csv")->check(CLI::IsMember({"table", "json", "csv"}));
  cmd->add_flag("--compare-compression", opt.compare_compression,
                "Table 2: each KV-compression method's change in C, P, D and S (default contexts 50K, 200K, 1M)");
  cmd->add_option("--methods", opt.methods, "With --compare-compression: only these methods (preset names)")
      ->delimiter(',');
  cmd->add_flag("--simulate", opt.simulate,
                "With --compare-compression and a SCENARIO: also each row's session throughput from saturated runs");
  cmd->add_option("--out", opt.out, "--simulate: directory for the runs (default: out/<scenario>-compression)");
  cmd->add_option("--jobs", opt.jobs, "--simulate: runs at once (default: the number of cores)")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--platforms", opt.platforms, "Catalog directory (default: $KVSIM_PLATFORMS or the built-in)");
}

int run_analyze(const AnalyzeOptions& opt) {
  check_number_flags(opt);
  const Catalog cat = Catalog::load(opt.platforms.empty() ? Catalog::default_dir() : std::filesystem::path(opt.platforms));
  std::optional<Scenario> sc;
  if (!opt.scenario.empty()) sc = load_scenario(opt.scenario, {}, cat);
  Case base = base_case(cat, opt, sc ? &*sc : nullptr);
  if (opt.simulate) check_simulate_flags(opt, sc ? &*sc : nullptr);
  if (!opt.methods.empty() && !opt.compare_compression) throw InputError("--methods needs --compare-compression");
  if (opt.compare_compression && !is_identity(base.model.compression)) {
    std::cerr << "note: every row compares against the uncompressed model; the scenario's model.kv_compression is "
                 "left out\n";
    base.model.compression = KvCompression{};
  }
  if (!opt.kv_dtype.empty()) apply(cat, base, "kv_dtype", opt.kv_dtype);
  if (!opt.weights_dtype.empty()) apply(cat, base, "weights_dtype", opt.weights_dtype);
  if (!opt.compute_dtype.empty()) base.compute_dtype = opt.compute_dtype;
  if (!opt.attention_flops.empty()) base.attention = *parse_attention_flops(opt.attention_flops);
  const Lengths lengths = lengths_of(opt, sc ? &*sc : nullptr);

  std::vector<Case> cases = expand(cat, base, lengths.contexts, opt.sweeps);
  for (auto& c : cases) {
    apply_flags(cat, opt, c.deployment);
    set_compute_dtype(c, opt.compute_dtype.empty() ? "model.compute_dtype" : "--compute-dtype");
    if (auto err = validate_deployment(c.deployment); !err.empty()) throw InputError(err);
    if (auto err = validate_model(c.model); !err.empty()) throw InputError("model " + c.model.name + ": " + err);
  }
  if (opt.compare_compression) return run_compare_compression(opt, cases, sc ? &*sc : nullptr, lengths.answer);
  std::vector<PeakReport> rows;
  for (const auto& c : cases)
    rows.push_back(analyze_peak(CostModel(c.model, c.deployment, c.attention), c.context, lengths.answer));
  write_analyze(std::cout, rows, opt.format);
  return 0;
}

}  // namespace kvsim::cli
