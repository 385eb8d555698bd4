#pragma once
/// @file distribution.hpp
/// @brief Length and time distributions (constant, uniform, exponential, lognormal, empirical) and a seeded
/// random stream whose samples are identical on every platform (no std:: distributions, whose algorithms vary).

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace kvsim {

/// @brief A distribution of a non-negative quantity, in base units (tokens, seconds, counts).
struct DistSpec {
  std::string kind = "constant";  ///< constant, uniform, exponential, lognormal, empirical
  double value = 0;               ///< constant
  double low = 0, high = 0;       ///< uniform
  double mean = 0;                ///< exponential, lognormal: mean of the distribution itself
  double sigma = 0;               ///< lognormal: sigma of the underlying normal
  std::vector<double> values;     ///< empirical: one picked uniformly
  double min = 0;                 ///< samples are clamped to >= min
  double max = 0;                 ///< and to <= max when max > 0

  /// @brief The distribution's mean (before clamping).
  double expected() const;
  /// @brief The q-quantile (0 < q < 1), before clamping.
  double quantile(double q) const;
  /// @brief The largest value a sample can take after clamping to [min, max]: max when given, else the largest
  /// constant, uniform or empirical value; +infinity for exponential and lognormal without max.
  double upper_bound() const;
};

/// @brief A seeded stream of uniform and derived samples; one per purpose so that streams do not interfere.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}
  /// @brief Uniform in [0, 1).
  double uniform();
  /// @brief Exponential with the given mean.
  double exponential(double mean);
  /// @brief Standard normal (Box-Muller).
  double normal();
  /// @brief One sample of `d`, clamped to [d.min, d.max].
  double sample(const DistSpec& d);

 private:
  std::mt19937_64 engine_;
};

/// @brief A seed for substream `stream` derived from a scenario seed (SplitMix64), so streams are independent.
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream);

}  // namespace kvsim
