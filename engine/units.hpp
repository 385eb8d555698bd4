#pragma once
/// @file units.hpp
/// @brief The one place where quantities written with units ("312Tf", "2.039TBps", "80GiB", "60s") are parsed
/// and printed. Every quantity in kvsim is stored in SI base units: bytes, bytes/s, flop, flop/s, seconds.

#include <optional>
#include <string>
#include <string_view>

namespace kvsim {

/// @brief The physical dimension a quantity must have; the parser rejects a unit of another dimension.
enum class Dim {
  kBytes,      ///< "80GiB", "68GB", "512B"
  kBandwidth,  ///< bytes per second: "2.039TBps", "20GB/s", "64Gbps" (bits, divided by 8)
  kFlops,      ///< a FLOP count: "4.63PFLOP", "1e15flop"
  kFlopRate,   ///< FLOP per second: "312Tf" (SimGrid), "312TFLOPS", "312Tflop/s"
  kTime,       ///< seconds: "60s", "500ms", "2min", "1h", "1d"
  kRate,       ///< events per second: "0.01/s", "36/h", "2/min"
  kTokenRate,  ///< tokens per second: "6tok/s"
  kTokens,     ///< token count, decimal suffixes: "4K" = 4000, "1M" = 1e6, or a plain number
  kCount,      ///< a dimensionless count with decimal suffixes: "34B" = 34e9 parameters, "12.9B"
  kRatio,      ///< a plain number or a percentage: "0.7", "70%"
};

/// @brief Human-readable name of a dimension with an example, used in error messages ("bytes, e.g. 80GiB").
std::string dim_description(Dim dim);

/// @brief Outcome of parsing one quantity: a value in base units, or an error saying what was expected.
struct ParsedQuantity {
  std::optional<double> value;
  std::string error;  ///< empty on success
};

/// @brief Parses `text` as a quantity of dimension `dim`. Dimensioned quantities require a unit; tokens, counts
/// and ratios accept plain numbers. Negative values are accepted here; range checks belong to the caller.
ParsedQuantity parse_quantity(std::string_view text, Dim dim);

/// @brief Like parse_quantity, but throws std::invalid_argument with the error message on failure.
double parse_or_throw(std::string_view text, Dim dim);

/// @brief Formats bytes with a decimal prefix and says so: "12.29 GB".
std::string format_bytes(double bytes);
/// @brief Formats bytes with a binary prefix: "11.44 GiB".
std::string format_bytes_binary(double bytes);
/// @brief Formats a duration: "14.84 s", "39.5 ms", "2.1 min".
std::string format_seconds(double seconds);
/// @brief Formats a rate in bytes per second: "31.5 GB/s".
std::string format_bandwidth(double bytes_per_s);
/// @brief Formats FLOPs: "4.629 PFLOP".
std::string format_flops(double flops);

}  // namespace kvsim
