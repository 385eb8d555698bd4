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
  const std::int64_t off = inflight_offset_;
  const StretchSplit sp = split_stretch_at(steps_, stretch_base_, off, inflight_steps_, inflight_cost_, done_fraction);
  const std::int64_t j = sp.whole;
  const StepCost current = sp.current;
  const double left = sp.left;
  const double tp = cost_.deployment().tensor_parallel;
  // The work done so far (j whole steps and part of step j) is reported now, the rest of step j at its end, so
  // that work on either side of a split time (the metrics window's ends) is counted on its side.
  const StepCost& done = sp.done;
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
