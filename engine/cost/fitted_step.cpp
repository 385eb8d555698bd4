// `fitted`: a step lasts the fitted combination of its roofline terms and overheads (engine/cost/fitted.hpp), then
// the tensor-parallel all-reduce at the roofline's NVLink time. The work (FLOPs, bytes) is the roofline's.
#include "engine/cost/fitted.hpp"
#include "engine/cost/models.hpp"

#include <stdexcept>

namespace kvsim {
namespace {

class FittedStepModel final : public StepModel {
 public:
  FittedStepModel(const CostModel& cost, std::shared_ptr<const FittedCoefficients> fit)
      : cost_(cost), fit_(std::move(fit)) {}
  std::string_view name() const override { return "fitted"; }

  // The GPU is held for the fitted time plus the all-reduce; that whole duration goes to the resource with the
  // larger share of the fitted time (HBM for the memory features, else compute) and the other gets its share, so
  // that alone the step lasts the whole (StepCost::settle) and `bound` says what dominates.
  StepCost step(std::span<const SeqWork> batch) const override {
    StepCost c = cost_.step(batch);
    const auto f = step_features(cost_, batch);
    const double fitted = fit_->seconds(f);
    const double memory = fit_->memory_seconds(f);
    const double total = fitted + c.nvlink_s;
    if (memory > fitted - memory) {
      c.hbm_s = total;
      c.compute_s = fitted - memory;
    } else {
      c.compute_s = total;
      c.hbm_s = memory;
    }
    return c.settle();
  }

 private:
  const CostModel& cost_;
  std::shared_ptr<const FittedCoefficients> fit_;
};

}  // namespace

StepModelRegistry::Entry fitted_step_model() {
  return {"fitted",
          "a fitted non-negative combination of roofline terms at datasheet peaks and per-layer, per-step and "
          "per-sequence overheads (step_model.coefficients, made by `kvsim calibrate`), plus the all-reduce",
          {},
          [](const Params&, const StepModelInputs& in) -> std::unique_ptr<StepModel> {
            if (!in.fitted)
              throw std::invalid_argument(
                  "step model 'fitted' needs step_model.coefficients (a file "
                  "written by `kvsim calibrate`)");
            return std::make_unique<FittedStepModel>(in.cost, in.fitted);
          }};
}

}  // namespace kvsim
