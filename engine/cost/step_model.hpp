#pragma once
/// @file step_model.hpp
/// @brief How long a forward step takes: a StepModel returns each step's demand on the replica's resources in
/// seconds (GPU compute, HBM, NVLink between the replica's GPUs), which the SimGrid executor runs as one parallel
/// task on those resources, so that contention stays SimGrid's. The roofline (the paper's Eq. 4-16) is one model;
/// others (measured kernel profiles, fitted coefficients) plug in as registry entries. Fast-forward sums the
/// demands of identical decode steps through this interface.
///
/// Adding a step model: one file in engine/cost/, one line in engine/cost/registry.cpp, one test.

#include <memory>
#include <span>
#include <string_view>

#include "engine/cost_model.hpp"
#include "engine/registry.hpp"

namespace kvsim {

/// @brief Step times of one replica.
class StepModel {
 public:
  virtual ~StepModel() = default;
  /// @brief The registry name.
  virtual std::string_view name() const = 0;
  /// @brief The work (FLOPs and bytes per GPU, for the metrics) and the demand in seconds per resource of one
  /// forward step over `batch`; `seconds` and `bound` settled (StepCost::settle).
  virtual StepCost step(std::span<const SeqWork> batch) const = 0;
  /// @brief One prefill of `new_tokens` on `cached_tokens` alone on the replica (what recomputing costs).
  StepCost prefill(double new_tokens, double cached_tokens) const {
    const SeqWork s{new_tokens, cached_tokens};
    return step(std::span<const SeqWork>(&s, 1));
  }
};

struct ProfileTables;
struct FittedCoefficients;

/// @brief What a step model is made with, for one replica: its CostModel (the KV footprint, the model's arithmetic
/// and the deployment) and the data files a scenario names, read by sim/ before the run.
struct StepModelInputs {
  const CostModel& cost;
  std::shared_ptr<const ProfileTables> profile;      ///< `step_model.profile`: measured kernel tables, or null
  std::shared_ptr<const FittedCoefficients> fitted;  ///< `step_model.coefficients`: a fitted model, or null
};

/// @brief Step models by name; the key is `step_model.type`, parameters under `step_model`.
using StepModelRegistry = Registry<StepModel, const StepModelInputs&>;
StepModelRegistry& step_models();

}  // namespace kvsim
