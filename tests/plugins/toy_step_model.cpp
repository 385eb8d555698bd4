// `toy-constant`: every forward step lasts `step_seconds` of GPU compute, whatever its batch; no HBM or NVLink.
#include "tests/plugins/toys.hpp"

namespace kvsim::toys {
namespace {
class ConstantStepModel final : public StepModel {
 public:
  explicit ConstantStepModel(double seconds) : seconds_(seconds) {}
  std::string_view name() const override { return "toy-constant"; }
  StepCost step(std::span<const SeqWork>) const override {
    StepCost c;
    c.compute_s = seconds_;
    return c.settle();
  }

 private:
  double seconds_;
};
}  // namespace

StepModelRegistry::Entry constant_step_model() {
  return {"toy-constant",
          "every step lasts step_seconds",
          {ParamSpec{.name = "step_seconds",
                     .dim = Dim::kTime,
                     .default_value = "10ms",
                     .min = 0,
                     .max = 1,
                     .min_exclusive = true,
                     .description = "length of every step"}},
          [](const Params& p, const StepModelInputs&) {
            return std::make_unique<ConstantStepModel>(p.number("step_seconds"));
          }};
}

}  // namespace kvsim::toys
