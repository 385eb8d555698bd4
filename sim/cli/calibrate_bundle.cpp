#include "sim/cli/calibrate_bundle.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "sim/diagnostics.hpp"
#include "sim/yaml_load.hpp"

#include "engine/cost/profile_tables.hpp"
#include "sim/profile_bundle.hpp"

namespace kvsim::cli {
namespace {

[[noreturn]] void fail(const std::string& file, const std::string& key, const std::string& value,
                       const std::string& message) {
  throw InputError(std::vector<Diagnostic>{{file, key, 0, 0, value, message}});
}

std::string scalar(const YAML::Node& root, const std::string& key, const std::string& file) {
  const YAML::Node n = root[key];
  if (!n || !n.IsScalar() || n.Scalar().empty())
    fail(file, key, "", "is missing; expected a profile bundle's meta.yaml");
  return n.Scalar();
}

}  // namespace

BundleInfo read_bundle_info(const std::filesystem::path& dir) {
  const auto meta = dir / "meta.yaml";
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    fail(dir.string(), "BUNDLE_DIR", dir.string(), "is not a directory; expected a profile bundle (meta.yaml, tp<N>/)");
  }
  if (!std::filesystem::is_regular_file(meta, ec)) {
    fail(dir.string(), "BUNDLE_DIR", dir.string(), "holds no meta.yaml; expected a profile bundle (meta.yaml, tp<N>/)");
  }
  const YAML::Node root = load_yaml_file(meta);
  const std::string file = meta.string();
  if (!root.IsMap()) fail(file, "", "", "expected a mapping (a profile bundle's meta.yaml)");
  BundleInfo b{dir, scalar(root, "hardware", file), scalar(root, "gpu", file), scalar(root, "model", file), {}, 0};
  const YAML::Node tps = root["tp_degrees"];
  if (!tps || !tps.IsSequence() || tps.size() == 0) fail(file, "tp_degrees", "", "expected a list of TP degrees");
  try {
    for (const auto& t : tps) b.tp_degrees.push_back(t.as<int>());
    b.max_context = root["attention_grid"]["max_kv"].as<double>();
  } catch (const YAML::Exception&) {
    fail(file, "tp_degrees / attention_grid.max_kv", "", "expected whole numbers");
  }
  if (!(b.max_context >= 16 && b.max_context <= 1e8)) {
    fail(file, "attention_grid.max_kv", fmt::format("{:g}", b.max_context), "expected a context of 16 to 1e8 tokens");
  }
  return b;
}

const GpuSpec& bundle_gpu(const Catalog& cat, const BundleInfo& b, const std::string& gpu_name) {
  const std::vector<std::string> names = cat.gpu_names();
  if (!gpu_name.empty()) {
    if (std::find(names.begin(), names.end(), gpu_name) == names.end()) {
      fail("", "--gpu", gpu_name, fmt::format("unknown GPU; expected one of {}", join(names)));
    }
    return cat.gpu(gpu_name);
  }
  // The device name the bundle recorded, else its hardware folder name (RTXPRO6000), as kvsim replay finds a run's.
  std::string found = cat.gpu_by_device_name(b.gpu);
  if (found.empty()) found = cat.gpu_by_folder_name(b.hardware);
  if (!found.empty()) return cat.gpu(found);
  fail((b.dir / "meta.yaml").string(), "hardware", b.hardware,
       fmt::format("no catalog GPU of that name; pass --gpu, one of {}", join(names)));
}

const ModelSpec& bundle_model(const Catalog& cat, const BundleInfo& b, const std::string& model_name) {
  const std::vector<std::string> names = cat.model_names();
  if (!model_name.empty()) {
    if (std::find(names.begin(), names.end(), model_name) == names.end()) {
      fail("", "--model", model_name, fmt::format("unknown model; expected one of {}", join(names)));
    }
    return cat.model(model_name);
  }
  if (const std::string found = cat.model_by_hf_name(b.model); !found.empty()) return cat.model(found);
  fail((b.dir / "meta.yaml").string(), "model", b.model,
       fmt::format("no catalog model of that name; pass --model, one of {}", join(names)));
}

StepTimer bundle_step_timer(const BundleInfo& b, int tp, const ModelSpec& model) {
  if (std::find(b.tp_degrees.begin(), b.tp_degrees.end(), tp) == b.tp_degrees.end()) {
    std::vector<std::string> tps;
    for (int t : b.tp_degrees) tps.push_back(std::to_string(t));
    fail((b.dir / "meta.yaml").string(), "--tp", std::to_string(tp),
         fmt::format("the bundle measured TP {} only", join(tps)));
  }
  auto tables = std::make_shared<const ProfileTables>(load_profile_bundle(b.dir, tp));
  // The same check as a profiled scenario's: an MoE model's bundle without its MoE table at this TP would fit
  // step times that leave the experts out.
  if (const std::string why = profile_model_mismatch(*tables, model); !why.empty()) {
    fail((b.dir / fmt::format("tp{}", tp)).string(), "--tp", std::to_string(tp), why);
  }
  const int layers = model.layers;
  return [tables, layers](std::span<const SeqWork> batch) { return tables->step(batch, layers).total_us * 1e-6; };
}

}  // namespace kvsim::cli
