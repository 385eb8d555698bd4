#pragma once
/// @file plan_frontier.hpp
/// @brief The Pareto frontier of `kvsim plan`: sessions per hour per GPU (higher is better) against TTFT p90 (lower
/// is better), and the test that prunes a candidate whose analytic bounds already place it behind the frontier.

#include <cstddef>
#include <vector>

namespace kvsim::cli {

/// @brief One simulated candidate on the two axes.
struct FrontierPoint {
  std::size_t index = 0;
  double per_gpu = 0;   ///< sessions per hour per GPU
  double ttft_p90 = 0;  ///< seconds
};

/// @brief Whether `a` dominates `b`: at least as many sessions per GPU and at most the TTFT, better in one.
bool dominates(const FrontierPoint& a, const FrontierPoint& b);

/// @brief The points no other point dominates (equal points all stay), by TTFT p90 ascending, then sessions per
/// GPU descending, then index.
std::vector<FrontierPoint> pareto_frontier(const std::vector<FrontierPoint>& points);

/// @brief Whether every outcome a candidate can have, at most `per_gpu_ub` sessions per hour per GPU and at least
/// `ttft_lb` s of TTFT p90, is dominated by a point of `frontier`: one with at least the bound's sessions and at
/// most its TTFT, strictly better in one of the two.
bool surely_dominated(double per_gpu_ub, double ttft_lb, const std::vector<FrontierPoint>& frontier);

}  // namespace kvsim::cli
