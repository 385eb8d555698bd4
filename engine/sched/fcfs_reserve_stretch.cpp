// Fast-forward (docs/design.md): between two changes of the batch, decode steps differ only in that every context
// grows by one token, so a stretch of them runs as one activity whose work is the exact sum of its steps. The
// stretch ends where the scheduler knows the batch changes (the first answer to finish); an event it cannot know
// (an arrival, a transfer landing) splits it at the step in progress, so the event is seen at the same step
// boundary as without fast-forward.
#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/sched/fcfs_reserve.hpp"

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

}  // namespace

// The number of identical decode steps from here: 1 unless fast-forward is on and the step is decode only; else
// up to the first answer to finish, and no further than the last step bound by the same resource as the first
// (Σ max(...) equals max(Σ ...) only then; the bound changes at most once per resource pair, as each is linear).
std::int64_t FcfsReserveScheduler::stretch_length() const {
  if (!config_.fast_forward || plan_.load_bytes > 0) return 1;
  std::int64_t k = std::numeric_limits<std::int64_t>::max();
  for (const auto& e : plan_.batch) {
    if (e.prefill) return 1;
    const Session& s = sessions_.at(e.session);
    k = std::min(k, s.round.answer_tokens - s.decoded);
  }
  if (k <= 1) return 1;
  const auto step_at = [&](std::int64_t i) {
    std::vector<SeqWork> w = work_;
    for (auto& x : w) x.cached_tokens += double(i);
    return steps_.step(w);
  };
  const Bound first = step_at(0).bound;
  if (step_at(k - 1).bound == first) return k;
  std::int64_t lo = 0, hi = k - 1;  // step lo has the first step's bound, step hi does not
  while (hi - lo > 1) {
    const std::int64_t mid = (lo + hi) / 2;
    (step_at(mid).bound == first ? lo : hi) = mid;
  }
  return lo + 1;
}

void FcfsReserveScheduler::start_stretch(std::int64_t steps) {
  inflight_steps_ = steps;
  inflight_offset_ = 0;
  plan_.steps = steps;
  if (steps == 1) return;
  stretch_base_ = work_;
  plan_.cost = stretch_cost(0, steps);
  plan_.prefill_flops = 0;
  plan_.decode_flops = plan_.cost.flops_per_gpu * cost_.deployment().tensor_parallel;
  inflight_cost_ = plan_.cost;
  inflight_prefill_flops_ = 0;
  inflight_decode_flops_ = plan_.decode_flops;
}

// The summed work and demand of steps [from, from + count) of the stretch. When each is linear in the step's index
// (the roofline's are), the sum is count x (first + last) / 2; a step model that is not linear (checked at the
// middle step) is summed step by step.
StepCost FcfsReserveScheduler::stretch_cost(std::int64_t from, std::int64_t count) const {
  std::vector<SeqWork> w = stretch_base_;
  const auto at = [&](std::int64_t i) {
    for (std::size_t s = 0; s < w.size(); ++s) w[s].cached_tokens = stretch_base_[s].cached_tokens + double(i);
    return steps_.step(w);
  };
  const StepCost a = at(from);
  if (count == 1) return a;
  const StepCost b = at(from + count - 1), m = at(from + count / 2);
  const double frac = double(count / 2) / double(count - 1), n = double(count);
  if (linear(a, m, b, frac)) {
    StepCost sum = a;
    sum += b;
    return sum.scaled(n / 2);
  }
  StepCost sum = a;
  for (std::int64_t i = from + 1; i < from + count; ++i) sum += at(i);
  return sum;
}

void FcfsReserveScheduler::credit_steps(std::int64_t steps, double now) {
  for (std::int64_t i = 0; i < steps; ++i) {
    for (const auto& e : inflight_) apply_entry(e, now);
  }
}

StepCost FcfsReserveScheduler::split_stretch(double done_fraction, double now) {
  const std::int64_t n = inflight_steps_, off = inflight_offset_;
  const double total = inflight_cost_.bound_seconds();
  const double target = std::clamp(done_fraction, 0.0, 1.0) * total;
  // j: whole steps done, the largest with amount(off, j) <= target (up to rounding); step j is in progress.
  std::int64_t lo = 0, hi = n;
  while (hi - lo > 1) {
    const std::int64_t mid = (lo + hi) / 2;
    (stretch_cost(off, mid).bound_seconds() <= target * (1 + 1e-12) ? lo : hi) = mid;
  }
  const std::int64_t j = lo;
  const StepCost current = stretch_cost(off + j, 1);
  const double before = j > 0 ? stretch_cost(off, j).bound_seconds() : 0;
  const double left = std::clamp(1 - (target - before) / current.bound_seconds(), 0.0, 1.0);
  const double tp = cost_.deployment().tensor_parallel;
  // The work done so far (j whole steps and part of step j) is reported now, the rest of step j at its end, so
  // that work on either side of a split time (the metrics window's ends) is counted on its side.
  const StepCost done = j > 0 ? stretch_cost(off, j) : StepCost{};
  const double part = 1 - left;
  StepRecord rec{step_start_,
                 now,
                 0,
                 0,
                 static_cast<int>(inflight_.size()),
                 (done.flops_per_gpu + part * current.flops_per_gpu) * tp,
                 (done.hbm_bytes_per_gpu + part * current.hbm_bytes_per_gpu) * tp,
                 0,
                 (done.flops_per_gpu + part * current.flops_per_gpu) * tp,
                 j};
  for (const auto& e : inflight_) rec.decode_tokens += e.new_tokens * j;
  sink_.on_step(rec);
  credit_steps(j, now);
  step_start_ = now;
  inflight_offset_ = off + j;
  inflight_steps_ = 1;
  inflight_cost_ = current.scaled(left);
  inflight_prefill_flops_ = 0;
  inflight_decode_flops_ = inflight_cost_.flops_per_gpu * tp;
  report(now);
  return inflight_cost_;
}

}  // namespace kvsim
