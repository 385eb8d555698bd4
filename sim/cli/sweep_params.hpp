#pragma once
/// @file sweep_params.hpp
/// @brief The parameters of `kvsim sweep` and `kvsim capacity`: `--param key=SPEC` where SPEC is a list
/// (`swap,recompute`), a linear range (`a:b:step`, both ends included), a geometric range (`a:b:xF`, each value F
/// times the last) or one value. Range ends may carry a unit (`10/h:200/h:10/h`, or `10:200:10/h`, where the
/// last unit given applies to all three). The sweep's points are the cartesian product, the first parameter
/// varying slowest.

#include <cstddef>
#include <string>
#include <vector>

namespace kvsim::cli {

/// @brief One swept key and its values, as `--set` would write them.
struct SweepParam {
  std::string key;
  std::vector<std::string> values;
};

/// @brief One point of the product: a value per parameter, in parameter order.
struct SweepPoint {
  std::size_t index = 0;
  std::vector<std::string> values;
};

/// @brief Parses one `--param key=SPEC`; throws InputError naming the flag, the value and what was expected.
SweepParam parse_sweep_param(const std::string& flag, const std::string& text);

/// @brief Parses every `--param`; the same key twice is an error.
std::vector<SweepParam> parse_sweep_params(const std::string& flag, const std::vector<std::string>& texts);

/// @brief The cartesian product of `params`, the first varying slowest; one empty point when there are none.
std::vector<SweepPoint> sweep_points(const std::vector<SweepParam>& params);

/// @brief `key=value` overrides of one point.
std::vector<std::string> point_sets(const std::vector<SweepParam>& params, const SweepPoint& p);

}  // namespace kvsim::cli
