#pragma once
/// @file trace_record.hpp
/// @brief Internals shared by the trace readers: one parsed line, and the per-format line parsers.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "workloads/trace.hpp"

namespace kvsim::trace_detail {

/// @brief One request or round as a reader parsed it from one line.
struct Record {
  std::string session;
  bool has_arrival = true;
  double arrival_s = 0;
  double think_s = 0;
  std::int64_t prompt_tokens = 0;
  std::int64_t output_tokens = 0;
  std::vector<std::uint64_t> blocks;
  bool stateless = true;
};

/// @brief Thrown by a line parser: the field, the bad value and what was expected (file and line added later).
struct LineProblem {
  std::string field;
  std::string value;
  std::string message;
};

/// @brief Per-file state a parser may keep (Azure's first timestamp, kvsim's header).
struct ParseState {
  int line = 0;
  long records = 0;
  bool header_done = false;
  std::int64_t block_tokens = 0;  ///< set by a kvsim header line
  std::int64_t day0 = 0;
  double second0 = -1;
};

/// @brief Parses one line of `format`; nullopt for a line that holds no request (a header).
std::optional<Record> parse_line(const std::string& format, const std::string& text, ParseState& state);

/// @brief A JSON value as text, shortened for messages.
std::string excerpt(const nlohmann::json& v);
/// @brief A non-negative integer member of `obj`, or a LineProblem naming `key`.
std::int64_t get_count(const nlohmann::json& obj, const char* key, std::int64_t min);
/// @brief A list of non-negative integer ids.
std::vector<std::uint64_t> get_ids(const nlohmann::json& v, const std::string& field);

}  // namespace kvsim::trace_detail
