#pragma once
/// @file fitted.hpp
/// @brief A physics-informed fitted step model (after BLIS): a step's time is a non-negative combination of its
/// roofline terms at the GPU's datasheet peaks plus per-layer, per-step and per-sequence overheads,
///   t = sum_k c_k x f_k(step),
/// with the features f_k below, per GPU of the replica. The coefficients carry the efficiencies the roofline
/// leaves out (c = 1 on a compute term means the datasheet peak), so a fit made on one GPU and model transfers to
/// another GPU by its datasheet and to another model by its arithmetic. Attention terms grow with the context
/// (prefill: query x key FLOPs; decode: KV bytes read), so the model extrapolates beyond the contexts it was fitted
/// on. The tensor-parallel all-reduce is not fitted (kernel profiles hold none): the fitted step model adds the
/// roofline's NVLink time after it, as Megatron-style tensor parallelism does not overlap the two.

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/cost_model.hpp"

namespace kvsim {

/// @brief The features of a step, in order. Seconds unless said otherwise; per GPU.
enum class Feature : std::size_t {
  kGemmCompute,       ///< the linear layers' FLOPs of every token in the step / peak FLOP/s
  kGemmMemory,        ///< the weight bytes the step reads / HBM bandwidth
  kGemmRoofline,      ///< max of the two above: the linear layers at the roofline
  kPrefillAttention,  ///< attention FLOPs of the prefill chunks (new tokens x context) / peak FLOP/s
  kPrefillKv,         ///< KV bytes the prefill chunks read and write / HBM bandwidth
  kDecodeKv,          ///< KV bytes the decoding sequences of a decode-only step read and write / HBM bandwidth
  kMixedDecodeKv,     ///< the same in a step that also runs a prefill chunk, where the decodes go through the
                      ///< prefill attention kernel (measured about 3x slower per byte on vLLM than the decode one)
  kLayers,            ///< the model's layer count (its coefficient: seconds per layer per step)
  kStep,              ///< 1 (seconds per step)
  kSequences,         ///< sequences in the step (seconds per sequence: sampling, per-request metadata)
  kCount
};
inline constexpr std::size_t kFeatureCount = static_cast<std::size_t>(Feature::kCount);
/// @brief The features' names, as the coefficient file spells them.
const std::array<std::string_view, kFeatureCount>& feature_names();
/// @brief The features whose terms are HBM traffic, whose share of a step the step model gives to HBM.
bool is_memory_feature(std::size_t k);

/// @brief The features of one step over `batch` for `cost`'s model and deployment, at the datasheet peaks.
std::array<double, kFeatureCount> step_features(const CostModel& cost, std::span<const SeqWork> batch);

/// @brief Which kind of step a training shape is, for the per-phase fit error.
enum class StepPhase { kPrefill, kDecode, kMixed };
/// @brief "prefill", "decode", "mixed".
std::string_view phase_name(StepPhase p);

/// @brief How well predictions match measurements: |predicted / measured - 1| over a set of steps.
struct FitError {
  std::size_t steps = 0;
  double mean = 0;  ///< mean |relative error|
  double p90 = 0;   ///< 90th percentile (nearest rank)
  double max = 0;
};

/// @brief The fit errors over all steps and per phase.
struct FitReport {
  FitError all, prefill, decode, mixed;
};

/// @brief A fitted step model: the coefficients and what they were fitted on.
struct FittedCoefficients {
  std::array<double, kFeatureCount> coef{};  ///< one per Feature, non-negative
  std::string source;                        ///< what they were fitted on (a bundle directory)
  std::string hardware;                      ///< the GPU of the fit
  std::string model;                         ///< the model of the fit
  int tensor_parallel = 1;
  FitReport error;  ///< on the fit's own steps

  /// @brief sum_k coef_k x features_k, in seconds.
  double seconds(const std::array<double, kFeatureCount>& features) const;
  /// @brief The part of seconds() from the HBM features.
  double memory_seconds(const std::array<double, kFeatureCount>& features) const;
};

/// @brief One training step: its features, measured seconds and phase.
struct TrainingStep {
  std::array<double, kFeatureCount> features{};
  double seconds = 0;
  StepPhase phase = StepPhase::kPrefill;
};

/// @brief The non-negative coefficients minimising sum ((t_pred - t) / t)^2 over `steps` (relative error; columns
/// are scaled to unit norm before the NNLS so the solution does not depend on the features' units). A feature
/// proportional to an earlier one over all steps is left at 0 and the earlier one takes the whole: on one dense
/// model the weights read, the layer count and the step constant are all constant, and the weight read (first)
/// takes them, so the constant part of a step transfers to another model by its weight bytes. Throws
/// std::invalid_argument when a step's measured time is not positive or there are no steps.
std::array<double, kFeatureCount> fit_coefficients(std::span<const TrainingStep> steps);

/// @brief The errors of `c` on `steps`.
FitReport fit_report(const FittedCoefficients& c, std::span<const TrainingStep> steps);

/// @brief A step shape to measure and fit on.
struct TrainingShape {
  std::vector<SeqWork> batch;
  StepPhase phase = StepPhase::kPrefill;
};

/// @brief The shapes a fit covers, within a profile's grid (contexts to `max_context` tokens): one prefill chunk
/// of 16..2048 tokens (x2) over 0..max_context tokens of history (x4), decode batches of 1..256 sequences (x2) at
/// 16..max_context tokens of context (x2), and mixed steps of a chunk with decoding sequences.
std::vector<TrainingShape> training_shapes(double max_context);

}  // namespace kvsim
