// `--param key=SPEC` of `kvsim sweep` and `kvsim capacity`: lists, linear and geometric ranges, with units.
#include "sim/cli/sweep_params.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <optional>

#include "sim/diagnostics.hpp"

namespace kvsim::cli {
namespace {

constexpr std::size_t kMaxValues = 100000;

[[noreturn]] void fail(const std::string& flag, const std::string& text, const std::string& message) {
  throw InputError({Diagnostic{"", flag, 0, 0, text, message}});
}

// A range end: a finite number and an optional unit written right after it ("10/h" -> 10, "/h").
struct Number {
  double value = 0;
  std::string unit;
};

std::optional<Number> parse_number(const std::string& s) {
  const std::string t = trim(s);
  if (t.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  if (end == t.c_str() || !std::isfinite(v)) return std::nullopt;
  return Number{v, trim(std::string(end))};
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const auto end = s.find(sep, start);
    out.push_back(trim(s.substr(start, end == std::string::npos ? end : end - start)));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

// The unit shared by the range's ends: the last one written; two different ones are an error.
std::string common_unit(const std::vector<Number>& ends, const std::string& flag, const std::string& text) {
  std::string unit;
  for (const auto& n : ends) {
    if (n.unit.empty()) continue;
    if (!unit.empty() && n.unit != unit) {
      fail(flag, text, fmt::format("range ends have different units ('{}' and '{}'); write one unit", unit, n.unit));
    }
    unit = n.unit;
  }
  return unit;
}

std::string show(double v, const std::string& unit) {
  return fmt::format("{:.12g}{}", v, unit);
}

std::vector<std::string> linear(const Number& a, const Number& b, double step, const std::string& unit,
                                const std::string& flag, const std::string& text) {
  if (!(step > 0)) fail(flag, text, "the step of a range a:b:step must be positive");
  if (b.value < a.value) fail(flag, text, "a range a:b:step needs a <= b");
  const double count = std::floor((b.value - a.value) / step * (1 + 1e-12) + 1e-9) + 1;
  if (count > double(kMaxValues)) fail(flag, text, fmt::format("the range has more than {} values", kMaxValues));
  std::vector<std::string> out;
  for (long i = 0; i < static_cast<long>(count); ++i) out.push_back(show(a.value + double(i) * step, unit));
  return out;
}

std::vector<std::string> geometric(const Number& a, const Number& b, double factor, const std::string& unit,
                                   const std::string& flag, const std::string& text) {
  if (!(factor > 1)) fail(flag, text, "the factor of a geometric range a:b:xF must be above 1");
  if (!(a.value > 0) || b.value < a.value) fail(flag, text, "a geometric range a:b:xF needs 0 < a <= b");
  std::vector<std::string> out;
  for (double v = a.value; v <= b.value * (1 + 1e-9); v *= factor) {
    out.push_back(show(v, unit));
    if (out.size() > kMaxValues) fail(flag, text, fmt::format("the range has more than {} values", kMaxValues));
  }
  return out;
}

std::vector<std::string> range_values(const std::string& spec, const std::string& flag, const std::string& text) {
  const auto parts = split(spec, ':');
  const bool geo = !parts[2].empty() && parts[2][0] == 'x';
  const auto a = parse_number(parts[0]);
  const auto b = parse_number(parts[1]);
  const auto s = parse_number(geo ? parts[2].substr(1) : parts[2]);
  if (!a || !b || !s) {
    fail(flag, text, "expected a range a:b:step or a:b:xF of numbers, e.g. 10/h:200/h:10/h or 1:64:x2");
  }
  if (geo && !s->unit.empty()) fail(flag, text, "the factor F of a:b:xF is a plain number");
  const std::string unit = common_unit({*a, *b, *s}, flag, text);
  return geo ? geometric(*a, *b, s->value, unit, flag, text) : linear(*a, *b, s->value, unit, flag, text);
}

}  // namespace

SweepParam parse_sweep_param(const std::string& flag, const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || trim(text.substr(0, eq)).empty()) {
    fail(flag, text, "expected key.path=SPEC, e.g. workload.arrival.rate=10/h:200/h:10/h");
  }
  SweepParam p{trim(text.substr(0, eq)), {}};
  const std::string spec = trim(text.substr(eq + 1));
  if (spec.find(',') != std::string::npos) {
    p.values = split(spec, ',');
  } else if (split(spec, ':').size() == 3) {
    p.values = range_values(spec, flag, text);
  } else {
    p.values = {spec};
  }
  for (std::size_t i = 0; i < p.values.size(); ++i) {
    if (p.values[i].empty()) fail(flag, text, fmt::format("value {} of the list is empty", i + 1));
    for (std::size_t j = 0; j < i; ++j) {
      if (p.values[i] == p.values[j]) fail(flag, text, fmt::format("'{}' is listed twice", p.values[i]));
    }
  }
  return p;
}

std::vector<SweepParam> parse_sweep_params(const std::string& flag, const std::vector<std::string>& texts) {
  std::vector<SweepParam> out;
  for (const auto& t : texts) {
    SweepParam p = parse_sweep_param(flag, t);
    for (const auto& q : out) {
      if (q.key == p.key) fail(flag, t, fmt::format("{} is swept twice; give all its values in one {}", p.key, flag));
    }
    out.push_back(std::move(p));
  }
  double total = 1;
  for (const auto& p : out) total *= double(p.values.size());
  if (total > double(kMaxValues)) {
    fail(flag, join(texts, " "),
         fmt::format("the parameters make {:.0f} points; at most {} are allowed", total, kMaxValues));
  }
  return out;
}

std::vector<SweepPoint> sweep_points(const std::vector<SweepParam>& params) {
  std::size_t total = 1;
  for (const auto& p : params) total *= p.values.size();
  std::vector<SweepPoint> out(total);
  for (std::size_t i = 0; i < total; ++i) {
    out[i].index = i;
    std::size_t rest = i;
    out[i].values.resize(params.size());
    for (std::size_t k = params.size(); k-- > 0;) {
      out[i].values[k] = params[k].values[rest % params[k].values.size()];
      rest /= params[k].values.size();
    }
  }
  return out;
}

std::vector<std::string> point_sets(const std::vector<SweepParam>& params, const SweepPoint& p) {
  std::vector<std::string> out;
  for (std::size_t k = 0; k < params.size(); ++k) out.push_back(params[k].key + "=" + p.values[k]);
  return out;
}

}  // namespace kvsim::cli
