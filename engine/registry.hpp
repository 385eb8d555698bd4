#pragma once
/// @file registry.hpp
/// @brief Every choice a user makes by name (scheduler, offload policy, victim order, step model, router) is an
/// entry of a Registry: a name, a description, the parameters it takes, declared beside it, and a factory. The
/// scenario schema is built from these declarations (sim/scenario_schema.cpp), so a plug-in's knobs are declared
/// once and validated like every other key. Engine code stays free of YAML: parameters arrive as typed Params.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "engine/units.hpp"

namespace kvsim {

/// @brief One declared parameter of a registry entry.
struct ParamSpec {
  std::string name;           ///< key under the entry's section, e.g. "prefetch_quantile"
  Dim dim = Dim::kRatio;      ///< unit of the value
  std::string default_value;  ///< as a user writes it, e.g. "0.5"
  double min = 0;             ///< inclusive unless min_exclusive
  double max = 0;             ///< inclusive
  bool min_exclusive = false;
  std::string description;
};

/// @brief Parameter values by name, in SI base units, as the scenario (or a test) gives them.
class Params {
 public:
  Params() = default;
  Params(std::initializer_list<std::pair<const std::string, double>> values) : values_(values) {}
  /// @brief Sets `name` to `value`.
  Params& set(const std::string& name, double value) {
    values_[name] = value;
    return *this;
  }
  /// @brief The value of `name`; throws std::invalid_argument if it was not given.
  double number(const std::string& name) const {
    const auto it = values_.find(name);
    if (it == values_.end()) throw std::invalid_argument("parameter '" + name + "' was not given");
    return it->second;
  }
  /// @brief The value of `name`, or nullopt.
  std::optional<double> find(const std::string& name) const {
    const auto it = values_.find(name);
    return it == values_.end() ? std::nullopt : std::optional<double>(it->second);
  }
  const std::map<std::string, double>& values() const { return values_; }

 private:
  std::map<std::string, double> values_;
};

/// @brief Thrown for an unknown name or parameter; the message lists the valid ones.
class UnknownChoice : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// @brief Joins names with ", ".
inline std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

/// @brief Name -> factory of T taking declared, typed parameters and the plug-in's context `Args`.
template <typename T, typename... Args>
class Registry {
 public:
  using Factory = std::function<std::unique_ptr<T>(const Params&, Args...)>;
  /// @brief One registered implementation.
  struct Entry {
    std::string name;
    std::string description;
    std::vector<ParamSpec> params;
    Factory make;
  };

  /// @brief `kind` names the registry in messages ("offload policy").
  explicit Registry(std::string kind, std::vector<Entry> entries)
      : kind_(std::move(kind)), entries_(std::move(entries)) {}

  const std::string& kind() const { return kind_; }
  /// @brief Registers `e` beside the built-ins (a plug-in linked in from elsewhere, e.g. a test); throws if its
  /// name is taken.
  void add(Entry e) {
    for (const auto& x : entries_) {
      if (x.name == e.name) throw std::invalid_argument(kind_ + " '" + e.name + "' is already registered");
    }
    entries_.push_back(std::move(e));
  }
  const std::vector<Entry>& entries() const { return entries_; }
  /// @brief The registered names, in registration order.
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : entries_) out.push_back(e.name);
    return out;
  }
  /// @brief The entry called `name`; throws UnknownChoice listing the valid names.
  const Entry& at(const std::string& name) const {
    for (const auto& e : entries_) {
      if (e.name == name) return e;
    }
    throw UnknownChoice("unknown " + kind_ + " '" + name + "'; valid: " + join_names(names()));
  }
  /// @brief Makes `name` with `params`, each of which it must declare; parameters it declares but that are not
  /// given take their declared defaults.
  std::unique_ptr<T> make(const std::string& name, const Params& params, Args... args) const {
    const Entry& e = at(name);
    Params full;
    for (const auto& p : e.params) full.set(p.name, parse_or_throw(p.default_value, p.dim));
    for (const auto& [key, value] : params.values()) {
      if (!declares(e, key)) {
        std::vector<std::string> valid;
        for (const auto& p : e.params) valid.push_back(p.name);
        throw UnknownChoice(kind_ + " '" + name + "' has no parameter '" + key +
                            "'; its parameters: " + (valid.empty() ? "none" : join_names(valid)));
      }
      full.set(key, value);
    }
    return e.make(full, std::forward<Args>(args)...);
  }
  /// @brief Makes `name` with its default parameters.
  std::unique_ptr<T> make(const std::string& name, Args... args) const {
    return make(name, Params{}, std::forward<Args>(args)...);
  }
  /// @brief True if `e` declares a parameter called `key`.
  static bool declares(const Entry& e, const std::string& key) {
    for (const auto& p : e.params) {
      if (p.name == key) return true;
    }
    return false;
  }

 private:
  std::string kind_;
  std::vector<Entry> entries_;
};

}  // namespace kvsim
