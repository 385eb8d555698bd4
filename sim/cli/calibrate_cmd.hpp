#pragma once
/// @file calibrate_cmd.hpp
/// @brief `kvsim calibrate BUNDLE_DIR -o FILE`: fits the `fitted` step model (engine/cost/fitted.hpp) to a measured
/// kernel profile bundle and writes its coefficient file; `--check OTHER_BUNDLE` reports how the fit predicts
/// another bundle (another model or GPU).

#include <CLI/CLI.hpp>
#include <iosfwd>
#include <span>
#include <string>
#include <vector>

#include "engine/cost/fitted.hpp"
#include "sim/cli/calibrate_bundle.hpp"

namespace kvsim::cli {

/// @brief Options of `kvsim calibrate`.
struct CalibrateOptions {
  std::string bundle;
  int tp = 1;
  std::string model;  ///< catalog model; empty: from the bundle's meta.yaml
  std::string gpu;    ///< catalog GPU; empty: from the bundle's meta.yaml
  std::string out;
  std::string check;        ///< another bundle to predict
  std::string check_model;  ///< its catalog model; empty: from its meta.yaml
  std::string check_gpu;    ///< its catalog GPU; empty: from its meta.yaml
  std::string platforms;
};

/// @brief Each of `shapes` with its features on `cost` and its time by `timer`.
std::vector<TrainingStep> measure_steps(const CostModel& cost, std::span<const TrainingShape> shapes,
                                        const StepTimer& timer);

/// @brief Fits the coefficients to `steps` and reports their error on them.
FittedCoefficients calibrate_steps(std::span<const TrainingStep> steps);

/// @brief The fit error table (phase, steps, mean, p90, max).
void print_fit_report(std::ostream& out, const FitReport& r);

/// @brief Registers `calibrate` on `app`.
void add_calibrate_command(CLI::App& app, CalibrateOptions& o);
/// @brief Runs it; returns the exit code.
int run_calibrate(const CalibrateOptions& o);

}  // namespace kvsim::cli
