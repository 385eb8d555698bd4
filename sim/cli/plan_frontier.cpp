// Pareto dominance on (sessions per hour per GPU, TTFT p90).
#include "sim/cli/plan_frontier.hpp"

#include <algorithm>

namespace kvsim::cli {

bool dominates(const FrontierPoint& a, const FrontierPoint& b) {
  return a.per_gpu >= b.per_gpu && a.ttft_p90 <= b.ttft_p90 && (a.per_gpu > b.per_gpu || a.ttft_p90 < b.ttft_p90);
}

std::vector<FrontierPoint> pareto_frontier(const std::vector<FrontierPoint>& points) {
  std::vector<FrontierPoint> out;
  for (const auto& p : points) {
    if (std::none_of(points.begin(), points.end(), [&](const FrontierPoint& q) { return dominates(q, p); })) {
      out.push_back(p);
    }
  }
  std::sort(out.begin(), out.end(), [](const FrontierPoint& a, const FrontierPoint& b) {
    if (a.ttft_p90 != b.ttft_p90) return a.ttft_p90 < b.ttft_p90;
    if (a.per_gpu != b.per_gpu) return a.per_gpu > b.per_gpu;
    return a.index < b.index;
  });
  return out;
}

bool surely_dominated(double per_gpu_ub, double ttft_lb, const std::vector<FrontierPoint>& frontier) {
  return std::any_of(frontier.begin(), frontier.end(), [&](const FrontierPoint& f) {
    return f.per_gpu >= per_gpu_ub && f.ttft_p90 <= ttft_lb && (f.per_gpu > per_gpu_ub || f.ttft_p90 < ttft_lb);
  });
}

}  // namespace kvsim::cli
