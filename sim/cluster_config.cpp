// `cluster.pools.<name>.*`: each pool inherits the scenario's hardware, scheduler and step model, and overrides what
// it names. Pools are numbered in name order, so a scenario's replica numbering does not depend on key order.
#include "sim/cluster_config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "engine/cost/step_model.hpp"
#include "engine/sched/scheduler.hpp"
#include "sim/plausible.hpp"
#include "sim/scenario.hpp"

namespace kvsim {
namespace {

// A string key whose default is empty (so the schema fills no value).
std::string text(const ValueMap& v, const std::string& key) {
  return v.has(key) ? v.string(key) : std::string();
}

const NodeSpec* node_for(const Catalog& cat, const std::string& name, const std::string& gpu) {
  return name.empty() ? cat.node_of_gpu(gpu) : &cat.node(name);
}

PoolRole role_of(const std::string& name) {
  if (name == "prefill") return PoolRole::kPrefill;
  if (name == "decode") return PoolRole::kDecode;
  return PoolRole::kMixed;
}

// A registry name chosen per pool: empty inherits `inherited`; an unknown one lists the valid names.
template <typename Registry>
std::string plugin_name(const ValueMap& v, const std::string& key, const std::string& inherited,
                        const Registry& registry, Diagnostics& diag) {
  const std::string name = text(v, key);
  if (name.empty()) return inherited;
  const auto names = registry.names();
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    diag.add(v.at(key, fmt::format("unknown value '{}'; expected one of: {}", name, join(names))));
  }
  return name;
}

// The pool's deployment: the scenario's, with the pool's GPU (and that GPU's own host link and compute dtype) and
// tensor parallelism.
Deployment pool_deployment(const Scenario& s, const std::string& base, const Catalog& cat, Diagnostics& diag) {
  const ValueMap& v = s.values;
  Deployment d = s.deployment;
  const std::string gpu = text(v, base + ".gpu");
  if (!gpu.empty() && gpu != d.gpu.name) {
    try {
      d.gpu = cat.gpu(gpu);
    } catch (const InputError& e) {
      diag.add(v.at(base + ".gpu", e.what()));
      return d;
    }
    const bool own_link = text(v, "hardware.host_link.catalog").empty();
    if (own_link) d.host_link = d.gpu.host_link;
    const auto dtype = choose_compute_dtype(s.compute_dtype, s.model.weights_dtype, d.gpu);
    if (!dtype) {
      diag.add(v.at(base + ".gpu", fmt::format("GPU {} lists no {} peak for model.compute_dtype; it has {}", d.gpu.name,
                                               s.compute_dtype, compute_dtype_names(d.gpu))));
    }
    d.compute_dtype = dtype.value_or(d.compute_dtype);
  }
  const long tp = v.integer(base + ".tensor_parallel");
  if (tp > 0) d.tensor_parallel = static_cast<int>(tp);
  return d;
}

void set_pool_node(const Scenario& s, const std::string& base, Pool& p, const Catalog& cat, Diagnostics& diag) {
  const ValueMap& v = s.values;
  std::string name = text(v, base + ".node");
  const std::string key = name.empty() ? "hardware.node" : base + ".node";
  if (name.empty()) name = text(v, "hardware.node");
  const NodeSpec* node = nullptr;
  try {
    node = node_for(cat, name, p.deployment.gpu.name);
  } catch (const InputError& e) {
    diag.add(v.at(key, e.what()));
    return;
  }
  if (node) p.gpus_per_node = node->gpus;
  if (v.has("hardware.host_memory")) return;  // as given, per replica
  if (!node) {
    diag.add(v.at(base + ".gpu", fmt::format("no node in nodes.yaml is built around {}, so its CPU memory is unknown; "
                                             "set {}.node or hardware.host_memory",
                                             p.deployment.gpu.name, base)));
    return;
  }
  std::string origin;
  p.deployment.host_memory = node_host_memory(*node, p.deployment.tensor_parallel, origin);
}

Pool read_pool(const Scenario& s, const std::string& base, const Catalog& cat, Diagnostics& diag) {
  const ValueMap& v = s.values;
  Pool p;
  p.name = base.substr(std::string("cluster.pools.").size());
  p.role = role_of(v.string(base + ".role"));
  p.replicas = v.has(base + ".replicas") ? static_cast<int>(v.integer(base + ".replicas")) : 1;
  p.own_nodes = v.boolean(base + ".own_nodes");
  p.deployment = pool_deployment(s, base, cat, diag);
  p.scheduler = plugin_name(v, base + ".scheduler", s.scheduler.type, schedulers(), diag);
  p.step_model = plugin_name(v, base + ".step_model", s.scheduler.step_model, step_models(), diag);
  set_pool_node(s, base, p, cat, diag);
  if (auto err = validate_deployment(p.deployment); !err.empty()) diag.add(v.at(base + ".tensor_parallel", err));
  const bool named_ok = std::all_of(p.name.begin(), p.name.end(),
                                    [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; });
  if (!named_ok) {
    diag.add(v.at(base + ".role", fmt::format("pool name '{}' may hold only letters, digits, '-' and '_'", p.name)));
  }
  return p;
}

// Roles that cannot serve a round alone: a decode pool needs a prefill pool and the other way round.
void check_roles(const Scenario& s, const Topology& t, Diagnostics& diag) {
  int prefill = 0, decode = 0;
  for (const auto& p : t.pools) {
    prefill += p.role == PoolRole::kPrefill;
    decode += p.role == PoolRole::kDecode;
  }
  const auto key = [&](PoolRole r) {
    for (const auto& p : t.pools) {
      if (p.role == r) return "cluster.pools." + p.name + ".role";
    }
    return std::string("cluster.pools");
  };
  if (decode > 0 && prefill == 0) {
    diag.add(s.values.at(key(PoolRole::kDecode),
                         "a decode pool needs a prefill pool to prefill its rounds; add a pool "
                         "with role prefill, or make this one mixed"));
  }
  if (prefill > 0 && decode == 0) {
    diag.add(s.values.at(key(PoolRole::kPrefill),
                         "a prefill pool needs a decode pool to decode its rounds; add a "
                         "pool with role decode, or make this one mixed"));
  }
  const bool mixed =
      std::any_of(t.pools.begin(), t.pools.end(), [](const Pool& p) { return p.role == PoolRole::kMixed; });
  if (mixed && prefill > 0) {
    diag.add(s.values.at(key(PoolRole::kMixed),
                         "mixed pools and a prefill/decode split in one cluster are not "
                         "supported: a round would not know which to use; make every pool mixed "
                         "or split them all"));
  }
}

}  // namespace

double node_host_memory(const NodeSpec& node, int tp, std::string& origin) {
  if (tp <= node.gpus) {
    const int per_node = node.gpus / tp;
    origin = fmt::format("{}'s {} / {} replica{} per node", node.name, format_bytes_binary(node.host_memory), per_node,
                         per_node > 1 ? "s" : "");
    return node.host_memory / per_node;
  }
  const int nodes = (tp + node.gpus - 1) / node.gpus;
  origin = fmt::format("{} x {}'s {}", nodes, node.name, format_bytes_binary(node.host_memory));
  return node.host_memory * nodes;
}

void build_topology(Scenario& s, const Catalog& cat, Diagnostics& diag) {
  const ValueMap& v = s.values;
  Topology t;
  t.network = Network{v.quantity("cluster.network.bandwidth"), v.quantity("cluster.network.latency")};
  t.pd =
      Disaggregation{v.string("cluster.pd.transfer") == "layerwise", v.string("cluster.pd.later_rounds") == "decode"};
  const auto pools = Schema::instances(v, "cluster.pools");
  if (pools.empty()) {
    Pool p{"replicas", PoolRole::kMixed, s.deployment, s.replicas, s.scheduler.type, s.scheduler.step_model, 8};
    const std::string node = text(v, "hardware.node");
    try {
      if (const NodeSpec* n = node_for(cat, node, s.deployment.gpu.name)) p.gpus_per_node = n->gpus;
    } catch (const InputError&) {
      // reported by the host memory's own lookup
    }
    t.pools.push_back(p);
    s.topology = t;
    return;
  }
  t.declared = true;
  if (v.origins.count("hardware.count")) {
    diag.add(v.at("hardware.count",
                  "hardware.count and cluster.pools both give the GPUs; remove hardware.count (each "
                  "pool has replicas x tensor_parallel GPUs)"));
  }
  for (const auto& base : pools) t.pools.push_back(read_pool(s, base, cat, diag));
  for (auto& p : t.pools) p.deployment.nvme_capacity = v.quantity("hardware.nvme.capacity") / t.replica_count();
  check_roles(s, t, diag);
  if (t.replica_count() > plausible::kMaxReplicas) {
    diag.add(v.at(pools.front() + ".replicas", fmt::format("{} replicas over all pools, above the {:g} kvsim simulates",
                                                           t.replica_count(), plausible::kMaxReplicas)));
  }
  s.topology = t;
}

}  // namespace kvsim
