// `roofline`: each step lasts the largest of its FLOPs over the GPU's effective FLOP/s, its HBM bytes (weights
// once, plus every sequence's KV) over the effective HBM bandwidth, and its all-reduce bytes over NVLink: the
// paper's Eq. 4-16, exactly (CostModel::step).
#include "engine/cost/models.hpp"

namespace kvsim {
namespace {
class RooflineStepModel final : public StepModel {
 public:
  explicit RooflineStepModel(const CostModel& cost) : cost_(cost) {}
  std::string_view name() const override { return "roofline"; }
  StepCost step(std::span<const SeqWork> batch) const override { return cost_.step(batch); }

 private:
  const CostModel& cost_;
};
}  // namespace

StepModelRegistry::Entry roofline_step_model() {
  return {"roofline",
          "max(FLOPs / FLOP/s, HBM bytes / bandwidth, all-reduce / NVLink) per step (the paper's Eq. 4-16)",
          {},
          [](const Params&, const StepModelInputs& in) { return std::make_unique<RooflineStepModel>(in.cost); }};
}

}  // namespace kvsim
