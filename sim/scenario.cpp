#include "sim/scenario.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>

#include "engine/cluster/router.hpp"
#include "engine/cost/step_model.hpp"
#include "engine/offload_policy.hpp"
#include "engine/sched/scheduler.hpp"
#include "engine/units.hpp"
#include "sim/cluster_config.hpp"
#include "sim/fitted_file.hpp"
#include "sim/plausible.hpp"
#include "sim/plugin_keys.hpp"
#include "sim/profile_bundle.hpp"
#include "sim/scenario_checks.hpp"
#include "sim/scenario_override.hpp"
#include "sim/trace_input.hpp"
#include "sim/yaml_load.hpp"

namespace kvsim {
namespace fs = std::filesystem;
namespace {

YAML::Node load_document(const fs::path& file) {
  return load_yaml_file(file);
}

// Applies "a.b.c=value" to the document, creating maps on the way. Unknown keys are caught by validation.
void apply_override(YAML::Node& root, const std::string& text, Diagnostics& diag) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    diag.add(Diagnostic{"--set", text, 0, 0, "", "expected key.path=value"});
    return;
  }
  const std::string path = text.substr(0, eq);
  const std::string value = text.substr(eq + 1);
  std::vector<std::string> parts;
  for (std::size_t s = 0, e; s <= path.size(); s = e + 1) {
    e = path.find('.', s);
    if (e == std::string::npos) e = path.size();
    parts.push_back(path.substr(s, e - s));
  }
  if (!root.IsMap()) root = YAML::Node(YAML::NodeType::Map);
  YAML::Node node = root;
  std::string prefix;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    prefix += (prefix.empty() ? "" : ".") + parts[i];
    YAML::Node child = node[parts[i]];
    if (child.IsScalar() && scenario_schema().find(prefix + ".catalog")) {  // "gpu: a100" becomes {catalog: a100}
      YAML::Node map(YAML::NodeType::Map);
      map["catalog"] = child.Scalar();
      node[parts[i]] = map;
    } else if (!child.IsMap()) {
      node[parts[i]] = YAML::Node(YAML::NodeType::Map);
    }
    node.reset(node[parts[i]]);
  }
  if (!value.empty() && (value.front() == '{' || value.front() == '[')) {  // a flow map or list, as in YAML
    try {
      node[parts.back()] = YAML::Load(value);
      return;
    } catch (const YAML::Exception& e) {
      diag.add(Diagnostic{"--set", path, 0, 0, value, "not a valid YAML flow value: " + e.msg});
      return;
    }
  }
  node[parts.back()] = value;
}

// An integer key stored in an int: a value beyond int's range is an error rather than a silent wrap (4294967296
// GPUs per replica would become 0 and divide by zero). The schema has already checked the lower bound.
int int_value(const ValueMap& v, const std::string& path, Diagnostics& diag) {
  const long value = v.integer(path);
  if (value <= std::numeric_limits<int>::max()) return int(value);
  diag.add(
      v.at(path, fmt::format("value {} is too large; expected at most {}", value, std::numeric_limits<int>::max())));
  return 1;
}

// model.moe_upcycle: the paper's "upcycle to 8 x 34B, top-2" as a scenario key, the same arithmetic as
// `kvsim analyze --sweep moe=8x2`.
void upcycle_from_values(const ValueMap& v, ModelSpec& m, Diagnostics& diag) {
  const char* key = "model.moe_upcycle";
  if (!v.has(key)) return;
  try {
    upcycle_moe(m, key, v.string(key));
  } catch (const InputError&) {
    diag.add(v.at(key, fmt::format("expected EXPERTSxTOPK with 1 <= TOPK <= EXPERTS <= {}, such as 8x2, or dense",
                                   long(plausible::kModelDimOrNone.max))));
  }
}

// The variant note of the catalog entry or config.json, plus the model keys the scenario sets: a report must not
// name a variant that the scenario has changed without saying so.
std::string variant_of(const ValueMap& v, const std::string& base) {
  std::vector<std::string> set;
  for (const KeySpec& k : model_keys("model", false)) {
    const auto it = v.origins.find(k.path);
    if (k.path != "model.description" && it != v.origins.end()) set.push_back(k.path + "=" + it->second.text);
  }
  if (set.empty()) return base;
  return (base.empty() ? "" : base + "; ") + "the scenario sets " + join(set);
}

ModelSpec build_model(const ValueMap& v, const fs::path& file, const Catalog& cat, Diagnostics& diag) {
  ModelSpec base;
  try {
    const std::string hf = v.has("model.hf_config") ? v.string("model.hf_config") : "";
    if (!hf.empty()) {
      const fs::path p = fs::path(hf).is_absolute() ? fs::path(hf) : file.parent_path() / hf;
      base = load_hf_config(p);
    } else {
      base = cat.model(v.string("model.catalog"));
    }
  } catch (const InputError& e) {
    const bool hf = v.has("model.hf_config") && !v.string("model.hf_config").empty();
    diag.add(v.at(hf ? "model.hf_config" : "model.catalog", e.what()));
    return base;
  }
  ModelSpec m;
  try {
    m = model_from_values(v, "model", base);
    m.compression = compression_from_values(v, diag);
    upcycle_from_values(v, m, diag);
  } catch (const InputError& e) {  // a field that does not fit its type; the message names it
    for (const auto& d : e.items()) diag.add(d);
    return base;
  }
  if (auto err = validate_model(m); !err.empty()) {
    const std::string field = "model." + err.substr(0, err.find(' '));  // messages start with the field's name
    diag.add(v.at(v.origins.count(field) ? field : "model.catalog", err));
  }
  if (m.max_context <= 0) {  // the catalog requires it, so only a config.json can lack it
    diag.add(v.at("model.hf_config",
                  "the config has no max_position_embeddings, so the model's context is unknown; "
                  "set model.max_context to it, in tokens"));
  }
  m.variant = variant_of(v, m.variant);
  return m;
}

Deployment build_deployment(const ValueMap& v, const Catalog& cat, Diagnostics& diag) {
  Deployment d;
  const char* key = "hardware.gpu.catalog";
  try {
    d.gpu = cat.gpu(v.string(key));
    d.host_link = d.gpu.host_link;
    key = "hardware.host_link.catalog";
    if (v.has(key) && !v.string(key).empty()) d.host_link = cat.link(v.string(key));
  } catch (const InputError& e) {
    diag.add(v.at(key, e.what()));
    return d;
  }
  for (const auto& f : gpu_peak_fields()) {
    const std::string path = std::string("hardware.gpu.") + f.key;
    if (v.has(path)) d.gpu.*f.field = v.quantity(path);
  }
  if (v.has("hardware.gpu.hbm_capacity")) d.gpu.hbm_capacity = v.quantity("hardware.gpu.hbm_capacity");
  if (v.has("hardware.gpu.hbm_bandwidth")) d.gpu.hbm_bandwidth = v.quantity("hardware.gpu.hbm_bandwidth");
  if (v.has("hardware.host_link.bandwidth")) d.host_link.bandwidth = v.quantity("hardware.host_link.bandwidth");
  d.tensor_parallel = int_value(v, "hardware.tensor_parallel", diag);
  d.host_link_shared = v.boolean("hardware.host_link.shared");
  d.host_link_efficiency = v.quantity("hardware.host_link.efficiency");
  d.compute_efficiency = v.quantity("hardware.compute_efficiency");
  d.memory_efficiency = v.quantity("hardware.memory_efficiency");
  d.activation_reserve = v.quantity("hardware.activation_reserve");
  return d;
}

// CPU memory per replica: `hardware.host_memory` as given, else the node's memory shared by the replicas that fit
// on one node (node GPUs / tensor_parallel), or, for a replica wider than a node, the memory of every node it spans.
void set_host_memory(const ValueMap& v, const Catalog& cat, Scenario& s, Diagnostics& diag) {
  if (v.has("hardware.host_memory")) {
    s.deployment.host_memory = v.quantity("hardware.host_memory");
    s.host_memory_origin = "hardware.host_memory";
    return;
  }
  const std::string name = v.has("hardware.node") ? v.string("hardware.node") : "";
  const NodeSpec* node = nullptr;
  try {
    node = name.empty() ? cat.node_of_gpu(s.deployment.gpu.name) : &cat.node(name);
  } catch (const InputError& e) {
    diag.add(v.at("hardware.node", e.what()));
    return;
  }
  if (node == nullptr) {
    diag.add(v.at("hardware.gpu.catalog", fmt::format("no node in nodes.yaml is built around {}, so its CPU memory "
                                                      "is unknown; set hardware.node or hardware.host_memory",
                                                      s.deployment.gpu.name)));
    return;
  }
  s.deployment.host_memory = node_host_memory(*node, s.deployment.tensor_parallel, s.host_memory_origin);
}

// model.compute_dtype picks the GPU's peak; a dtype the GPU does not list is refused at the key.
void set_compute_dtype(const ValueMap& v, const std::string& setting, const ModelSpec& m, Deployment& d,
                       Diagnostics& diag) {
  if (d.gpu.name.empty()) return;  // the GPU did not load; that is reported already
  if (const auto t = choose_compute_dtype(setting, m.weights_dtype, d.gpu)) {
    d.compute_dtype = *t;
    return;
  }
  diag.add(v.at("model.compute_dtype",
                fmt::format("GPU {} lists no {} peak in gpus.yaml (or hardware.gpu.flops_{}); it has {}; use one "
                            "of those or auto",
                            d.gpu.name, setting, setting, compute_dtype_names(d.gpu))));
}

WorkloadSpec build_workload(const ValueMap& v, Diagnostics& diag) {
  WorkloadSpec w;
  w.document_tokens = v.dist("workload.document_tokens");
  w.question_tokens = v.dist("workload.question_tokens");
  w.answer_tokens = v.dist("workload.answer_tokens");
  w.rounds = v.dist("workload.rounds");
  w.think_time = v.dist("workload.think_time");
  w.arrival.type = v.string("workload.arrival.type");
  w.arrival.users = v.integer("workload.arrival.users");
  w.arrival.ramp_up = v.quantity("workload.arrival.ramp_up");
  if (v.has("workload.arrival.rate")) w.arrival.rate = v.quantity("workload.arrival.rate");
  if (v.has("workload.arrival.times"))
    w.arrival.times = std::get<std::vector<double>>(v.values.at("workload.arrival.times"));
  w.duration = v.quantity("workload.duration");
  w.max_sessions = v.integer("workload.sessions");
  w.warmup = v.quantity("workload.warmup");
  // Sessions come from the trace (read_trace_section): the synthetic arrival keys are not used.
  if (v.has("workload.trace.path") && !v.string("workload.trace.path").empty()) return w;
  const auto& t = w.arrival.type;
  auto at_given = [&](const char* key) { return v.origins.count(key) ? key : "workload.arrival.type"; };
  if (t == "poisson" && !(w.arrival.rate > 0)) {
    diag.add(
        v.at(at_given("workload.arrival.rate"), "arrival type poisson needs workload.arrival.rate > 0, e.g. 60/h"));
  }
  if (t == "closed" && w.arrival.users < 1) {
    diag.add(v.at(at_given("workload.arrival.users"), "arrival type closed needs workload.arrival.users >= 1"));
  }
  if (t == "list" && w.arrival.times.empty()) {
    diag.add(v.at("workload.arrival.type", "arrival type list needs workload.arrival.times, e.g. [0s, 10s]"));
  }
  if (w.warmup >= w.duration) {
    diag.add(v.at("workload.warmup", fmt::format("warmup ({:g} s) must be shorter than workload.duration ({:g} s)",
                                                 w.warmup, w.duration)));
  }
  return w;
}

// workload.trace: reads the trace now, so that a bad trace is refused before anything runs. A `preloaded` trace
// (kvsim replay) stands for the file at workload.trace.path, which is then not read.
void read_trace_section(const ValueMap& v, const fs::path& file, WorkloadSpec& w, Diagnostics& diag,
                        std::shared_ptr<const Trace> preloaded) {
  const std::string path = v.has("workload.trace.path") ? v.string("workload.trace.path") : "";
  if (path.empty()) return;
  w.trace.path = fs::path(path).is_absolute() ? path : (file.parent_path() / path).lexically_normal().string();
  w.trace.speedup = v.quantity("workload.trace.speedup");
  if (preloaded) {
    w.trace.trace = std::move(preloaded);
    return;
  }
  TraceOptions o;
  o.format = v.string("workload.trace.format") == "auto" ? "" : v.string("workload.trace.format");
  o.block_tokens = v.integer("workload.trace.block_tokens");
  o.skip_errors = v.string("workload.trace.on_error") == "skip";
  o.max_requests = v.integer("workload.trace.max_requests");
  o.session_sample = v.quantity("workload.trace.session_sample");
  if (o.format.empty() && guess_trace_format(w.trace.path).empty()) {
    diag.add(
        v.at("workload.trace.format", "cannot tell the trace format from the file name; set workload.trace.format"));
    return;
  }
  try {
    auto trace = std::make_shared<Trace>(load_trace_input(w.trace.path, o));
    if (trace->sessions.empty()) {
      diag.add(v.at("workload.trace.path", fmt::format("trace {} has no request to replay", w.trace.path)));
    }
    w.trace.trace = std::move(trace);
  } catch (const InputError& e) {
    for (const auto& d : e.items()) diag.add(v.at("workload.trace.path", "bad trace: " + d.str()));
  }
}

}  // namespace

namespace {
Scenario build_scenario(YAML::Node root, const fs::path& file, const std::vector<std::string>& overrides,
                        const Catalog& catalog, std::shared_ptr<const Trace> trace = nullptr);
}  // namespace

double parse_flag_quantity(const std::string& flag, const std::string& text, Dim dim, double min) {
  auto q = parse_quantity(text, dim);
  if (!q.value) throw InputError(std::vector<Diagnostic>{{"", flag, 0, 0, "", q.error}});
  if (*q.value < min) {
    throw InputError(std::vector<Diagnostic>{{"", flag, 0, 0, text, fmt::format("expected a value >= {:g}", min)}});
  }
  return *q.value;
}

void upcycle_moe(ModelSpec& model, const std::string& flag, const std::string& spec) {
  if (spec == "dense") return;
  const auto x = spec.find('x');
  // Whole numbers up to the plausible expert count: atoi would wrap 99999999999 into a small or negative count.
  auto count = [](std::string_view t) {
    long v = 0;
    const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    const bool ok = ec == std::errc() && ptr == t.data() + t.size() && v <= plausible::kModelDimOrNone.max;
    return ok ? v : 0L;
  };
  const long e = x == std::string::npos ? 0 : count(std::string_view(spec).substr(0, x));
  const long k = x == std::string::npos ? 0 : count(std::string_view(spec).substr(x + 1));
  if (e < 1 || k < 1 || k > e) {
    throw InputError(std::vector<Diagnostic>{{"", flag, 0, 0, spec, "expected EXPERTSxTOPK such as 8x2, or dense"}});
  }
  model.params_active = model.params * double(k);
  model.params = model.params * double(e);
  model.num_experts = int(e);
  model.experts_per_token = int(k);
  model.name += fmt::format("-moe{}x{}", e, k);
}

Scenario load_scenario(const fs::path& file, const std::vector<std::string>& overrides, const Catalog& catalog) {
  return build_scenario(load_document(file), file, overrides, catalog);
}

Scenario load_scenario_text(const std::string& text, const fs::path& name, const std::vector<std::string>& overrides,
                            const Catalog& catalog) {
  return build_scenario(load_yaml_text(text, name.string()), name, overrides, catalog);
}

Scenario load_scenario_text(const std::string& text, const fs::path& name, const std::vector<std::string>& overrides,
                            const Catalog& catalog, std::shared_ptr<const Trace> trace) {
  return build_scenario(load_yaml_text(text, name.string()), name, overrides, catalog, std::move(trace));
}

namespace {
Scenario build_scenario(YAML::Node root, const fs::path& file, const std::vector<std::string>& overrides,
                        const Catalog& catalog, std::shared_ptr<const Trace> trace) {
  Diagnostics diag;
  for (const auto& o : overrides) apply_override(root, o, diag);
  Scenario s;
  s.file = file;
  s.values = scenario_schema().read(root, file.string(), diag);
  if (!diag.empty()) throw InputError(diag.items());
  // vLLM preempts by recompute unless told otherwise: vllm-v1's default policy.
  if (s.values.string("scheduler.type") == "vllm-v1" && !s.values.origins.count("scheduler.kv_offload.policy")) {
    s.values.values["scheduler.kv_offload.policy"] = std::string("recompute");
  }
  const ValueMap& v = s.values;
  s.model = build_model(v, file, catalog, diag);
  s.deployment = build_deployment(v, catalog, diag);
  s.compute_dtype = v.string("model.compute_dtype");
  set_compute_dtype(v, s.compute_dtype, s.model, s.deployment, diag);
  s.workload = build_workload(v, diag);
  read_trace_section(v, file, s.workload, diag, std::move(trace));
  s.scheduler =
      SchedulerSpec{v.string("scheduler.type"),
                    plugin_params(v, "scheduler.type", "scheduler", schedulers(), diag),
                    v.string("step_model.type"),
                    plugin_params(v, "step_model.type", "step_model", step_models(), diag),
                    v.integer("scheduler.max_batch_tokens"),
                    v.integer("scheduler.max_batch_size"),
                    v.integer("scheduler.block_tokens"),
                    v.string("scheduler.kv_offload.policy"),
                    v.string("scheduler.kv_offload.victim"),
                    *parse_attention_flops(v.string("scheduler.attention_flops")),
                    plugin_params(v, "scheduler.kv_offload.policy", "scheduler.kv_offload", offload_policies(), diag),
                    v.boolean("scheduler.prefix_cache"),
                    v.boolean("scheduler.fast_forward")};
  check_fitted_coefficients_key(v, file, diag);
  s.router = v.string("router.type");
  s.router_params = plugin_params(v, "router.type", "router", routers(), diag);
  s.slo = SloSpec{v.quantity("slo.ttft"), v.quantity("slo.decode_rate")};
  s.seed = static_cast<std::uint64_t>(v.integer("seed"));
  s.timeline_period = v.quantity("output.timeline_period");
  const int count = int_value(v, "hardware.count", diag);
  s.gpu_count = count == 0 ? s.deployment.tensor_parallel : count;
  if (s.gpu_count % s.deployment.tensor_parallel != 0) {
    diag.add(v.at("hardware.count", fmt::format("hardware.count ({}) must be a multiple of tensor_parallel ({})",
                                                s.gpu_count, s.deployment.tensor_parallel)));
  }
  s.replicas = std::max(1, s.gpu_count / s.deployment.tensor_parallel);
  check_scenario_rules(s, diag);
  if (diag.empty()) s.step_profile = read_step_profile(v, file, s.scheduler.step_model, s.model, s.deployment, diag);
  set_host_memory(v, catalog, s, diag);
  s.deployment.nvme_capacity = v.quantity("hardware.nvme.capacity") / s.replicas;
  s.deployment.nvme_bandwidth = v.quantity("hardware.nvme.bandwidth");
  if (diag.empty()) {
    if (auto err = validate_deployment(s.deployment); !err.empty()) {
      const bool tp = err.starts_with("tensor_parallel");
      diag.add(tp ? v.at("hardware.tensor_parallel", err) : Diagnostic{file.string(), "hardware", 0, 0, "", err});
    }
  }
  if (diag.empty()) build_topology(s, catalog, diag);
  if (s.topology.declared) {
    s.replicas = s.topology.replica_count();
    s.gpu_count = s.topology.gpu_count();
  }
  diag.throw_if_any();
  return s;
}

}  // namespace

void apply_scenario_override(YAML::Node& root, const std::string& text, Diagnostics& diag) {
  apply_override(root, text, diag);
}

}  // namespace kvsim
