#include "workloads/vllm_run.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace kvsim {
namespace fs = std::filesystem;
using nlohmann::json;
namespace {

// Plausible ranges: a value outside is a broken or foreign file, not a run worth simulating.
constexpr double kMaxTokens = 1e8;      // tokens of one request (100M: 100x the longest contexts)
constexpr double kMaxClock = 1e11;      // seconds on a monotonic or unix clock (3000 years)
constexpr double kMaxCount = 1e7;       // running / waiting requests
constexpr double kMaxThroughput = 1e9;  // tokens per second

[[noreturn]] void fail(const std::string& file, int line, std::string field, std::string value, std::string msg) {
  throw TraceError(TraceProblem{file, line, std::move(field), std::move(value), std::move(msg)});
}

std::string excerpt(const json& v) {
  const std::string s = v.dump();
  return s.size() > 60 ? s.substr(0, 60) + "..." : s;
}

// The 1-based line of `text` holding byte `at` (0-based).
int line_at(const std::string& text, std::size_t at) {
  return 1 + int(std::count(text.begin(), text.begin() + std::min(at, text.size()), '\n'));
}

// The line of meta.json where `"key"` first appears, so a bad value is named at its line (0 when not found).
int key_line(const std::string& text, const std::string& key) {
  const auto at = text.find("\"" + key + "\"");
  return at == std::string::npos ? 0 : line_at(text, at);
}

struct Where {
  const std::string& file;
  int line;
};

double number(const json& obj, const std::string& key, Where w, double min, double max, bool required = true) {
  if (!obj.contains(key) || obj[key].is_null()) {
    if (required) fail(w.file, w.line, key, "", "missing field");
    return NAN;
  }
  const json& v = obj[key];
  const double x = v.is_number() ? v.get<double>() : NAN;
  if (!std::isfinite(x) || x < min || x > max) {
    fail(w.file, w.line, key, excerpt(v), fmt::format("expected a number in [{:g}, {:g}]", min, max));
  }
  return x;
}

std::int64_t count(const json& obj, const std::string& key, Where w, double min, double max) {
  const double x = number(obj, key, w, min, max);
  if (x != std::floor(x)) fail(w.file, w.line, key, excerpt(obj[key]), "expected a whole number");
  return std::int64_t(x);
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path.string(), 0, "", "", "cannot open the file");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void read_kv_cache(const json& kv, const std::string& file, const std::string& text, VllmMeta& m) {
  auto opt_long = [&](const char* key, double min, double max) -> std::optional<long> {
    const double x = number(kv, key, {file, key_line(text, key)}, min, max, false);
    if (std::isnan(x)) return std::nullopt;
    if (x != std::floor(x)) fail(file, key_line(text, key), key, excerpt(kv[key]), "expected a whole number");
    return long(x);
  };
  m.num_gpu_blocks = opt_long("num_gpu_blocks", 1, 1e9);
  m.block_size = opt_long("block_size", 1, 1e6);
  const double util =
      number(kv, "gpu_memory_utilization", {file, key_line(text, "gpu_memory_utilization")}, 0.01, 1, false);
  if (!std::isnan(util)) m.gpu_memory_utilization = util;
  if (kv.contains("enable_prefix_caching") && !kv["enable_prefix_caching"].is_null()) {
    const json& v = kv["enable_prefix_caching"];
    if (!v.is_boolean()) {
      fail(file, key_line(text, "enable_prefix_caching"), "enable_prefix_caching", excerpt(v),
           "expected true or false");
    }
    m.enable_prefix_caching = v.get<bool>();
  }
}

void read_hardware(const json& hw, const std::string& file, const std::string& text, VllmMeta& m) {
  if (hw.contains("device_name") && !hw["device_name"].is_null()) {
    const json& v = hw["device_name"];
    if (!v.is_string() || v.get<std::string>().empty()) {
      fail(file, key_line(text, "device_name"), "device_name", excerpt(v), "expected the GPU's name as a string");
    }
    m.device_name = v.get<std::string>();
  }
  // 1 GiB .. 100 TiB, the plausible range of hardware.hbm_capacity.
  const double bytes = number(hw, "device_total_memory_bytes", {file, key_line(text, "device_total_memory_bytes")},
                              double(1ull << 30), 100.0 * double(1ull << 40), false);
  if (!std::isnan(bytes)) m.device_total_memory_bytes = bytes;
}

VllmMeta read_meta(const fs::path& path) {
  const std::string file = path.string();
  const std::string text = read_text(path);
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    const std::size_t byte = e.id == 101 ? static_cast<const json::parse_error&>(e).byte : 0;
    fail(file, byte > 0 ? line_at(text, byte - 1) : 0, "", "", "not valid JSON");
  }
  if (!j.is_object()) fail(file, 1, "", j.type_name(), "expected a JSON object");
  VllmMeta m;
  if (!j.contains("model") || !j["model"].is_string() || j["model"].get<std::string>().empty()) {
    fail(file, key_line(text, "model"), "model", j.contains("model") ? excerpt(j["model"]) : "",
         "expected the model's Hugging Face name");
  }
  m.model = j["model"].get<std::string>();
  if (!j.contains("engine_kwargs") || !j["engine_kwargs"].is_object()) {
    fail(file, key_line(text, "engine_kwargs"), "engine_kwargs", "", "missing section (an object)");
  }
  const json& ek = j["engine_kwargs"];
  auto at = [&](const char* key) { return Where{file, key_line(text, key)}; };
  m.tensor_parallel_size = int(count(ek, "tensor_parallel_size", at("tensor_parallel_size"), 1, 1024));
  m.max_num_seqs = long(count(ek, "max_num_seqs", at("max_num_seqs"), 1, 1e6));
  m.max_num_batched_tokens = long(count(ek, "max_num_batched_tokens", at("max_num_batched_tokens"), 1, kMaxTokens));
  const double len = number(ek, "max_model_len", at("max_model_len"), 1, kMaxTokens, false);
  if (!std::isnan(len)) m.max_model_len = long(len);
  if (j.contains("kv_cache") && j["kv_cache"].is_object()) read_kv_cache(j["kv_cache"], file, text, m);
  if (j.contains("hardware") && j["hardware"].is_object()) read_hardware(j["hardware"], file, text, m);
  return m;
}

VllmRequest parse_request(const std::string& text, const std::string& file, int line) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    fail(file, line, "", "", fmt::format("not valid JSON (at byte {})", e.byte));
  } catch (const json::exception&) {
    fail(file, line, "", "", "a number out of range (too large for a double)");
  }
  if (!j.is_object()) fail(file, line, "", j.type_name(), "expected a JSON object per line");
  const Where w{file, line};
  VllmRequest r;
  r.line = line;
  if (j.contains("request_id") && j["request_id"].is_string()) r.id = j["request_id"].get<std::string>();
  if (r.id.empty()) r.id = fmt::format("line{}", line);
  r.input_toks = count(j, "input_toks", w, 1, kMaxTokens);
  r.output_toks = count(j, "output_toks", w, 1, kMaxTokens);
  r.arrival_time = number(j, "arrival_time", w, 0, kMaxClock);
  r.queued_ts = number(j, "queued_ts", w, 0, kMaxClock);
  r.scheduled_ts = number(j, "scheduled_ts", w, 0, kMaxClock);
  r.first_token_ts = number(j, "first_token_ts", w, 0, kMaxClock);
  r.last_token_ts = number(j, "last_token_ts", w, 0, kMaxClock);
  const std::pair<const char*, double> order[] = {{"queued_ts", r.queued_ts},
                                                  {"scheduled_ts", r.scheduled_ts},
                                                  {"first_token_ts", r.first_token_ts},
                                                  {"last_token_ts", r.last_token_ts}};
  for (std::size_t i = 1; i < std::size(order); ++i) {
    if (order[i].second < order[i - 1].second) {
      fail(file, line, order[i].first, fmt::format("{:.9f}", order[i].second),
           fmt::format("expected a time at or after {} ({:.9f}): a request's timestamps are queued <= scheduled <= "
                       "first token <= last token",
                       order[i - 1].first, order[i - 1].second));
    }
  }
  return r;
}

std::vector<VllmRequest> read_requests(const fs::path& path) {
  const std::string file = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(file, 0, "", "", "cannot open the file");
  std::vector<VllmRequest> out;
  std::string text;
  for (int line = 1; std::getline(in, text); ++line) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (text.size() > kMaxTraceLineBytes) fail(file, line, "", "", "line longer than 1 MiB");
    if (out.size() >= kMaxVllmRequests) fail(file, line, "", "", "more than 10 million requests");
    out.push_back(parse_request(text, file, line));
  }
  if (out.empty()) fail(file, 0, "", "", "no request in the file");
  return out;
}

// One CSV cell as a number in [0, max].
double cell(const std::string& s, const std::string& file, int line, const std::string& column, double max) {
  std::size_t used = 0;
  double x = NAN;
  try {
    x = std::stod(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != s.size() || !std::isfinite(x) || x < 0 || x > max) {
    fail(file, line, column, s.size() > 60 ? s.substr(0, 60) + "..." : s,
         fmt::format("expected a number in [0, {:g}]", max));
  }
  return x;
}

std::vector<std::string> split(std::string line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  std::vector<std::string> out;
  std::stringstream s(line);
  for (std::string c; std::getline(s, c, ',');) out.push_back(c);
  return out;
}

std::vector<VllmSample> read_timeseries(const fs::path& path) {
  const std::string file = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(file, 0, "", "", "cannot open the file");
  const std::vector<std::string> columns{"t",       "prompt_throughput", "gen_throughput",
                                         "running", "waiting",           "kv_cache_pct"};
  std::string text;
  if (!std::getline(in, text) || split(text) != columns) {
    fail(file, 1, "", text.substr(0, 60),
         "expected the header t,prompt_throughput,gen_throughput,running,waiting,"
         "kv_cache_pct");
  }
  const double max[] = {kMaxClock, kMaxThroughput, kMaxThroughput, kMaxCount, kMaxCount, 100};
  std::vector<VllmSample> out;
  for (int line = 2; std::getline(in, text); ++line) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (out.size() >= kMaxVllmRequests) fail(file, line, "", "", "more than 10 million rows");
    const auto cells = split(text);
    if (cells.size() != columns.size()) {
      fail(file, line, "", fmt::format("{} cells", cells.size()), "expected 6 comma-separated cells");
    }
    double v[6];
    for (std::size_t i = 0; i < 6; ++i) v[i] = cell(cells[i], file, line, columns[i], max[i]);
    if (!out.empty() && v[0] <= out.back().t) {
      fail(file, line, "t", cells[0], fmt::format("expected a time after the previous row's ({:g})", out.back().t));
    }
    out.push_back(VllmSample{v[0], v[1], v[2], v[3], v[4], v[5]});
  }
  return out;
}

}  // namespace

VllmRun read_vllm_run(const std::string& dir) {
  const fs::path d(dir);
  if (!fs::is_directory(d)) fail(dir, 0, "", "", "not a directory (expected a run directory runs/<GPU>/<model>)");
  VllmRun run;
  run.dir = dir;
  fs::path abs = fs::absolute(d).lexically_normal();
  if (abs.filename().empty()) abs = abs.parent_path();  // "run/" normalizes to "run/", whose filename is empty
  run.gpu_folder = abs.parent_path().filename().string();
  run.meta = read_meta(d / "meta.json");
  run.requests = read_requests(d / "requests.jsonl");
  run.timeseries = read_timeseries(d / "timeseries.csv");
  return run;
}

}  // namespace kvsim
