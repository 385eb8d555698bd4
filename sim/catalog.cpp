#include "sim/catalog.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <sstream>

#include "sim/plausible.hpp"
#include "sim/yaml_load.hpp"

namespace kvsim {
namespace fs = std::filesystem;
namespace {

using plausible::Range;

// A catalog quantity within the same plausible range as the scenario key that overrides it.
KeySpec q(std::string path, Dim dim, std::string desc, Range r, bool required = true) {
  return plausible::within(KeySpec{.path = std::move(path),
                                   .type = KeyType::kQuantity,
                                   .dim = dim,
                                   .required = required,
                                   .description = std::move(desc)},
                           r);
}

KeySpec text(std::string path, std::string desc, bool required = false) {
  return KeySpec{
      .path = std::move(path), .type = KeyType::kString, .required = required, .description = std::move(desc)};
}

KeySpec sources() {
  return KeySpec{.path = "source",
                 .type = KeyType::kStringMap,
                 .required = true,
                 .description = "map from each numeric field to the document its value comes from"};
}

// One dense tensor peak per compute dtype: flops_bf16 is required, the others are listed where the GPU has them.
Schema gpu_schema() {
  std::vector<KeySpec> keys{text("description", "what the entry is")};
  for (const auto& f : gpu_peak_fields()) {
    keys.push_back(q(f.key, Dim::kFlopRate, "dense " + dtype_name(f.dtype) + " tensor peak, no sparsity",
                     plausible::kFlopRate, f.dtype == DType::kBf16));
  }
  for (auto k :
       {q("hbm_capacity", Dim::kBytes, "HBM capacity", plausible::kMemory),
        q("hbm_bandwidth", Dim::kBandwidth, "HBM bandwidth", plausible::kBandwidth),
        text("host_link", "links.yaml entry from GPU to CPU memory", true),
        text("nvlink", "links.yaml entry from GPU to GPU (omit if none)"),
        text("device_names", "the names torch/vLLM report for the GPU (torch.cuda.get_device_name), separated by ';'"),
        sources()}) {
    keys.push_back(std::move(k));
  }
  return Schema(std::move(keys));
}

Schema link_schema() {
  KeySpec eff = q("typical_efficiency", Dim::kRatio, "achievable fraction of bandwidth for large copies",
                  plausible::kEfficiency, false);
  eff.default_value = "1";
  // 0 .. 1 s one way: a link across the planet takes ~0.1 s.
  KeySpec latency = q("latency", Dim::kTime, "one-way latency", Range{0, 1}, false);
  latency.default_value = "0s";
  return Schema({text("description", "what the entry is"),
                 q("bandwidth", Dim::kBandwidth, "per direction", plausible::kBandwidth),
                 KeySpec{.path = "duplex",
                         .type = KeyType::kChoice,
                         .default_value = "full",
                         .choices = {"full", "half"},
                         .description = "full: each direction has the bandwidth"},
                 latency, eff, sources()});
}

Schema node_schema() {
  // 1 .. 1024 GPUs in one node (a rack-scale NVL72 has 72), as plausible::kTensorParallel.
  KeySpec gpus =
      plausible::within(KeySpec{.path = "gpus", .type = KeyType::kInteger, .required = true, .description = "GPUs"},
                        plausible::kTensorParallel);
  KeySpec share = plausible::within(KeySpec{.path = "gpus_per_host_link",
                                            .type = KeyType::kInteger,
                                            .default_value = "1",
                                            .description = "GPUs sharing one host link"},
                                    plausible::kTensorParallel);
  return Schema({text("description", "what the entry is"), text("gpu", "gpus.yaml entry", true), gpus,
                 text("host_link", "links.yaml entry", true), share,
                 q("host_memory", Dim::kBytes, "CPU memory of the node", plausible::kMemory), sources()});
}

// Every numeric field that is present must name its source.
void check_sources(const ValueMap& v, const std::string& entry, Diagnostics& diag) {
  const auto it = v.values.find("source");
  const auto* notes = it == v.values.end() ? nullptr : std::get_if<std::map<std::string, std::string>>(&it->second);
  for (const auto& [path, value] : v.values) {
    const bool numeric = std::holds_alternative<double>(value) || std::holds_alternative<long>(value);
    if (!numeric || !v.origins.count(path)) continue;  // defaults need no source
    if (!notes || notes->count(path) == 0 || notes->at(path).empty()) {
      Diagnostic d = v.at(path, "number has no source note; add '" + path + ": <datasheet>' under source");
      d.key = entry + "." + path;
      diag.add(d);
    }
  }
}

template <typename Build>
void load_entries(const fs::path& file, const Schema& schema, Diagnostics& diag, Build build) {
  const YAML::Node root = load_yaml_file(file);
  if (!root.IsMap()) {
    diag.add(Diagnostic{file.string(), "", 0, 0, "", "expected a map from entry names to entries"});
    return;
  }
  for (const auto& kv : root) {
    if (!kv.first.IsScalar()) {  // "? [a, b]: ..." is valid YAML, but an entry needs a plain name
      const auto m = kv.first.Mark();
      diag.add(Diagnostic{file.string(), "", m.is_null() ? 0 : m.line + 1, m.is_null() ? 0 : m.column + 1, "",
                          "expected a plain entry name, got a list or map used as a key"});
      continue;
    }
    const std::string name = kv.first.Scalar();
    const std::size_t before = diag.size();
    ValueMap v = schema.read(kv.second, file.string(), diag, name);
    check_sources(v, name, diag);
    if (diag.size() == before) build(name, v);
  }
}

template <typename Map>
const typename Map::mapped_type& lookup(const Map& map, const std::string& kind, const std::string& name) {
  auto it = map.find(name);
  if (it != map.end()) return it->second;
  std::vector<std::string> names;
  for (const auto& [k, _] : map) names.push_back(k);
  const auto near = closest_match(name, names);
  throw InputError(fmt::format("unknown {} '{}'{}; valid: {}", kind, name,
                               near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near), join(names)));
}

template <typename Map>
std::vector<std::string> names_of(const Map& map) {
  std::vector<std::string> out;
  for (const auto& [k, _] : map) out.push_back(k);
  return out;
}

std::string opt_string(const ValueMap& v, const std::string& path) {
  return v.has(path) ? v.string(path) : "";
}

// A gpus.yaml entry's numbers; its links are looked up by the caller.
GpuSpec gpu_from_values(const std::string& name, const ValueMap& v) {
  GpuSpec g;
  g.name = name;
  g.description = opt_string(v, "description");
  for (const auto& f : gpu_peak_fields()) {
    if (v.has(f.key)) g.*f.field = v.quantity(f.key);
  }
  g.hbm_capacity = v.quantity("hbm_capacity");
  g.hbm_bandwidth = v.quantity("hbm_bandwidth");
  return g;
}

}  // namespace

fs::path Catalog::default_dir() {
  if (const char* env = std::getenv("KVSIM_PLATFORMS"); env && *env) return env;
  return KVSIM_PLATFORMS_DIR;
}

Catalog Catalog::load(const fs::path& dir) {
  Catalog c;
  Diagnostics diag;
  load_entries(dir / "links.yaml", link_schema(), diag, [&](const std::string& name, const ValueMap& v) {
    c.links_[name] = LinkSpec{name, opt_string(v, "description"), v.quantity("bandwidth"), v.quantity("latency"),
                              v.quantity("typical_efficiency")};
  });
  load_entries(dir / "models.yaml", Schema(model_keys("", true)), diag,
               [&](const std::string& name, const ValueMap& v) {
                 ModelSpec m;
                 try {
                   m = model_from_values(v, "", ModelSpec{});
                 } catch (const InputError& e) {
                   for (auto d : e.items()) {
                     d.key = name + "." + d.key;
                     diag.add(std::move(d));
                   }
                   return;
                 }
                 m.name = name;
                 if (v.has("hf_name") && !v.string("hf_name").empty()) c.hf_names_[name] = v.string("hf_name");
                 if (auto err = validate_model(m); !err.empty()) {
                   diag.add(Diagnostic{(dir / "models.yaml").string(), name, 0, 0, "", err});
                 }
                 c.models_[name] = m;
               });
  const auto gpu_file = (dir / "gpus.yaml").string();
  load_entries(dir / "gpus.yaml", gpu_schema(), diag, [&](const std::string& name, const ValueMap& v) {
    GpuSpec g = gpu_from_values(name, v);
    for (const auto& [field, slot] : {std::pair{"host_link", &g.host_link}, std::pair{"nvlink", &g.nvlink}}) {
      const std::string link = opt_string(v, field);
      if (link.empty()) continue;
      if (c.links_.count(link)) {
        *slot = c.links_.at(link);
      } else {
        diag.add(v.at(field, fmt::format("unknown link; valid: {}", join(names_of(c.links_)))));
      }
    }
    c.gpus_[name] = g;
    std::stringstream names(opt_string(v, "device_names"));
    for (std::string d; std::getline(names, d, ';');) {
      if (!trim(d).empty()) c.device_names_[name].push_back(trim(d));
    }
  });
  load_entries(dir / "nodes.yaml", node_schema(), diag, [&](const std::string& name, const ValueMap& v) {
    NodeSpec n{name,
               opt_string(v, "description"),
               v.string("gpu"),
               int(v.integer("gpus")),
               v.string("host_link"),
               int(v.integer("gpus_per_host_link")),
               v.quantity("host_memory")};
    if (!c.gpus_.count(n.gpu)) diag.add(v.at("gpu", "unknown GPU; valid: " + join(names_of(c.gpus_))));
    if (!c.links_.count(n.host_link)) diag.add(v.at("host_link", "unknown link; valid: " + join(names_of(c.links_))));
    c.nodes_[name] = n;
  });
  diag.throw_if_any();
  return c;
}

const GpuSpec& Catalog::gpu(const std::string& name) const {
  return lookup(gpus_, "GPU", name);
}
const LinkSpec& Catalog::link(const std::string& name) const {
  return lookup(links_, "link", name);
}
const ModelSpec& Catalog::model(const std::string& name) const {
  return lookup(models_, "model", name);
}
const NodeSpec& Catalog::node(const std::string& name) const {
  return lookup(nodes_, "node", name);
}
const NodeSpec* Catalog::node_of_gpu(const std::string& gpu) const {
  for (const auto& [name, n] : nodes_) {
    if (n.gpu == gpu) return &n;
  }
  return nullptr;
}
namespace {
// Lower case, letters and digits only: "RTXPRO6000", "rtx-pro-6000" and "RTX PRO 6000" are one key.
std::string folded(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c)) out += char(std::tolower(c));
  }
  return out;
}
}  // namespace

std::string Catalog::gpu_by_device_name(const std::string& device) const {
  for (const auto& [name, devices] : device_names_) {
    for (const auto& d : devices) {
      if (d == trim(device)) return name;
    }
  }
  return "";
}

std::string Catalog::gpu_by_folder_name(const std::string& folder) const {
  const std::string key = folded(folder);
  if (key.empty()) return "";
  for (const auto& [name, _] : gpus_) {
    if (folded(name) == key) return name;
  }
  for (const auto& [name, devices] : device_names_) {
    for (const auto& d : devices) {
      if (folded(d) == key || folded(d) == "nvidia" + key || folded(d) == "nvidiageforce" + key) return name;
    }
  }
  return "";
}

std::string Catalog::model_by_hf_name(const std::string& hf_name) const {
  auto lower = [](std::string t) {
    for (char& c : t) c = char(std::tolower(static_cast<unsigned char>(c)));
    return t;
  };
  for (const auto& [name, hf] : hf_names_) {
    if (lower(hf) == lower(trim(hf_name))) return name;
  }
  return "";
}

std::string Catalog::hf_name(const std::string& model) const {
  const auto it = hf_names_.find(model);
  return it == hf_names_.end() ? "" : it->second;
}

std::vector<std::string> Catalog::gpu_names() const {
  return names_of(gpus_);
}
std::vector<std::string> Catalog::link_names() const {
  return names_of(links_);
}
std::vector<std::string> Catalog::model_names() const {
  return names_of(models_);
}
std::vector<std::string> Catalog::node_names() const {
  return names_of(nodes_);
}

}  // namespace kvsim
