// Validation of a YAML document against a Schema: walks the tree, reports unknown keys with suggestions,
// parses every declared leaf and fills defaults.
#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <set>

#include "sim/schema.hpp"

namespace kvsim {
namespace {

const std::vector<std::string> kDistKinds{"constant", "uniform", "exponential", "lognormal", "empirical"};

struct Walker {
  const Schema& schema;
  const std::string& file;
  const std::string& prefix;
  Diagnostics& diag;
  ValueMap out;

  std::string shown(const std::string& path) const { return prefix.empty() ? path : prefix + "." + path; }

  ValueOrigin origin(const YAML::Node& node) const {
    ValueOrigin o{file, 0, 0, node.IsScalar() ? node.Scalar() : ""};
    const auto m = node.Mark();
    if (!m.is_null()) {
      o.line = m.line + 1;
      o.column = m.column + 1;
    }
    return o;
  }

  void error(const YAML::Node& node, const std::string& path, std::string message) {
    const auto o = origin(node);
    diag.add(Diagnostic{file, shown(path), o.line, o.column, o.text, std::move(message)});
  }

  // A key must be a plain name. YAML also allows a map or a list as a key ("? [a, b]: 1", "{[a]: 1}"), which
  // yaml-cpp cannot convert to a string; report it here instead of letting the conversion throw.
  std::optional<std::string> key_name(const YAML::Node& key, const std::string& section) {
    if (key.IsScalar()) return key.Scalar();
    if (key.IsNull()) return std::string("null");  // "~: x" and "null: x", as yaml-cpp names them
    const auto o = origin(key);
    diag.add(Diagnostic{
        file, shown(section.empty() ? "(document)" : section), o.line, o.column, "",
        fmt::format("expected a plain key name, got a {} used as a key", key.IsSequence() ? "list" : "map")});
    return std::nullopt;
  }

  void walk(const YAML::Node& node, const std::string& section) {
    if (!node.IsMap()) {
      error(node, section.empty() ? "(document)" : section, "expected a map of keys");
      return;
    }
    for (const auto& kv : node) {
      const auto name = key_name(kv.first, section);
      if (!name) continue;
      const std::string& key = *name;
      const std::string path = section.empty() ? key : section + "." + key;
      if (const KeySpec* spec = schema.find(path)) {
        if (spec->path == path) {
          leaf(*spec, kv.second);
        } else {  // an instance of a wildcard key: kept under its concrete path
          KeySpec instance = *spec;
          instance.path = path;
          leaf(instance, kv.second);
        }
      } else if (schema.is_section(path)) {
        section_value(path, kv.second);
      } else {
        unknown(kv.first, section, key);
      }
    }
  }

  void section_value(const std::string& path, const YAML::Node& value) {
    const KeySpec* alias = schema.find(path + ".catalog");
    if (value.IsScalar() && alias) {
      leaf(*alias, value);
    } else {
      walk(value, path);
    }
  }

  void unknown(const YAML::Node& key_node, const std::string& section, const std::string& key,
               std::vector<std::string> options = {}) {
    if (options.empty()) options = schema.children(section);
    const auto near = closest_match(key, options);
    const std::string path = section.empty() ? key : section + "." + key;
    const auto o = origin(key_node);
    std::string msg = near.empty() ? fmt::format("unknown key; valid keys here: {}", join(options))
                                   : fmt::format("unknown key; did you mean '{}'?", near);
    diag.add(Diagnostic{file, shown(path), o.line, o.column, "", msg});
  }

  void leaf(const KeySpec& spec, const YAML::Node& value) {
    out.origins[spec.path] = origin(value);
    if (spec.type == KeyType::kStringMap) return string_map(spec, value);
    if (spec.type == KeyType::kDistribution && value.IsMap()) return distribution(spec, value);
    if (spec.type == KeyType::kQuantityList && value.IsSequence()) return quantity_list(spec, value);
    if (!value.IsScalar()) {
      const char* got = value.IsMap() ? " (got a map)" : value.IsSequence() ? " (got a list)" : " (got nothing)";
      error(value, spec.path, "expected " + describe_type(spec) + got);
      return;
    }
    std::string err;
    if (auto v = Schema::parse_scalar(spec, value.Scalar(), err)) {
      out.values[spec.path] = *v;
    } else {
      error(value, spec.path, err);
    }
  }

  void string_map(const KeySpec& spec, const YAML::Node& value) {
    if (!value.IsMap()) {
      error(value, spec.path, "expected a map of strings");
      return;
    }
    std::map<std::string, std::string> m;
    for (const auto& kv : value) {
      if (const auto key = key_name(kv.first, spec.path)) m[*key] = kv.second.IsScalar() ? kv.second.Scalar() : "";
    }
    out.values[spec.path] = m;
  }

  // The quantities of a YAML list, or nullopt after reporting the first bad item.
  std::optional<std::vector<double>> parse_list(const KeySpec& spec, const YAML::Node& value) {
    std::vector<double> items;
    for (const auto& item : value) {
      std::string err;
      KeySpec one = spec;
      one.type = KeyType::kQuantity;
      auto v = item.IsScalar() ? Schema::parse_scalar(one, item.Scalar(), err) : std::nullopt;
      if (!v) {
        error(item, spec.path, err.empty() ? "expected " + dim_description(spec.dim) : err);
        return std::nullopt;
      }
      items.push_back(std::get<double>(*v));
    }
    return items;
  }

  void quantity_list(const KeySpec& spec, const YAML::Node& value) {
    if (spec.max_items > 0 && double(value.size()) > spec.max_items) {  // before parsing a million items
      error(value, spec.path,
            fmt::format("{} items, more than the {:g} this list may hold", value.size(), spec.max_items));
      return;
    }
    if (auto items = parse_list(spec, value)) out.values[spec.path] = std::move(*items);
  }

  // One parameter of a distribution map, checked against the key's range: [0, max] for values and clamps, the
  // key's wholeness except for the mean (an exponential over whole tokens may have a fractional mean), and the
  // sigma of a lognormal within its own range.
  std::optional<double> dist_field(const KeySpec& spec, const YAML::Node& map, const std::string& field,
                                   bool required) {
    const YAML::Node v = map[field];
    KeySpec one = spec;
    one.path = spec.path + "." + field;
    one.type = KeyType::kQuantity;
    one.min = 0;
    one.min_exclusive = false;
    one.whole = spec.whole && field != "mean";
    if (field == "sigma") {  // e^(10 sigma) spans more than any real length distribution
      one.dim = Dim::kRatio;
      one.max = 10;
      one.whole = false;
    }
    if (!v) {
      if (required) error(map, one.path, "missing; required for this distribution");
      return std::nullopt;
    }
    std::string err;
    auto q = v.IsScalar() ? Schema::parse_scalar(one, v.Scalar(), err) : std::nullopt;
    if (!q) {
      error(v, one.path, err.empty() ? "expected a scalar" : err);
      return std::nullopt;
    }
    return std::get<double>(*q);
  }

  void distribution(const KeySpec& spec, const YAML::Node& map);
};

void Walker::distribution(const KeySpec& spec, const YAML::Node& map) {
  const std::size_t before = diag.size();
  DistSpec d;
  d.kind = map["dist"] && map["dist"].IsScalar() ? map["dist"].Scalar() : "";
  const std::vector<std::string> fields{"dist", "value", "low", "high", "mean", "sigma", "values", "min", "max"};
  for (const auto& kv : map) {
    const auto k = key_name(kv.first, spec.path);
    if (k && std::find(fields.begin(), fields.end(), *k) == fields.end()) unknown(kv.first, spec.path, *k, fields);
  }
  if (std::find(kDistKinds.begin(), kDistKinds.end(), d.kind) == kDistKinds.end()) {
    error(map["dist"] ? map["dist"] : map, spec.path + ".dist", "expected one of: " + join(kDistKinds));
    return;
  }
  const bool c = d.kind == "constant", u = d.kind == "uniform", l = d.kind == "lognormal";
  d.value = dist_field(spec, map, "value", c).value_or(0);
  const auto low = dist_field(spec, map, "low", u);
  const auto high = dist_field(spec, map, "high", u);
  d.low = low.value_or(0);
  d.high = high.value_or(0);
  d.mean = dist_field(spec, map, "mean", d.kind == "exponential" || l).value_or(0);
  d.sigma = dist_field(spec, map, "sigma", l).value_or(0);
  const auto min = dist_field(spec, map, "min", false);
  const auto max = dist_field(spec, map, "max", false);
  d.min = min.value_or(0);
  d.max = max.value_or(0);
  if (d.kind == "empirical") {
    KeySpec list = spec;
    list.type = KeyType::kQuantityList;
    if (map["values"] && map["values"].IsSequence() && map["values"].size() > 0) {
      // Parsed directly, not through out.values: a key given twice would leave the first one's DistSpec there.
      if (auto items = parse_list(list, map["values"])) d.values = std::move(*items);
    } else {
      error(map, spec.path + ".values", "empirical needs a non-empty list of values");
    }
  }
  if (u && low && high && *high < *low) {  // both given as scalars; a missing one is reported above
    error(map, spec.path,
          fmt::format("uniform needs low <= high (got low {}, high {})", map["low"].Scalar(), map["high"].Scalar()));
  }
  if (min && max && *max > 0 && *min > *max) {  // max 0 means no upper clamp
    error(map, spec.path,
          fmt::format("the clamps need min <= max (got min {}, max {})", map["min"].Scalar(), map["max"].Scalar()));
  }
  if (diag.size() == before) out.values[spec.path] = d;
}

}  // namespace

namespace {
void fill_default(const KeySpec& k, const std::string& path, ValueMap& out, const std::string& file,
                  const std::string& prefix, Diagnostics& diag) {
  if (out.has(path) || out.origins.count(path)) return;
  if (!k.default_value.empty()) {
    std::string err;
    if (auto v = Schema::parse_scalar(k, k.default_value, err)) out.values[path] = *v;
  } else if (k.required) {
    const std::string shown = prefix.empty() ? path : prefix + "." + path;
    diag.add(Diagnostic{file, shown, 0, 0, "", "missing required key; expected " + describe_type(k)});
  }
}
}  // namespace

ValueMap Schema::read(const YAML::Node& root, const std::string& file, Diagnostics& diag,
                      const std::string& prefix) const {
  Walker w{*this, file, prefix, diag, {}};
  w.out.file = file;
  if (root && !root.IsNull()) {
    w.walk(root, "");
  } else if (prefix.empty()) {
    diag.add(Diagnostic{file, "(document)", 0, 0, "", "expected a map of keys; the file is empty"});
  }
  for (const auto& k : keys_) {
    const auto star = k.path.find(".*");
    if (star == std::string::npos) {
      fill_default(k, k.path, w.out, file, prefix, diag);
      continue;
    }
    for (const auto& instance : instances(w.out, k.path.substr(0, star))) {
      fill_default(k, concrete(k, instance), w.out, file, prefix, diag);
    }
  }
  return w.out;
}

std::vector<std::string> Schema::instances(const ValueMap& values, const std::string& section) {
  std::set<std::string> out;
  const std::string head = section + ".";
  for (const auto& [path, origin] : values.origins) {
    if (!path.starts_with(head)) continue;
    const auto dot = path.find('.', head.size());
    if (dot != std::string::npos) out.insert(path.substr(0, dot));
  }
  return {out.begin(), out.end()};
}

}  // namespace kvsim
