#pragma once
/// @file schema.hpp
/// @brief Keys declared once (SST/ns-3 style): type, unit, default, range, description. The declaration drives
/// validation of YAML input, `--set` overrides and the generated docs/scenario-format.md.

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "engine/units.hpp"
#include "sim/diagnostics.hpp"
#include "workloads/distribution.hpp"

namespace kvsim {

/// @brief What a key holds.
enum class KeyType {
  kQuantity,  ///< a number with a unit of `dim`
  kInteger,
  kString,
  kBool,
  kChoice,        ///< one of `choices`
  kQuantityList,  ///< a YAML list of quantities of `dim`
  kDistribution,  ///< a quantity of `dim`, or a map {dist: constant|uniform|exponential|lognormal|empirical, ...}
  kStringMap,     ///< free-form string map (source notes)
};

/// @brief A declared key.
struct KeySpec {
  /// Dotted path relative to the document root, e.g. "hardware.gpu". A `*` segment stands for any one name chosen
  /// by the user (`cluster.pools.*.role`): each such name is an instance, and the key's value is kept under the
  /// concrete path (`cluster.pools.prefill.role`).
  std::string path;
  KeyType type = KeyType::kString;
  Dim dim = Dim::kCount;
  std::string default_value;  ///< as a user would write it; empty = no default
  bool required = false;
  std::optional<double> min;  ///< inclusive unless min_exclusive; with `max`, the plausible range of the key
  bool min_exclusive = false;
  std::optional<double> max;  ///< inclusive; a value outside [min, max] is refused with both bounds in the message
  bool whole = false;         ///< a quantity of whole things (tokens, rounds): a fraction is refused
  double max_items = 0;       ///< kQuantityList: the longest list accepted, checked before its items (0 = no cap)
  std::vector<std::string> choices;
  std::string description;
};

/// @brief One validated value.
using Value =
    std::variant<double, long, std::string, bool, std::vector<double>, DistSpec, std::map<std::string, std::string>>;

/// @brief Where a value came from, for later error messages (cross-key checks).
struct ValueOrigin {
  std::string file;
  int line = 0;
  int column = 0;
  std::string text;
};

/// @brief Validated values keyed by path, plus where each was written.
struct ValueMap {
  std::map<std::string, Value> values;
  std::map<std::string, ValueOrigin> origins;
  std::string file;  ///< the document the values come from, for messages about defaulted keys

  bool has(const std::string& path) const { return values.count(path) > 0; }
  double quantity(const std::string& path) const { return std::get<double>(values.at(path)); }
  long integer(const std::string& path) const { return std::get<long>(values.at(path)); }
  const std::string& string(const std::string& path) const { return std::get<std::string>(values.at(path)); }
  bool boolean(const std::string& path) const { return std::get<bool>(values.at(path)); }
  const DistSpec& dist(const std::string& path) const { return std::get<DistSpec>(values.at(path)); }
  /// @brief A diagnostic located at `path`'s origin.
  Diagnostic at(const std::string& path, std::string message) const;
};

/// @brief A set of declared keys.
class Schema {
 public:
  explicit Schema(std::vector<KeySpec> keys);
  const std::vector<KeySpec>& keys() const { return keys_; }
  /// @brief The key declared for `path`, exactly or through a `*` segment; null if none.
  const KeySpec* find(const std::string& path) const;
  /// @brief The concrete path of wildcard key `spec` for the instance at `instance_path` (the concrete path up to
  /// and including the `*` segment's name): concrete(cluster.pools.*.role, "cluster.pools.p") = cluster.pools.p.role.
  static std::string concrete(const KeySpec& spec, const std::string& instance_path);
  /// @brief The concrete instance paths (up to the `*` segment) that `values` holds any key of, for `section`
  /// ("cluster.pools"): "cluster.pools.prefill", "cluster.pools.decode".
  static std::vector<std::string> instances(const ValueMap& values, const std::string& section);
  /// @brief True if `path` is a declared key or a prefix (section) of one.
  bool is_section(const std::string& path) const;
  /// @brief Child names directly under `section` ("" = root), for "did you mean" and listings.
  std::vector<std::string> children(const std::string& section) const;

  /// @brief Validates `root` against the declared keys, filling defaults. `prefix` is prepended to every
  /// path in messages (a catalog entry's name). Errors go to `diag`; valid values are returned.
  ValueMap read(const YAML::Node& root, const std::string& file, Diagnostics& diag,
                const std::string& prefix = "") const;

  /// @brief Parses one scalar string as the value of `spec` (used for --set and defaults).
  static std::optional<Value> parse_scalar(const KeySpec& spec, const std::string& text, std::string& error);

 private:
  std::vector<KeySpec> keys_;
};

/// @brief The description of a key's type for messages and docs: "bytes with a unit, e.g. 80GiB".
std::string describe_type(const KeySpec& spec);

/// @brief `value` written in the unit of `spec`'s dimension: "20 GB/s", "1 ms", "80 GiB", "250" for integers.
std::string format_for_key(const KeySpec& spec, double value);

/// @brief The declared range of `spec` in its units, "[1 MB/s, 100 TB/s]", "(0, 1]" or ">= 0"; empty if none.
std::string range_text(const KeySpec& spec);

/// @brief Checks `value` against the declared range and wholeness of `spec`; the refusal names the value, in the
/// key's unit, and the range, e.g. "1e+15 GB/s is outside the plausible range [1 MB/s, 100 TB/s]". Empty if fine.
std::string check_range(const KeySpec& spec, double value);

}  // namespace kvsim
