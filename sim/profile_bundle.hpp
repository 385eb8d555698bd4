#pragma once
/// @file profile_bundle.hpp
/// @brief Reads an LLMServingSim profile bundle (DIR/meta.yaml, DIR/tp<N>/dense.csv, attention.csv in the legacy
/// layout prefill_chunk,kv_prefill,n_decode,kv_decode,time_us, per_sequence.csv and, for MoE models, moe.csv,
/// and, when meta.yaml enables the skew fit at that degree, its legacy skew_fit.csv) into ProfileTables.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "engine/cost/profile_tables.hpp"
#include "engine/hardware.hpp"
#include "sim/diagnostics.hpp"
#include "sim/schema.hpp"

namespace kvsim {

/// @brief The largest bundle CSV kvsim reads: 16 MiB, over thirty times the largest real attention.csv (0.5 MB).
inline constexpr std::uintmax_t kMaxProfileCsvBytes = 16u << 20;

/// @brief Reads DIR/meta.yaml and DIR/tp<tp>/*.csv; throws InputError naming file, line, column and value on any
/// problem (a missing file or tp directory, a wrong header or column count, a non-number, a negative time or
/// coordinate, a repeated point).
ProfileTables load_profile_bundle(const std::filesystem::path& dir, int tp);

/// @brief Empty when `t` measures `model` (its name or description names the bundle's model; MoE tables exactly
/// when the model routes experts, with its expert count and top-k), else what differs and what to change.
std::string profile_model_mismatch(const ProfileTables& t, const ModelSpec& model);

/// @brief The scenario's `step_model.profile`, relative to `scenario_file`, at hardware.tensor_parallel: null when
/// unset. Problems go to `diag`: the key set for a step model other than profiled or missing for profiled, a bad
/// bundle (its own file and line), a bundle of another model.
std::shared_ptr<const ProfileTables> read_step_profile(const ValueMap& v, const std::filesystem::path& scenario_file,
                                                       const std::string& step_model, const ModelSpec& model,
                                                       const Deployment& deployment, Diagnostics& diag);

}  // namespace kvsim
