#include "sim/fitted_file.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "sim/diagnostics.hpp"
#include "sim/input_file.hpp"
#include "sim/schema.hpp"

namespace kvsim {
namespace {

using json = nlohmann::ordered_json;
constexpr const char* kFormat = "kvsim-fitted-step-model";
constexpr int kVersion = 1;
// A coefficient file is a few kB; 1 MiB is far beyond any.
constexpr std::uintmax_t kMaxBytes = 1u << 20;

// The largest plausible coefficient: on a roofline term, 1000 means 0.1% of the datasheet peak; on an overhead,
// a second per layer, step or sequence.
double max_coefficient(std::size_t k) {
  return k >= static_cast<std::size_t>(Feature::kLayers) ? 1.0 : 1000.0;
}

std::string unit_of(std::size_t k) {
  return k >= static_cast<std::size_t>(Feature::kLayers) ? "seconds per unit" : "x the datasheet roofline time";
}

json error_json(const FitError& e) {
  return json{{"steps", e.steps}, {"mean", e.mean}, {"p90", e.p90}, {"max", e.max}};
}

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& key, const std::string& value,
                       const std::string& message) {
  throw InputError(std::vector<Diagnostic>{{file.string(), key, 0, 0, value, message}});
}

std::string shown(const json& j) {
  return escape_token(j.dump());
}

const json& member(const json& j, const std::string& key, const std::string& path, const std::filesystem::path& file) {
  if (!j.contains(key)) fail(file, path, "", "is missing");
  return j.at(key);
}

std::string text(const json& j, const std::string& key, const std::string& path, const std::filesystem::path& file) {
  const json& v = member(j, key, path, file);
  if (!v.is_string()) fail(file, path, shown(v), "expected a string");
  return v.get<std::string>();
}

double number(const json& j, const std::string& key, const std::string& path, const std::filesystem::path& file,
              double max) {
  const json& v = member(j, key, path, file);
  if (!v.is_number()) fail(file, path, shown(v), "expected a number");
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < 0 || x > max)
    fail(file, path, shown(v), fmt::format("expected a number in [0, {:g}]", max));
  return x;
}

json parse(const std::filesystem::path& file) {
  check_input_file(file, "a coefficient file (JSON)", kMaxBytes, "1 MiB");
  std::ifstream in(file);
  if (!in) fail(file, "", "", "cannot open file");
  try {
    return json::parse(in);
  } catch (const json::parse_error& e) {
    fail(file, "", "",
         fmt::format("invalid JSON (at byte {}); expected a coefficient file from `kvsim calibrate`", e.byte));
  } catch (const json::exception&) {
    fail(file, "", "", "invalid JSON: a number out of range");
  }
}

std::array<double, kFeatureCount> read_coefficients(const json& j, const std::filesystem::path& file) {
  const json& c = member(j, "coefficients", "coefficients", file);
  if (!c.is_object()) fail(file, "coefficients", shown(c), "expected an object of coefficients by feature name");
  const auto& names = feature_names();
  for (const auto& [key, value] : c.items()) {
    if (std::find(names.begin(), names.end(), key) == names.end()) {
      fail(file, "coefficients." + key, shown(value),
           fmt::format("unknown feature; expected one of {}",
                       join(std::vector<std::string>(names.begin(), names.end()))));
    }
  }
  std::array<double, kFeatureCount> out{};
  for (std::size_t k = 0; k < kFeatureCount; ++k) {
    const std::string name(names[k]);
    out[k] = number(c, name, "coefficients." + name, file, max_coefficient(k));
  }
  return out;
}

}  // namespace

std::string fitted_to_json(const FittedCoefficients& c) {
  json j;
  j["format"] = kFormat;
  j["version"] = kVersion;
  j["fitted_on"] =
      json{{"source", c.source}, {"hardware", c.hardware}, {"model", c.model}, {"tensor_parallel", c.tensor_parallel}};
  json coef = json::object(), units = json::object();
  for (std::size_t k = 0; k < kFeatureCount; ++k) {
    coef[std::string(feature_names()[k])] = c.coef[k];
    units[std::string(feature_names()[k])] = unit_of(k);
  }
  j["coefficients"] = coef;
  j["units"] = units;
  j["fit_error"] = json{{"all", error_json(c.error.all)},
                        {"prefill", error_json(c.error.prefill)},
                        {"decode", error_json(c.error.decode)},
                        {"mixed", error_json(c.error.mixed)}};
  return j.dump(2) + "\n";
}

std::filesystem::path beside(const std::filesystem::path& scenario_file, const std::string& path) {
  const std::filesystem::path p(path);
  return p.is_absolute() ? p : (scenario_file.parent_path() / p).lexically_normal();
}

FittedCoefficients load_fitted_coefficients(const std::filesystem::path& file) {
  const json j = parse(file);
  if (!j.is_object()) fail(file, "", "", "expected a JSON object (a coefficient file from `kvsim calibrate`)");
  if (text(j, "format", "format", file) != kFormat)
    fail(file, "format", shown(j.at("format")), fmt::format("expected '{}'", kFormat));
  const json& version = member(j, "version", "version", file);
  if (version != kVersion) fail(file, "version", shown(version), fmt::format("expected {}", kVersion));
  FittedCoefficients c;
  c.coef = read_coefficients(j, file);
  const json& on = member(j, "fitted_on", "fitted_on", file);
  if (!on.is_object()) fail(file, "fitted_on", shown(on), "expected an object");
  c.source = text(on, "source", "fitted_on.source", file);
  c.hardware = text(on, "hardware", "fitted_on.hardware", file);
  c.model = text(on, "model", "fitted_on.model", file);
  const double tp = number(on, "tensor_parallel", "fitted_on.tensor_parallel", file, 1024);
  if (tp < 1 || tp != std::floor(tp)) {
    fail(file, "fitted_on.tensor_parallel", shown(on.at("tensor_parallel")),
         "expected a whole number of GPUs, 1 to 1024");
  }
  c.tensor_parallel = int(tp);
  if (j.contains("fit_error") && j.at("fit_error").is_object()) {
    const json& e = j.at("fit_error");
    FitError* dst[] = {&c.error.all, &c.error.prefill, &c.error.decode, &c.error.mixed};
    const char* keys[] = {"all", "prefill", "decode", "mixed"};
    for (int i = 0; i < 4; ++i) {
      if (!e.contains(keys[i])) continue;
      const std::string p = fmt::format("fit_error.{}", keys[i]);
      const json& x = e.at(keys[i]);
      if (!x.is_object()) fail(file, p, shown(x), "expected an object");
      *dst[i] =
          FitError{std::size_t(number(x, "steps", p + ".steps", file, 1e9)), number(x, "mean", p + ".mean", file, 1e9),
                   number(x, "p90", p + ".p90", file, 1e9), number(x, "max", p + ".max", file, 1e9)};
    }
  }
  return c;
}

// step_model.coefficients: required by the fitted step model, refused by the others, read now so that a bad file
// is refused before anything runs (the run reads it again, sim/run.cpp make_step_model).
void check_fitted_coefficients_key(const ValueMap& v, const std::filesystem::path& file, Diagnostics& diag) {
  const bool fitted = v.string("step_model.type") == "fitted";
  const std::string path = v.has("step_model.coefficients") ? v.string("step_model.coefficients") : "";
  if (!fitted) {
    if (!path.empty()) {
      diag.add(v.at("step_model.coefficients",
                    "only step_model.type 'fitted' reads coefficients; remove the key or "
                    "set step_model.type to fitted"));
    }
    return;
  }
  if (path.empty()) {
    diag.add(v.at("step_model.type",
                  "step model 'fitted' needs step_model.coefficients, a file written by `kvsim calibrate`"));
    return;
  }
  try {
    load_fitted_coefficients(beside(file, path));
  } catch (const InputError& e) {
    for (const auto& d : e.items()) diag.add(d);
    diag.add(v.at("step_model.coefficients", "names a coefficient file kvsim cannot use (see above)"));
  }
}

}  // namespace kvsim
