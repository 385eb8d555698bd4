// `profiled`: each step lasts what measured kernels of the model on the GPU add up to (ProfileTables::step: an
// LLMServingSim profile bundle, `step_model.profile`), as GPU compute demand. The tables hold no all-reduce: at
// tensor_parallel > 1 the roofline's NVLink demand (two ring all-reduces of T x hidden_size activations per layer,
// CostModel::step) runs beside it. FLOPs and bytes are the roofline's, so the metrics that count them keep their
// meaning; HBM time is inside the measured kernels, so the step puts no separate demand on HBM.
#include "engine/cost/models.hpp"
#include "engine/cost/profile_tables.hpp"

#include <stdexcept>

namespace kvsim {
namespace {
class ProfiledStepModel final : public StepModel {
 public:
  ProfiledStepModel(const CostModel& cost, std::shared_ptr<const ProfileTables> profile)
      : cost_(cost), profile_(std::move(profile)) {}
  std::string_view name() const override { return "profiled"; }
  StepCost step(std::span<const SeqWork> batch) const override {
    StepCost c = cost_.step(batch);
    c.compute_s = profile_->step(batch, cost_.model().layers).total_us * 1e-6;
    c.hbm_s = 0;
    return c.settle();
  }

 private:
  const CostModel& cost_;
  std::shared_ptr<const ProfileTables> profile_;
};
}  // namespace

StepModelRegistry::Entry profiled_step_model() {
  return {"profiled",
          "measured kernel times of the model on the GPU (step_model.profile, an LLMServingSim profile bundle), "
          "plus the tensor-parallel all-reduce over NVLink",
          {},
          [](const Params&, const StepModelInputs& in) -> std::unique_ptr<StepModel> {
            if (!in.profile)
              throw std::invalid_argument("step model profiled needs step_model.profile, a bundle directory");
            return std::make_unique<ProfiledStepModel>(in.cost, in.profile);
          }};
}

}  // namespace kvsim
