#pragma once
/// @file calibrate_bundle.hpp
/// @brief What `kvsim calibrate` needs from a measured kernel profile bundle
/// (profiles/<GPU>/<org>/<model>/<variant>/: meta.yaml and tp<N>/*.csv): its description, and the step time it
/// measures for any batch (ProfileTables::step, by the bundle reader of sim/profile_bundle.hpp).

#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "engine/kv_compression.hpp"
#include "sim/catalog.hpp"

namespace kvsim::cli {

/// @brief meta.yaml of a bundle: which GPU and model it measured, at which TP degrees, over which contexts.
struct BundleInfo {
  std::filesystem::path dir;
  std::string hardware;  ///< `hardware:` (e.g. RTXPRO6000)
  std::string gpu;       ///< `gpu:`, the device name
  std::string model;     ///< `model:`, the Hugging Face name
  std::vector<int> tp_degrees;
  double max_context = 0;  ///< `attention_grid.max_kv`, the longest context measured
};

/// @brief Reads `dir`/meta.yaml; InputError (exit 2) naming the directory or the key when it is not a bundle.
BundleInfo read_bundle_info(const std::filesystem::path& dir);

/// @brief The catalog GPU a bundle measured: `gpu_name` when given, else the catalog GPU whose name matches the
/// bundle's `hardware:` ignoring case and punctuation (RTX4090 = rtx-4090). InputError naming the flag otherwise.
const GpuSpec& bundle_gpu(const Catalog& cat, const BundleInfo& b, const std::string& gpu_name);
/// @brief The catalog model a bundle measured: `model_name` when given, else the catalog model whose name matches
/// the last part of the bundle's Hugging Face name ignoring case and punctuation (meta-llama/Llama-3.1-8B =
/// llama-3.1-8b). InputError naming the flag otherwise.
const ModelSpec& bundle_model(const Catalog& cat, const BundleInfo& b, const std::string& model_name);

/// @brief Seconds a batch takes by the bundle's tables.
using StepTimer = std::function<double(std::span<const SeqWork>)>;
/// @brief The measured step time of `b` at `tp` for `model` (load_profile_bundle and ProfileTables::step).
/// InputError when the tables are missing or bad, or do not fit the model (profile_model_mismatch).
StepTimer bundle_step_timer(const BundleInfo& b, int tp, const ModelSpec& model);

}  // namespace kvsim::cli
