#pragma once
/// @file dtype.hpp
/// @brief Element types of weights, KV and tensor-core compute, with their size in bytes.

#include <optional>
#include <string>

namespace kvsim {

/// @brief Element types for weights, KV and compute, with their size in bytes (fp4 and int4 = 0.5, int2 = 0.25).
enum class DType { kFp32, kBf16, kFp16, kFp8, kInt8, kFp4, kInt4, kInt2 };

/// @brief Bytes per element of `t`.
double dtype_bytes(DType t);
/// @brief Parses "bf16", "fp8", ... ; nullopt if unknown.
std::optional<DType> parse_dtype(const std::string& name);
/// @brief The valid dtype names, comma separated, for error messages.
std::string dtype_names();
/// @brief Canonical name of a dtype.
std::string dtype_name(DType t);

}  // namespace kvsim
