#include "engine/units.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <utility>
#include <vector>

namespace kvsim {
namespace {

struct Suffix {
  std::string_view text;
  double factor;
};

// Metric and binary prefixes for bytes, bandwidth and FLOPs. Order does not matter: matching is exact.
constexpr std::array<Suffix, 13> kPrefixes{{{"", 1.0},
                                            {"k", 1e3},
                                            {"K", 1e3},
                                            {"M", 1e6},
                                            {"G", 1e9},
                                            {"T", 1e12},
                                            {"P", 1e15},
                                            {"E", 1e18},
                                            {"Ki", 1024.0},
                                            {"Mi", 1048576.0},
                                            {"Gi", 1073741824.0},
                                            {"Ti", 1099511627776.0},
                                            {"Pi", 1125899906842624.0}}};

// Count suffixes: "34B" parameters = 34e9 (B for billion, as model cards write it).
constexpr std::array<Suffix, 9> kCountSuffixes{{{"", 1.0},
                                                {"k", 1e3},
                                                {"K", 1e3},
                                                {"M", 1e6},
                                                {"B", 1e9},
                                                {"G", 1e9},
                                                {"T", 1e12},
                                                {"tok", 1.0},
                                                {"tokens", 1.0}}};

constexpr std::array<Suffix, 10> kTimeUnits{{{"ns", 1e-9},
                                             {"us", 1e-6},
                                             {"µs", 1e-6},
                                             {"ms", 1e-3},
                                             {"s", 1.0},
                                             {"sec", 1.0},
                                             {"min", 60.0},
                                             {"h", 3600.0},
                                             {"hr", 3600.0},
                                             {"d", 86400.0}}};

constexpr std::array<Suffix, 4> kPerTime{{{"/s", 1.0}, {"/min", 1.0 / 60}, {"/h", 1.0 / 3600}, {"/d", 1.0 / 86400}}};

std::vector<Suffix> base_units(Dim dim) {
  switch (dim) {
    case Dim::kBytes:
      return {{"B", 1.0}};
    case Dim::kBandwidth:
      return {{"Bps", 1.0}, {"B/s", 1.0}, {"bps", 0.125}, {"b/s", 0.125}};
    case Dim::kFlops:
      return {{"flop", 1.0}, {"FLOP", 1.0}};
    case Dim::kFlopRate:
      return {{"f", 1.0}, {"flops", 1.0}, {"FLOPS", 1.0}, {"flop/s", 1.0}, {"FLOP/s", 1.0}};
    default:
      return {};
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

template <std::size_t N>
std::optional<double> lookup(const std::array<Suffix, N>& table, std::string_view key) {
  for (const auto& s : table) {
    if (s.text == key) return s.factor;
  }
  return std::nullopt;
}

// Splits "2.039TBps" into 2.039 and "TBps". Returns nullopt if there is no leading number.
std::optional<std::pair<double, std::string_view>> split_number(std::string_view text) {
  double value = 0;
  const char* begin = text.data();
  const char* end = begin + text.size();
  if (begin != end && *begin == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || !std::isfinite(value)) return std::nullopt;
  return std::make_pair(value, trim(std::string_view(ptr, static_cast<std::size_t>(end - ptr))));
}

// True if `text` starts with a number too large for a double ("1e400GBps"), or too small to be told from zero
// ("1e-400"), so that the message says so instead of "does not start with a number".
bool beyond_double(std::string_view text) {
  double value = 0;
  const char* begin = text.data();
  const char* end = begin + text.size();
  if (begin != end && *begin == '+') ++begin;
  return std::from_chars(begin, end, value).ec == std::errc::result_out_of_range;
}

// True if `text` starts with "inf", "infinity" or "nan", which from_chars reads but no quantity can be.
bool not_finite(std::string_view text) {
  double value = 0;
  const char* begin = text.data();
  const char* end = begin + text.size();
  if (begin != end && (*begin == '+' || *begin == '-')) ++begin;
  const auto r = std::from_chars(begin, end, value);
  return r.ec == std::errc() && !std::isfinite(value);
}

// Matches "<prefix><base>" for the dimensions that take metric or binary prefixes.
std::optional<double> prefixed_factor(std::string_view unit, Dim dim) {
  for (const auto& base : base_units(dim)) {
    if (unit.size() < base.text.size() || unit.substr(unit.size() - base.text.size()) != base.text) continue;
    if (auto prefix = lookup(kPrefixes, unit.substr(0, unit.size() - base.text.size()))) return *prefix * base.factor;
  }
  return std::nullopt;
}

std::optional<double> unit_factor(std::string_view unit, Dim dim) {
  switch (dim) {
    case Dim::kTime:
      return lookup(kTimeUnits, unit);
    case Dim::kRate:
      return lookup(kPerTime, unit);
    case Dim::kTokenRate:
      for (std::string_view tok : {"tok", "tokens"}) {
        if (unit.starts_with(tok)) return lookup(kPerTime, unit.substr(tok.size()));
      }
      return std::nullopt;
    case Dim::kTokens:
    case Dim::kCount:
      return lookup(kCountSuffixes, unit);
    case Dim::kRatio:
      if (unit.empty()) return 1.0;
      if (unit == "%") return 0.01;
      return std::nullopt;
    default:
      return prefixed_factor(unit, dim);
  }
}

bool unit_required(Dim dim) {
  return dim != Dim::kTokens && dim != Dim::kCount && dim != Dim::kRatio;
}

std::string scaled(double value, const char* unit, const std::array<std::pair<double, const char*>, 6>& steps) {
  for (const auto& [factor, prefix] : steps) {
    if (std::fabs(value) >= factor) return fmt::format("{:.4g} {}{}", value / factor, prefix, unit);
  }
  return fmt::format("{:.4g} {}", value, unit);
}

constexpr std::array<std::pair<double, const char*>, 6> kDecimalSteps{
    {{1e18, "E"}, {1e15, "P"}, {1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}}};

}  // namespace

std::string dim_description(Dim dim) {
  switch (dim) {
    case Dim::kBytes:
      return "bytes with a unit, e.g. 80GiB or 68GB";
    case Dim::kBandwidth:
      return "bytes per second with a unit, e.g. 2.039TBps or 20GB/s";
    case Dim::kFlops:
      return "a FLOP count with a unit, e.g. 4.6PFLOP";
    case Dim::kFlopRate:
      return "FLOP per second with a unit, e.g. 312Tf or 312TFLOPS";
    case Dim::kTime:
      return "a duration with a unit, e.g. 60s, 500ms, 2min, 1h";
    case Dim::kRate:
      return "a rate with a unit, e.g. 0.01/s or 36/h";
    case Dim::kTokenRate:
      return "tokens per second, e.g. 6tok/s";
    case Dim::kTokens:
      return "a token count, e.g. 50000 or 50K";
    case Dim::kCount:
      return "a count, e.g. 34B or 7e9";
    case Dim::kRatio:
      return "a ratio, e.g. 0.7 or 70%";
  }
  return "a quantity";
}

ParsedQuantity parse_quantity(std::string_view text, Dim dim) {
  const std::string_view body = trim(text);
  const auto expected = dim_description(dim);
  if (beyond_double(body)) {
    return {std::nullopt,
            fmt::format("'{}' is outside the range of a double (2.2e-308 to 1.8e308); expected {}", text, expected)};
  }
  auto split = split_number(body);
  if (!split && not_finite(body)) {
    return {std::nullopt, fmt::format("'{}' is not a finite number; expected {}", text, expected)};
  }
  if (!split) return {std::nullopt, fmt::format("'{}' does not start with a number; expected {}", text, expected)};
  auto [number, unit] = *split;
  if (unit.empty() && unit_required(dim)) {
    return {std::nullopt, fmt::format("'{}' has no unit; expected {}", text, expected)};
  }
  auto factor = unit_factor(unit, dim);
  if (!factor)
    return {std::nullopt, fmt::format("'{}' has unit '{}' that does not fit; expected {}", text, unit, expected)};
  if (!std::isfinite(number * *factor)) {  // 1e308TBps: the number fits, its value in base units does not
    return {std::nullopt,
            fmt::format("'{}' is outside the range of a double (2.2e-308 to 1.8e308); expected {}", text, expected)};
  }
  return {number * *factor, {}};
}

double parse_or_throw(std::string_view text, Dim dim) {
  auto parsed = parse_quantity(text, dim);
  if (!parsed.value) throw std::invalid_argument(parsed.error);
  return *parsed.value;
}

std::string format_bytes(double bytes) {
  return scaled(bytes, "B", kDecimalSteps);
}

std::string format_bytes_binary(double bytes) {
  constexpr std::array<std::pair<double, const char*>, 6> steps{{{1152921504606846976.0, "Ei"},
                                                                 {1125899906842624.0, "Pi"},
                                                                 {1099511627776.0, "Ti"},
                                                                 {1073741824.0, "Gi"},
                                                                 {1048576.0, "Mi"},
                                                                 {1024.0, "Ki"}}};
  return scaled(bytes, "B", steps);
}

std::string format_bandwidth(double bytes_per_s) {
  return scaled(bytes_per_s, "B/s", kDecimalSteps);
}

std::string format_flops(double flops) {
  return scaled(flops, "FLOP", kDecimalSteps);
}

std::string format_seconds(double seconds) {
  const double a = std::fabs(seconds);
  if (a < 1e-9) return "0 s";  // below a nanosecond is rounding residue, not a duration
  if (a >= 3600) return fmt::format("{:.4g} h", seconds / 3600);
  if (a >= 120) return fmt::format("{:.4g} min", seconds / 60);
  if (a >= 1 || a == 0) return fmt::format("{:.4g} s", seconds);
  if (a >= 1e-3) return fmt::format("{:.4g} ms", seconds * 1e3);
  return fmt::format("{:.4g} us", seconds * 1e6);
}

}  // namespace kvsim
