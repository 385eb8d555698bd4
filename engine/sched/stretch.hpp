#pragma once
/// @file stretch.hpp
/// @brief Fast-forward arithmetic shared by the schedulers (docs/design.md): a stretch of decode steps whose
/// only change from step to step is that every context grows by one token.

#include <cstdint>
#include <vector>

#include "engine/cost/step_model.hpp"
#include "engine/metrics_sink.hpp"
#include "engine/sched/scheduler.hpp"

namespace kvsim {

/// @brief The summed work and demand of steps [from, from + count) of a stretch whose step 0 runs `base`. When
/// each field is linear in the step's index (the roofline's are), the sum is count x (first + last) / 2; a step
/// model that is not linear (checked at the middle step) is summed step by step.
StepCost stretch_cost(const StepModel& steps, const std::vector<SeqWork>& base, std::int64_t from, std::int64_t count);

/// @brief Of the first `k` steps, how many in a row are bound by the same resource as step 0 (Σ max(...) equals
/// max(Σ ...) only then; the bound changes at most once per resource pair, as each is linear).
std::int64_t same_bound_steps(const StepModel& steps, const std::vector<SeqWork>& base, std::int64_t k);

/// @brief Where an event `done_fraction` into a stretch of `n` steps from `off` falls.
struct StretchSplit {
  std::int64_t whole = 0;  ///< steps done
  StepCost done;           ///< their work
  StepCost current;        ///< the step in progress, whole
  double left = 1;         ///< the fraction of it still to run
};
/// @brief Finds the step in progress when `done_fraction` of the stretch's `total` cost is done.
StretchSplit split_stretch_at(const StepModel& steps, const std::vector<SeqWork>& base, std::int64_t off,
                              std::int64_t n, const StepCost& total, double done_fraction);

/// @brief Prices a planned step: `plan.cost` from the step model over `work` (one SeqWork per batch entry, in
/// order), its FLOPs split between prefill and decode entries, and `plan.has_step` set.
void price_step(Plan& plan, const StepModel& steps, const CostModel& cost, const std::vector<SeqWork>& work);

/// @brief The metrics record of a finished step (or stretch of `steps` identical steps) over `batch`, whose work per
/// GPU is `cost`, on `tp` GPUs.
StepRecord step_record(double start, double end, const std::vector<BatchEntry>& batch, const StepCost& cost,
                       double prefill_flops, double decode_flops, std::int64_t steps, double tp);

/// @brief The record of what a stretch split at `s` has done by `end`: its whole decode steps and the done part of
/// the step in progress, so that work on either side of a split time (the metrics window's ends) is counted there.
StepRecord split_record(const StretchSplit& s, double start, double end, const std::vector<BatchEntry>& batch,
                        double tp);

}  // namespace kvsim
