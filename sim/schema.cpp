#include "sim/schema.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <set>

namespace kvsim {
namespace {

Diagnostic diag_at(const ValueOrigin& o, const std::string& key, const std::string& value, std::string message) {
  return Diagnostic{o.file, key, o.line, o.column, value, std::move(message)};
}

// An integer, or nullopt with `error` set: "expected an integer", or the range for digits beyond a long (a seed
// above INT64_MAX is refused, not clamped).
std::optional<long> parse_long(const KeySpec& spec, const std::string& text, std::string& error) {
  long v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec == std::errc::result_out_of_range && ptr == text.data() + text.size()) {
    error = fmt::format("{} is outside the plausible range {}", text, range_text(spec));
  } else if (ec != std::errc() || ptr != text.data() + text.size()) {
    error = "expected an integer";
  } else {
    return v;
  }
  return std::nullopt;
}

std::string format_time(double s) {
  if (std::fabs(s) >= 86400) return fmt::format("{:.4g} d", s / 86400);
  return format_seconds(s);
}

// An integer bound; 2^63 stands for INT64_MAX, which a double cannot hold exactly.
std::string format_integer(double v) {
  if (v >= 0x1p63) return fmt::format("{}", std::numeric_limits<long>::max());
  if (std::fabs(v) < 1e15) return fmt::format("{}", static_cast<long>(v));
  return fmt::format("{:g}", v);
}

std::optional<bool> parse_bool(const std::string& text) {
  if (text == "true" || text == "yes" || text == "on") return true;
  if (text == "false" || text == "no" || text == "off") return false;
  return std::nullopt;
}

}  // namespace

std::string format_for_key(const KeySpec& spec, double v) {
  if (spec.type == KeyType::kInteger) return format_integer(v);
  switch (spec.dim) {
    case Dim::kBytes:
      return format_bytes_binary(v);
    case Dim::kBandwidth:
      return format_bandwidth(v);
    case Dim::kFlops:
      return format_flops(v);
    case Dim::kFlopRate:
      return format_flops(v) + "/s";
    case Dim::kTime:
      return format_time(v);
    case Dim::kRate:
      return fmt::format("{:.4g}/s", v);
    case Dim::kTokenRate:
      return fmt::format("{:.4g} tok/s", v);
    case Dim::kTokens:
    case Dim::kCount:
      if (v == std::floor(v) && std::fabs(v) < 1e15) return format_integer(v);
      return fmt::format("{:.6g}", v);
    case Dim::kRatio:
      return fmt::format("{:.6g}", v);
  }
  return fmt::format("{:g}", v);
}

std::string range_text(const KeySpec& s) {
  const char* open = s.min_exclusive ? "(" : "[";
  if (s.min && s.max) return fmt::format("{}{}, {}]", open, format_for_key(s, *s.min), format_for_key(s, *s.max));
  if (s.min) return fmt::format("{} {}", s.min_exclusive ? ">" : ">=", format_for_key(s, *s.min));
  if (s.max) return fmt::format("<= {}", format_for_key(s, *s.max));
  return "";
}

std::string check_range(const KeySpec& s, double v) {
  const bool low = s.min && (s.min_exclusive ? !(v > *s.min) : !(v >= *s.min));
  const bool high = s.max && !(v <= *s.max);
  if (low || high) {
    if (s.min && s.max) return fmt::format("{} is outside the plausible range {}", format_for_key(s, v), range_text(s));
    return fmt::format("value {:g} is out of range; expected {}", v, range_text(s));
  }
  if (s.whole && v != std::floor(v)) {
    return fmt::format("{:g} is not a whole number{}", v, s.dim == Dim::kTokens ? " of tokens" : "");
  }
  return "";
}

std::string describe_type(const KeySpec& spec) {
  switch (spec.type) {
    case KeyType::kQuantity:
      return dim_description(spec.dim);
    case KeyType::kInteger:
      return "an integer";
    case KeyType::kString:
      return "a string";
    case KeyType::kBool:
      return "true or false";
    case KeyType::kChoice:
      return "one of: " + join(spec.choices);
    case KeyType::kQuantityList:
      return "a list of " + dim_description(spec.dim);
    case KeyType::kDistribution:
      return dim_description(spec.dim) +
             ", or a map {dist: constant|uniform|exponential|lognormal|empirical, value|low,high|mean[,sigma]|values}";
    case KeyType::kStringMap:
      return "a map of strings";
  }
  return "a value";
}

Diagnostic ValueMap::at(const std::string& path, std::string message) const {
  auto it = origins.find(path);
  if (it == origins.end()) return Diagnostic{file, path, 0, 0, "", std::move(message)};
  return diag_at(it->second, path, it->second.text, std::move(message));
}

Schema::Schema(std::vector<KeySpec> keys) : keys_(std::move(keys)) {}

namespace {
std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  for (std::size_t start = 0;;) {
    const auto dot = path.find('.', start);
    out.push_back(path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) return out;
    start = dot + 1;
  }
}

// Whether the first `n` segments of `path` match those of the declared `pattern`, where a `*` segment matches any
// one name (cluster.pools.*.role).
bool leading_match(const std::vector<std::string_view>& pattern, const std::vector<std::string_view>& path,
                   std::size_t n) {
  if (pattern.size() < n || path.size() < n) return false;
  for (std::size_t i = 0; i < n; ++i) {
    if (pattern[i] != "*" && pattern[i] != path[i]) return false;
  }
  return true;
}
}  // namespace

const KeySpec* Schema::find(const std::string& path) const {
  for (const auto& k : keys_) {
    if (k.path == path) return &k;
  }
  const auto p = segments(path);
  for (const auto& k : keys_) {
    if (k.path.find('*') == std::string::npos) continue;
    const auto pattern = segments(k.path);
    if (pattern.size() == p.size() && leading_match(pattern, p, p.size())) return &k;
  }
  return nullptr;
}

bool Schema::is_section(const std::string& path) const {
  const auto p = segments(path);
  for (const auto& k : keys_) {
    const auto pattern = segments(k.path);
    if (pattern.size() > p.size() && leading_match(pattern, p, p.size())) return true;
  }
  return false;
}

std::vector<std::string> Schema::children(const std::string& section) const {
  std::set<std::string> out;
  const auto p = section.empty() ? std::vector<std::string_view>{} : segments(section);
  for (const auto& k : keys_) {
    const auto pattern = segments(k.path);
    if (pattern.size() > p.size() && leading_match(pattern, p, p.size())) out.insert(std::string(pattern[p.size()]));
  }
  return {out.begin(), out.end()};
}

std::string Schema::concrete(const KeySpec& spec, const std::string& instance_path) {
  const auto star = spec.path.find('*');
  if (star == std::string::npos) return spec.path;
  return instance_path + spec.path.substr(star + 1);
}

std::optional<Value> Schema::parse_scalar(const KeySpec& spec, const std::string& text, std::string& error) {
  switch (spec.type) {
    case KeyType::kQuantity:
    case KeyType::kDistribution: {
      auto q = parse_quantity(text, spec.dim);
      if (!q.value) {
        error = q.error;
        return std::nullopt;
      }
      if (auto r = check_range(spec, *q.value); !r.empty()) {
        error = r;
        return std::nullopt;
      }
      if (spec.type == KeyType::kQuantity) return Value(*q.value);
      DistSpec d;
      d.value = *q.value;
      return Value(d);
    }
    case KeyType::kInteger: {
      auto v = parse_long(spec, text, error);
      if (!v) return std::nullopt;
      if (auto r = check_range(spec, double(*v)); !r.empty()) {
        error = r;
        return std::nullopt;
      }
      return Value(*v);
    }
    case KeyType::kBool: {
      auto b = parse_bool(text);
      if (!b) {
        error = "expected true or false";
        return std::nullopt;
      }
      return Value(*b);
    }
    case KeyType::kChoice: {
      for (const auto& c : spec.choices) {
        if (c == text) return Value(text);
      }
      const auto near = closest_match(text, spec.choices);
      error = fmt::format("unknown value; expected one of: {}{}", join(spec.choices),
                          near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near));
      return std::nullopt;
    }
    case KeyType::kString:
      return Value(text);
    case KeyType::kQuantityList: {
      std::vector<double> out;
      std::size_t start = 0;
      while (start <= text.size()) {
        const auto end = text.find(',', start);
        const auto item = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
        auto q = parse_quantity(item, spec.dim);
        if (!q.value) {
          error = q.error;
          return std::nullopt;
        }
        if (auto r = check_range(spec, *q.value); !r.empty()) {
          error = r;
          return std::nullopt;
        }
        out.push_back(*q.value);
        if (end == std::string::npos) break;
        start = end + 1;
      }
      return Value(out);
    }
    case KeyType::kStringMap:
      error = "expected a map";
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace kvsim
