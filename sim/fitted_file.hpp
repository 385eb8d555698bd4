#pragma once
/// @file fitted_file.hpp
/// @brief The coefficient file of the `fitted` step model (written by `kvsim calibrate`, named by
/// `step_model.coefficients`): JSON holding the coefficients by feature name, what they were fitted on and the fit
/// error on the fit's own steps.
///
///   {"format": "kvsim-fitted-step-model", "version": 1,
///    "fitted_on": {"source": DIR, "hardware": GPU, "model": NAME, "tensor_parallel": N},
///    "coefficients": {"gemm_compute": c, ..., "per_sequence": c},
///    "units": {...}, "fit_error": {"all": {"steps": n, "mean": e, "p90": e, "max": e}, "prefill": ..., ...}}

#include <filesystem>
#include <string>

#include "engine/cost/fitted.hpp"

namespace kvsim {

/// @brief The file's text (pretty-printed JSON, keys in a fixed order: byte-identical for identical fits).
std::string fitted_to_json(const FittedCoefficients& c);

/// @brief Reads a coefficient file; throws InputError naming the file, the key, the value and what was expected
/// (a missing or unknown coefficient, a negative, non-finite or absurd one, a wrong format or version).
FittedCoefficients load_fitted_coefficients(const std::filesystem::path& file);

/// @brief `path` as a scenario names it: itself when absolute, else relative to the scenario file's directory.
std::filesystem::path beside(const std::filesystem::path& scenario_file, const std::string& path);

class Diagnostics;
struct ValueMap;

/// @brief The scenario key step_model.coefficients: required by step_model.type fitted, refused for the others,
/// its file read now so that a bad one is refused (added to `diag`) before anything runs.
void check_fitted_coefficients_key(const ValueMap& v, const std::filesystem::path& scenario_file, Diagnostics& diag);

}  // namespace kvsim
