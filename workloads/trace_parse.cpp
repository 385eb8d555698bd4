// Line parsers of the four trace formats. Each turns one line into a Record or throws a LineProblem naming the
// field, the bad value and what was expected; trace.cpp adds the file and the line number.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "workloads/trace_record.hpp"

namespace kvsim::trace_detail {
using nlohmann::json;
namespace {

// At most 60 bytes of a field, so an error quotes the offending token and not the line (escaped when printed).
std::string token(const std::string& text) {
  return text.size() > 60 ? text.substr(0, 60) + "..." : text;
}

// The token a JSON parse error stopped at: the literal (letters, digits, . + - _) starting at byte `at` (1-based),
// or that one character; never the rest of the line.
std::string json_token(const std::string& text, std::size_t at) {
  const std::size_t start = std::min(at > 0 ? at - 1 : 0, text.size());
  std::size_t end = start;
  const auto literal = [](unsigned char c) { return std::isalnum(c) || c == '.' || c == '+' || c == '-' || c == '_'; };
  while (end < text.size() && end - start < 20 && literal(static_cast<unsigned char>(text[end]))) ++end;
  if (end == start && start < text.size()) ++end;
  return text.substr(start, end - start);
}

json parse_json(const std::string& text) {
  try {
    json j = json::parse(text);
    if (!j.is_object()) throw LineProblem{"", j.type_name(), "expected a JSON object per line"};
    return j;
  } catch (const json::parse_error& e) {
    throw LineProblem{"", json_token(text, e.byte), fmt::format("not valid JSON (at byte {})", e.byte)};
  } catch (const json::out_of_range&) {  // a number too large for a double, such as 1e999 (found by fuzz_trace)
    throw LineProblem{"", "", "a number out of range (too large for a double)"};
  }
}

double get_time(const json& obj, const char* key, double divisor) {
  if (!obj.contains(key)) throw LineProblem{key, "", "missing field"};
  const json& v = obj[key];
  double t = NAN;
  if (v.is_number()) {
    t = v.get<double>();
  } else if (v.is_string()) {  // RAGPulse writes its timestamps as strings
    const std::string s = v.get<std::string>();
    std::size_t used = 0;
    try {
      t = std::stod(s, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != s.size() || s.empty()) t = NAN;
  }
  if (!std::isfinite(t) || t < 0) throw LineProblem{key, excerpt(v), "expected a non-negative number"};
  return t / divisor;
}

Record mooncake(const std::string& text, ParseState& state) {
  const json j = parse_json(text);
  Record r;
  r.session = fmt::format("r{}", state.line);
  r.arrival_s = get_time(j, "timestamp", 1000.0);
  r.prompt_tokens = get_count(j, "input_length", 1);
  r.output_tokens = get_count(j, "output_length", 1);
  if (!j.contains("hash_ids")) throw LineProblem{"hash_ids", "", "missing field"};
  r.blocks = get_ids(j["hash_ids"], "hash_ids");
  return r;
}

Record ragpulse(const std::string& text, ParseState&) {
  const json j = parse_json(text);
  Record r;
  r.arrival_s = get_time(j, "timestamp", 1.0);
  r.prompt_tokens = get_count(j, "input_length", 1);
  r.output_tokens = get_count(j, "output_length", 1);
  if (!j.contains("session_id") || !j["session_id"].is_string() || j["session_id"].get<std::string>().empty()) {
    throw LineProblem{"session_id", j.contains("session_id") ? excerpt(j["session_id"]) : "", "expected a string"};
  }
  r.session = j["session_id"].get<std::string>();
  if (!j.contains("hash_ids") || !j["hash_ids"].is_object()) {
    throw LineProblem{"hash_ids", j.contains("hash_ids") ? excerpt(j["hash_ids"]) : "",
                      "expected an object of parts (sys_prompt, passages_ids, history, web_search, user_input)"};
  }
  for (const char* part : {"sys_prompt", "passages_ids", "history", "web_search", "user_input"}) {
    if (!j["hash_ids"].contains(part)) continue;
    const auto ids = get_ids(j["hash_ids"][part], std::string("hash_ids.") + part);
    r.blocks.insert(r.blocks.end(), ids.begin(), ids.end());
  }
  return r;
}

std::optional<Record> kvsim_line(const std::string& text, ParseState& state) {
  const json j = parse_json(text);
  if (!state.header_done && j.contains("kvsim_trace")) {
    state.header_done = true;
    if (j["kvsim_trace"] != 1) throw LineProblem{"kvsim_trace", excerpt(j["kvsim_trace"]), "expected version 1"};
    if (j.contains("block_tokens")) state.block_tokens = get_count(j, "block_tokens", 1);
    return std::nullopt;
  }
  state.header_done = true;
  Record r;
  if (!j.contains("session_id") || !j["session_id"].is_string()) {
    throw LineProblem{"session_id", j.contains("session_id") ? excerpt(j["session_id"]) : "", "expected a string"};
  }
  r.session = j["session_id"].get<std::string>();
  r.has_arrival = j.contains("arrival_s");
  if (r.has_arrival == j.contains("think_s")) {
    throw LineProblem{"arrival_s", "", "expected exactly one of arrival_s (open loop) and think_s"};
  }
  if (r.has_arrival)
    r.arrival_s = get_time(j, "arrival_s", 1.0);
  else
    r.think_s = get_time(j, "think_s", 1.0);
  r.prompt_tokens = get_count(j, "prompt_tokens", 0);
  r.output_tokens = get_count(j, "output_tokens", 1);
  if (j.contains("prefix_blocks")) r.blocks = get_ids(j["prefix_blocks"], "prefix_blocks");
  r.stateless = false;
  if (j.contains("stateless")) {
    if (!j["stateless"].is_boolean()) throw LineProblem{"stateless", excerpt(j["stateless"]), "expected true or false"};
    r.stateless = j["stateless"].get<bool>();
  }
  return r;
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::int64_t csv_count(const std::string& text, const char* field, std::int64_t min) {
  std::size_t used = 0;
  long long v = -1;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || v < min) {
    throw LineProblem{field, token(text), fmt::format("expected an integer >= {}", min)};
  }
  return v;
}

std::optional<Record> azure(const std::string& text, ParseState& state) {
  if (!state.header_done) {
    state.header_done = true;
    if (text != "TIMESTAMP,ContextTokens,GeneratedTokens") {
      throw LineProblem{"header", "", "the first line is not the header TIMESTAMP,ContextTokens,GeneratedTokens"};
    }
    return std::nullopt;
  }
  std::vector<std::string> cols;
  for (std::size_t s = 0, e; s <= text.size(); s = e + 1) {
    e = text.find(',', s);
    if (e == std::string::npos) e = text.size();
    cols.push_back(text.substr(s, e - s));
  }
  if (cols.size() != 3)
    throw LineProblem{"", fmt::format("{} columns", cols.size()), "expected 3 comma-separated columns"};
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, n = 0;
  double sec = -1;
  if (std::sscanf(cols[0].c_str(), "%4d-%2d-%2d %2d:%2d:%lf%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
      static_cast<std::size_t>(n) != cols[0].size() || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
      sec < 0 || sec >= 61) {
    throw LineProblem{"TIMESTAMP", token(cols[0]), "expected YYYY-MM-DD HH:MM:SS.fraction"};
  }
  const std::int64_t day = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  const double second = h * 3600.0 + mi * 60.0 + sec;
  if (state.second0 < 0) {
    state.day0 = day;
    state.second0 = second;
  }
  Record r;
  r.session = fmt::format("r{}", state.line);
  r.arrival_s = static_cast<double>(day - state.day0) * 86400.0 + (second - state.second0);
  r.prompt_tokens = csv_count(cols[1], "ContextTokens", 1);
  r.output_tokens = csv_count(cols[2], "GeneratedTokens", 1);
  return r;
}

}  // namespace

std::string excerpt(const json& v) {
  std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  return s.size() > 40 ? s.substr(0, 40) + "..." : s;
}

std::int64_t get_count(const json& obj, const char* key, std::int64_t min) {
  if (!obj.contains(key)) throw LineProblem{key, "", "missing field"};
  const json& v = obj[key];
  const bool integral =
      v.is_number_integer() || (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>());
  if (!integral || v.get<double>() < static_cast<double>(min) || v.get<double>() > 1e15) {
    throw LineProblem{key, excerpt(v), fmt::format("expected an integer >= {}", min)};
  }
  return v.get<std::int64_t>();
}

std::vector<std::uint64_t> get_ids(const json& v, const std::string& field) {
  if (!v.is_array()) throw LineProblem{field, excerpt(v), "expected a list of non-negative integer ids"};
  std::vector<std::uint64_t> ids;
  ids.reserve(v.size());
  for (const json& id : v) {
    if (!id.is_number_integer() || id.get<std::int64_t>() < 0) {
      throw LineProblem{field, excerpt(id), "expected a list of non-negative integer ids"};
    }
    ids.push_back(id.get<std::uint64_t>());
  }
  return ids;
}

std::optional<Record> parse_line(const std::string& format, const std::string& text, ParseState& state) {
  if (format == "mooncake") return mooncake(text, state);
  if (format == "ragpulse") return ragpulse(text, state);
  if (format == "azure") return azure(text, state);
  return kvsim_line(text, state);
}

}  // namespace kvsim::trace_detail
