#include "sim/profile_bundle.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>

#include "sim/diagnostics.hpp"
#include "sim/input_file.hpp"
#include "sim/yaml_load.hpp"

namespace kvsim {
namespace fs = std::filesystem;
namespace {

[[noreturn]] void refuse(const fs::path& file, const std::string& key, int line, int column, const std::string& value,
                         const std::string& message) {
  throw InputError(std::vector<Diagnostic>{{file.string(), key, line, column, value, message}});
}

// One data line of a CSV file: its fields and where each starts (1-based character column).
struct CsvRow {
  int line = 0;
  std::vector<std::string> fields;
  std::vector<int> columns;
};

struct Csv {
  fs::path file;
  std::vector<std::string> header;
  std::vector<CsvRow> rows;

  // Field `i` of `r` as a finite number >= `min` (> 0 when `positive`).
  double number(const CsvRow& r, std::size_t i, bool positive = false, bool any_sign = false) const {
    const std::string& f = r.fields[i];
    double v = 0;
    const auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
    if (f.empty() || ec != std::errc() || end != f.data() + f.size() || !std::isfinite(v)) {
      refuse(file, header[i], r.line, r.columns[i], f, "expected a number");
    }
    if (any_sign) return v;
    if (positive ? !(v > 0) : v < 0) {
      refuse(file, header[i], r.line, r.columns[i], f, positive ? "expected a number > 0" : "expected a number >= 0");
    }
    return v;
  }
};

CsvRow split(const std::string& text, int line) {
  CsvRow r;
  r.line = line;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    r.fields.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    r.columns.push_back(int(start) + 1);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return r;
}

// Reads `file`, which must start with exactly `header` and hold at least one data line of that many columns.
Csv read_csv(const fs::path& file, std::vector<std::string> header) {
  check_input_file(file, "a CSV file", kMaxProfileCsvBytes, "16 MiB");
  std::ifstream in(file, std::ios::binary);
  const std::string text(std::istreambuf_iterator<char>(in), {});
  if (!in.is_open() || in.bad()) refuse(file, "", 0, 0, "", "cannot read file");
  Csv csv{file, std::move(header), {}};
  const std::string expected = join(csv.header, ",");
  std::size_t pos = 0;
  for (int line = 1; pos < text.size() || line == 1; ++line) {
    const std::size_t nl = text.find('\n', pos);
    std::string l = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    if (!l.empty() && l.back() == '\r') l.pop_back();
    if (line == 1) {
      if (l != expected) refuse(file, "header", 1, 1, l, fmt::format("expected the header '{}'", expected));
      continue;
    }
    if (trim(l).empty()) continue;
    CsvRow r = split(l, line);
    if (r.fields.size() != csv.header.size()) {
      refuse(file, "", line, 1, l,
             fmt::format("expected {} columns ({}), got {}", csv.header.size(), expected, r.fields.size()));
    }
    for (auto& f : r.fields) f = trim(f);
    csv.rows.push_back(std::move(r));
  }
  if (csv.rows.empty()) refuse(file, "", 0, 0, "", fmt::format("has no data line under the header '{}'", expected));
  return csv;
}

// layer,<axis>,time_us into one Table1D per layer; a repeated (layer, axis value) is refused.
std::map<std::string, Table1D> read_layer_tables(const fs::path& file, const std::string& axis) {
  const Csv csv = read_csv(file, {"layer", axis, "time_us"});
  std::map<std::string, std::vector<std::pair<double, double>>> points;
  std::map<std::pair<std::string, double>, int> seen;
  for (const auto& r : csv.rows) {
    if (r.fields[0].empty()) refuse(file, "layer", r.line, r.columns[0], "", "expected a layer name");
    const double x = csv.number(r, 1, true);
    const double us = csv.number(r, 2);
    const auto [it, fresh] = seen.emplace(std::make_pair(r.fields[0], x), r.line);
    if (!fresh) {
      refuse(file, axis, r.line, r.columns[1], r.fields[1],
             fmt::format("layer {} at {} {} is already on line {}", r.fields[0], axis, r.fields[1], it->second));
    }
    points[r.fields[0]].emplace_back(x, us);
  }
  std::map<std::string, Table1D> tables;
  for (auto& [name, p] : points) {
    std::sort(p.begin(), p.end());
    Table1D& t = tables[name];
    for (const auto& [x, us] : p) {
      t.x.push_back(x);
      t.us.push_back(us);
    }
  }
  return tables;
}

AttentionTable read_attention(const fs::path& file) {
  const Csv csv = read_csv(file, {"prefill_chunk", "kv_prefill", "n_decode", "kv_decode", "time_us"});
  std::vector<AttentionRow> rows;
  std::map<std::vector<double>, int> seen;
  for (const auto& r : csv.rows) {
    AttentionRow a{csv.number(r, 0), csv.number(r, 1), csv.number(r, 2), csv.number(r, 3), csv.number(r, 4)};
    if (a.prefill_chunk == 0 && a.n_decode == 0) {
      refuse(file, "", r.line, 1, r.fields[0] + "," + r.fields[2], "a step with no prefill chunk and no decode");
    }
    const auto [it, fresh] =
        seen.emplace(std::vector<double>{a.prefill_chunk, a.kv_prefill, a.n_decode, a.kv_decode}, r.line);
    if (!fresh) refuse(file, "", r.line, 1, "", fmt::format("the same shape is already on line {}", it->second));
    rows.push_back(a);
  }
  return AttentionTable(std::move(rows));
}

std::vector<MoeRow> read_moe(const fs::path& file) {
  const Csv csv = read_csv(file, {"tokens", "activated_experts", "time_us"});
  std::vector<MoeRow> rows;
  std::map<std::pair<double, double>, int> seen;
  for (const auto& r : csv.rows) {
    MoeRow m{csv.number(r, 0, true), csv.number(r, 1, true), csv.number(r, 2)};
    const auto [it, fresh] = seen.emplace(std::make_pair(m.tokens, m.activated_experts), r.line);
    if (!fresh) refuse(file, "", r.line, 1, "", fmt::format("the same point is already on line {}", it->second));
    rows.push_back(m);
  }
  return rows;
}

std::string meta_string(const YAML::Node& meta, const fs::path& file, const std::string& key) {
  const YAML::Node n = meta[key];
  if (!n || !n.IsScalar() || n.Scalar().empty()) {
    const int line = n ? n.Mark().line + 1 : 0;
    refuse(file, key, line, 0, "", fmt::format("expected `{}:` naming the profiled {}", key, key));
  }
  return n.Scalar();
}

// meta.yaml's `key` under `node` as a list of `T`, refused naming the key when absent or not such a list.
template <typename T>
std::vector<T> meta_list(const YAML::Node& node, const fs::path& file, const std::string& key) {
  const YAML::Node n = node[key];
  try {
    if (n && n.IsSequence() && n.size() > 0) return n.as<std::vector<T>>();
  } catch (const YAML::Exception&) {
  }
  refuse(file, "skew_fit.bucket_axes." + key, n ? n.Mark().line + 1 : 0, n ? n.Mark().column + 1 : 0, "",
         "expected a non-empty list of bucket edges or labels");
}

// tp<N>/skew_fit.csv (legacy columns) into alpha by bucket; every label must be one of meta.yaml's.
void read_skew_table(const fs::path& file, SkewFit& fit) {
  const Csv csv =
      read_csv(file, {"pc", "n_label", "skew_rate_label", "kv_big_label", "kp_label", "alpha", "n_samples"});
  const std::vector<std::string>* axes[] = {&fit.n_labels, &fit.skew_rate_labels, &fit.kv_big_labels, &fit.kp_labels};
  for (const auto& r : csv.rows) {
    const double pc = csv.number(r, 0);
    if (pc != std::trunc(pc)) refuse(file, "pc", r.line, r.columns[0], r.fields[0], "expected a whole token count");
    for (int i = 0; i < 4; ++i) {
      if (std::find(axes[i]->begin(), axes[i]->end(), r.fields[1 + i]) == axes[i]->end()) {
        refuse(file, csv.header[1 + i], r.line, r.columns[1 + i], r.fields[1 + i],
               fmt::format("expected one of meta.yaml's labels: {}", join(*axes[i])));
      }
    }
    const double alpha = csv.number(r, 5, false, true);
    csv.number(r, 6);
    const std::string key = SkewFit::bucket_key(std::to_string(static_cast<long long>(pc)), r.fields[1], r.fields[2],
                                                r.fields[3], r.fields[4]);
    if (!fit.alpha.emplace(key, alpha).second) refuse(file, "", r.line, 1, "", "the same bucket is on an earlier line");
  }
}

// meta.yaml `skew_fit`, when enabled for this tp: its bucket axes, pooled alpha and table.
std::optional<SkewFit> read_skew(const YAML::Node& meta, const fs::path& dir, int tp) {
  const fs::path file = dir / "meta.yaml";
  const YAML::Node block = meta["skew_fit"];
  if (!block || !block.IsMap() || !block["enabled"] || block["enabled"].Scalar() != "true") return std::nullopt;
  const YAML::Node per_tp = block["per_tp"];
  const YAML::Node entry = per_tp && per_tp.IsMap() ? per_tp[tp] : YAML::Node();
  if (!entry || !entry.IsMap()) return std::nullopt;
  const YAML::Node axes = block["bucket_axes"];
  if (!axes || !axes.IsMap()) refuse(file, "skew_fit.bucket_axes", 0, 0, "", "expected the skew fit's bucket axes");
  SkewFit fit;
  fit.n_bins = meta_list<double>(axes, file, "n_bins");
  fit.skew_rate_bins = meta_list<double>(axes, file, "skew_rate_bins");
  fit.kv_big_bins = meta_list<double>(axes, file, "kv_big_bins");
  fit.kp_bins = meta_list<double>(axes, file, "kp_bins");
  fit.n_labels = meta_list<std::string>(axes, file, "n_labels");
  fit.skew_rate_labels = meta_list<std::string>(axes, file, "skew_rate_labels");
  fit.kv_big_labels = meta_list<std::string>(axes, file, "kv_big_labels");
  fit.kp_labels = meta_list<std::string>(axes, file, "kp_labels");
  try {
    fit.alpha_default = entry["alpha_default"] ? entry["alpha_default"].as<double>() : 0.0;
  } catch (const YAML::Exception&) {
    refuse(file, fmt::format("skew_fit.per_tp.{}.alpha_default", tp), entry["alpha_default"].Mark().line + 1, 0,
           entry["alpha_default"].Scalar(), "expected a number");
  }
  const std::string table =
      entry["bucket_table"] ? entry["bucket_table"].Scalar() : fmt::format("tp{}/skew_fit.csv", tp);
  read_skew_table(dir / table, fit);
  return fit;
}

// The tp<N> directories the bundle has, for the message when the one asked for is missing.
std::string tp_dirs(const fs::path& dir) {
  std::set<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    if (e.is_directory(ec) && n.starts_with("tp")) names.insert(n);
  }
  return names.empty() ? "none" : join(std::vector<std::string>(names.begin(), names.end()));
}

}  // namespace

ProfileTables load_profile_bundle(const fs::path& dir, int tp) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    refuse(dir, "", 0, 0, "", "is not a directory; expected a profile bundle directory holding meta.yaml and tp<N>/");
  }
  const fs::path meta_file = dir / "meta.yaml";
  const YAML::Node meta = load_yaml_file(meta_file);
  if (!meta.IsMap()) refuse(meta_file, "", 0, 0, "", "expected a mapping with hardware: and model:");
  ProfileTables t;
  t.hardware = meta_string(meta, meta_file, "hardware");
  t.model = meta_string(meta, meta_file, "model");
  t.tp = tp;
  const fs::path tp_dir = dir / fmt::format("tp{}", tp);
  if (!fs::is_directory(tp_dir, ec)) {
    refuse(tp_dir, "", 0, 0, "",
           fmt::format("the bundle has no profile at tensor_parallel {} (it has: {}); set hardware.tensor_parallel to "
                       "a profiled degree or profile this one",
                       tp, tp_dirs(dir)));
  }
  t.dense = read_layer_tables(tp_dir / "dense.csv", "tokens");
  for (const char* once : {"embedding", "final_layernorm"}) {
    if (!t.dense.count(once)) refuse(tp_dir / "dense.csv", "layer", 0, 0, "", fmt::format("has no {} rows", once));
  }
  if (t.dense.size() < 3) refuse(tp_dir / "dense.csv", "layer", 0, 0, "", "has no decoder-layer rows");
  t.per_sequence = read_layer_tables(tp_dir / "per_sequence.csv", "sequences");
  t.attention = read_attention(tp_dir / "attention.csv");
  if (fs::exists(tp_dir / "moe.csv", ec)) t.moe = read_moe(tp_dir / "moe.csv");
  t.skew = read_skew(meta, dir, tp);
  return t;
}

}  // namespace kvsim

namespace kvsim {
namespace {
std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}
}  // namespace

std::string profile_model_mismatch(const ProfileTables& t, const ModelSpec& model) {
  const std::string id = lower(t.model);
  const std::string base = id.substr(id.rfind('/') + 1);
  const std::string name = lower(model.name);
  if (name != id && name != base && lower(model.description).find(id) == std::string::npos) {
    return fmt::format(
        "the bundle measures {} on {} but the scenario's model is {}; pick that model (model: {}) or "
        "a bundle profiled for {}",
        t.model, t.hardware, model.name, base, model.name);
  }
  const double e = t.moe_experts(), k = t.moe_top_k();
  if (model.num_experts > 0 && t.moe.empty()) {
    return fmt::format(
        "{} routes {} experts but the bundle has no tp{}/moe.csv; profile its MoE block at this "
        "tensor_parallel",
        model.name, model.num_experts, t.tp);
  }
  if (model.num_experts == 0 && !t.moe.empty()) {
    return fmt::format("the bundle has an MoE table but {} is dense (num_experts 0)", model.name);
  }
  if (model.num_experts > 0 && (e != model.num_experts || k != model.experts_per_token)) {
    return fmt::format("moe.csv measures {:g} experts, top-{:g}, but {} has {}, top-{}", e, k, model.name,
                       model.num_experts, model.experts_per_token);
  }
  return "";
}

std::shared_ptr<const ProfileTables> read_step_profile(const ValueMap& v, const fs::path& scenario_file,
                                                       const std::string& step_model, const ModelSpec& model,
                                                       const Deployment& deployment, Diagnostics& diag) {
  const std::string path = v.has("step_model.profile") ? v.string("step_model.profile") : "";
  if (step_model != "profiled") {
    if (!path.empty()) {
      diag.add(v.at("step_model.profile",
                    fmt::format("only step_model.type profiled reads a profile (type is {}); remove the key or set "
                                "step_model.type: profiled",
                                step_model)));
    }
    return nullptr;
  }
  if (path.empty()) {
    diag.add(v.at("step_model.type",
                  "step model profiled needs step_model.profile, an LLMServingSim profile bundle directory (e.g. "
                  "profiles/RTXPRO6000/meta-llama/Llama-3.1-8B/bf16)"));
    return nullptr;
  }
  const fs::path dir = fs::path(path).is_absolute() ? fs::path(path) : (scenario_file.parent_path() / path);
  try {
    auto t = std::make_shared<ProfileTables>(load_profile_bundle(dir.lexically_normal(), deployment.tensor_parallel));
    if (const std::string why = profile_model_mismatch(*t, model); !why.empty()) {
      diag.add(v.at("step_model.profile", why));
      return nullptr;
    }
    return t;
  } catch (const InputError& e) {
    diag.add(
        v.at("step_model.profile", fmt::format("cannot use the profile bundle {}", dir.lexically_normal().string())));
    for (const auto& d : e.items()) diag.add(d);
  }
  return nullptr;
}

}  // namespace kvsim
