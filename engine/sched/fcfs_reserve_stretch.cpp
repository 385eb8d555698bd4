// Fast-forward (docs/design.md): between two changes of the batch, decode steps differ only in that every context
// grows by one token, so a stretch of them runs as one activity whose work is the exact sum of its steps. The
// stretch ends where the scheduler knows the batch changes (the first answer to finish); an event it cannot know
// (an arrival, a transfer landing) splits it at the step in progress, so the event is seen at the same step
// boundary as without fast-forward.
#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/sched/fcfs_reserve.hpp"
#include "engine/sched/stretch.hpp"

namespace kvsim {

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
  return k <= 1 ? 1 : same_bound_steps(steps_, work_, k);
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
  return ::kvsim::stretch_cost(steps_, stretch_base_, from, count);
}

void FcfsReserveScheduler::credit_steps(std::int64_t steps, double now) {
  for (std::int64_t i = 0; i < steps; ++i) {
    for (const auto& e : inflight_) apply_entry(e, now);
  }
}

StepCost FcfsReserveScheduler::split_stretch(double done_fraction, double now) {
  const StretchSplit sp =
      split_stretch_at(steps_, stretch_base_, inflight_offset_, inflight_steps_, inflight_cost_, done_fraction);
  const double tp = cost_.deployment().tensor_parallel;
  // The work done so far is reported now, the rest of the step in progress at its end.
  sink_.on_step(split_record(sp, step_start_, now, inflight_, tp));
  credit_steps(sp.whole, now);
  step_start_ = now;
  inflight_offset_ += sp.whole;
  inflight_steps_ = 1;
  inflight_cost_ = sp.current.scaled(sp.left);
  inflight_prefill_flops_ = 0;
  inflight_decode_flops_ = inflight_cost_.flops_per_gpu * tp;
  report(now);
  return inflight_cost_;
}

}  // namespace kvsim
