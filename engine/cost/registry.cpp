// The registry of step models: one line per model.
#include "engine/cost/models.hpp"

namespace kvsim {

StepModelRegistry& step_models() {
  static StepModelRegistry r("step model", {
                                               roofline_step_model(),
                                               profiled_step_model(),
                                               fitted_step_model(),
                                           });
  return r;
}

}  // namespace kvsim
