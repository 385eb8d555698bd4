#include "engine/sched/stretch.hpp"

#include <algorithm>
#include <cmath>

namespace kvsim {
namespace {

bool on_line(double first, double mid, double last, double frac) {
  const double expect = first + frac * (last - first);
  return std::abs(mid - expect) <= 1e-12 * std::max({std::abs(first), std::abs(last), 1.0});
}

// Whether every field of a step's work and demand is linear in the step's index (checked at the middle step).
bool linear(const StepCost& a, const StepCost& m, const StepCost& b, double frac) {
  return on_line(a.flops_per_gpu, m.flops_per_gpu, b.flops_per_gpu, frac) &&
         on_line(a.hbm_bytes_per_gpu, m.hbm_bytes_per_gpu, b.hbm_bytes_per_gpu, frac) &&
         on_line(a.nvlink_bytes_per_gpu, m.nvlink_bytes_per_gpu, b.nvlink_bytes_per_gpu, frac) &&
         on_line(a.compute_s, m.compute_s, b.compute_s, frac) && on_line(a.hbm_s, m.hbm_s, b.hbm_s, frac) &&
         on_line(a.nvlink_s, m.nvlink_s, b.nvlink_s, frac);
}

StepCost step_at(const StepModel& steps, const std::vector<SeqWork>& base, std::int64_t i) {
  std::vector<SeqWork> w = base;
  for (auto& x : w) x.cached_tokens += double(i);
  return steps.step(w);
}

}  // namespace

StepCost stretch_cost(const StepModel& steps, const std::vector<SeqWork>& base, std::int64_t from, std::int64_t count) {
  const StepCost a = step_at(steps, base, from);
  if (count == 1) return a;
  const StepCost b = step_at(steps, base, from + count - 1), m = step_at(steps, base, from + count / 2);
  const double frac = double(count / 2) / double(count - 1), n = double(count);
  if (linear(a, m, b, frac)) {
    StepCost sum = a;
    sum += b;
    return sum.scaled(n / 2);
  }
  StepCost sum = a;
  for (std::int64_t i = from + 1; i < from + count; ++i) sum += step_at(steps, base, i);
  return sum;
}

std::int64_t same_bound_steps(const StepModel& steps, const std::vector<SeqWork>& base, std::int64_t k) {
  const Bound first = step_at(steps, base, 0).bound;
  if (step_at(steps, base, k - 1).bound == first) return k;
  std::int64_t lo = 0, hi = k - 1;  // step lo has the first step's bound, step hi does not
  while (hi - lo > 1) {
    const std::int64_t mid = (lo + hi) / 2;
    (step_at(steps, base, mid).bound == first ? lo : hi) = mid;
  }
  return lo + 1;
}

StretchSplit split_stretch_at(const StepModel& steps, const std::vector<SeqWork>& base, std::int64_t off,
                              std::int64_t n, const StepCost& total, double done_fraction) {
  const double target = std::clamp(done_fraction, 0.0, 1.0) * total.bound_seconds();
  // whole: the most steps with amount(off, whole) <= target (up to rounding); step `whole` is in progress.
  std::int64_t lo = 0, hi = n;
  while (hi - lo > 1) {
    const std::int64_t mid = (lo + hi) / 2;
    (stretch_cost(steps, base, off, mid).bound_seconds() <= target * (1 + 1e-12) ? lo : hi) = mid;
  }
  StretchSplit s;
  s.whole = lo;
  s.current = stretch_cost(steps, base, off + lo, 1);
  s.done = lo > 0 ? stretch_cost(steps, base, off, lo) : StepCost{};
  const double before = s.done.bound_seconds();
  s.left = std::clamp(1 - (target - before) / s.current.bound_seconds(), 0.0, 1.0);
  return s;
}

void price_step(Plan& plan, const StepModel& steps, const CostModel& cost, const std::vector<SeqWork>& work) {
  plan.has_step = true;
  plan.cost = steps.step(work);
  plan.prefill_flops = plan.decode_flops = 0;
  for (std::size_t i = 0; i < work.size(); ++i) {
    (plan.batch[i].prefill ? plan.prefill_flops : plan.decode_flops) += cost.seq_flops(work[i]);
  }
}

StepRecord step_record(double start, double end, const std::vector<BatchEntry>& batch, const StepCost& cost,
                       double prefill_flops, double decode_flops, std::int64_t steps, double tp) {
  StepRecord rec{start,
                 end,
                 0,
                 0,
                 static_cast<int>(batch.size()),
                 cost.flops_per_gpu * tp,
                 cost.hbm_bytes_per_gpu * tp,
                 prefill_flops,
                 decode_flops,
                 steps};
  for (const auto& e : batch) (e.prefill ? rec.prefill_tokens : rec.decode_tokens) += e.new_tokens * steps;
  return rec;
}

StepRecord split_record(const StretchSplit& s, double start, double end, const std::vector<BatchEntry>& batch,
                        double tp) {
  const double part = 1 - s.left;
  const double flops = (s.done.flops_per_gpu + part * s.current.flops_per_gpu) * tp;
  StepRecord rec{start,
                 end,
                 0,
                 0,
                 static_cast<int>(batch.size()),
                 flops,
                 (s.done.hbm_bytes_per_gpu + part * s.current.hbm_bytes_per_gpu) * tp,
                 0,
                 flops,
                 s.whole};
  for (const auto& e : batch) rec.decode_tokens += e.new_tokens * s.whole;
  return rec;
}

}  // namespace kvsim
