#include "workloads/distribution.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace kvsim {

double DistSpec::expected() const {
  if (kind == "uniform") return (low + high) / 2;
  if (kind == "exponential" || kind == "lognormal") return mean;
  if (kind == "empirical") {
    double s = 0;
    for (double v : values) s += v;
    return values.empty() ? 0 : s / double(values.size());
  }
  return value;
}

double DistSpec::quantile(double q) const {
  if (kind == "uniform") return low + q * (high - low);
  if (kind == "exponential") return -mean * std::log(1 - q);
  if (kind == "lognormal") {
    const double mu = std::log(mean) - sigma * sigma / 2;
    // Invert the standard normal CDF by bisection; 100 halvings of [-10, 10] reach double precision.
    double lo = -10, hi = 10;
    for (int i = 0; i < 100; ++i) {
      const double mid = (lo + hi) / 2;
      (0.5 * std::erfc(-mid / std::numbers::sqrt2) < q ? lo : hi) = mid;
    }
    return std::exp(mu + sigma * (lo + hi) / 2);
  }
  if (kind == "empirical" && !values.empty()) {
    std::vector<double> v = values;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(q * double(v.size())))];
  }
  return value;
}

double DistSpec::upper_bound() const {
  double x = std::numeric_limits<double>::infinity();
  if (kind == "constant") {
    x = value;
  } else if (kind == "uniform") {
    x = high;
  } else if (kind == "empirical" && !values.empty()) {
    x = *std::max_element(values.begin(), values.end());
  }
  x = std::max(x, min);
  return max > 0 ? std::min(x, max) : x;
}

double Rng::uniform() { return double(engine_() >> 11) * 0x1.0p-53; }

double Rng::exponential(double mean) { return -mean * std::log1p(-uniform()); }

double Rng::normal() {
  const double u1 = 1.0 - uniform();  // (0, 1]
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

double Rng::sample(const DistSpec& d) {
  double x = d.value;
  if (d.kind == "uniform") {
    x = d.low + uniform() * (d.high - d.low);
  } else if (d.kind == "exponential") {
    x = exponential(d.mean);
  } else if (d.kind == "lognormal") {
    x = std::exp(std::log(d.mean) - d.sigma * d.sigma / 2 + d.sigma * normal());
  } else if (d.kind == "empirical" && !d.values.empty()) {
    x = d.values[std::min(d.values.size() - 1, static_cast<std::size_t>(uniform() * double(d.values.size())))];
  }
  x = std::max(x, d.min);
  if (d.max > 0) x = std::min(x, d.max);
  return x;
}

std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace kvsim
