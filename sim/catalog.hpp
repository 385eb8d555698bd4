#pragma once
/// @file catalog.hpp
/// @brief The hardware and model catalogs in platforms/*.yaml, and Hugging Face config.json import.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "engine/hardware.hpp"
#include "engine/model.hpp"
#include "sim/schema.hpp"

namespace kvsim {

/// @brief A typical server: how many GPUs of which kind, and how they reach CPU memory.
struct NodeSpec {
  std::string name;
  std::string description;
  std::string gpu;
  int gpus = 1;
  std::string host_link;
  int gpus_per_host_link = 1;
  double host_memory = 0;
};

/// @brief Declared keys of a model description, each path prefixed by `prefix` ("" for catalog entries,
/// "model" inside a scenario). Shared by models.yaml and the scenario's inline models.
std::vector<KeySpec> model_keys(const std::string& prefix, bool catalog_entry);
/// @brief Builds a ModelSpec from validated values under `prefix`, over `base` (fields not given keep base's).
ModelSpec model_from_values(const ValueMap& v, const std::string& prefix, ModelSpec base);
/// @brief Reads a scenario's `model.kv_compression` knobs; an invalid combination is reported at the knob's line.
KvCompression compression_from_values(const ValueMap& v, Diagnostics& diag);

/// @brief Reads a Hugging Face config.json (num_hidden_layers, num_key_value_heads, head_dim or
/// hidden_size / num_attention_heads, MoE and MLA fields) and derives the parameter counts from the shapes.
/// Throws InputError naming the file and field on bad input.
ModelSpec load_hf_config(const std::filesystem::path& path);

/// @brief All catalogs of one platforms/ directory.
class Catalog {
 public:
  /// @brief Loads gpus.yaml, links.yaml, models.yaml and nodes.yaml from `dir`; throws InputError with every
  /// problem found (unknown keys, bad units, a number without a source note, a dangling link name).
  static Catalog load(const std::filesystem::path& dir);
  /// @brief The platforms directory: $KVSIM_PLATFORMS, else the source tree's platforms/ baked in at build time.
  static std::filesystem::path default_dir();

  const GpuSpec& gpu(const std::string& name) const;
  const LinkSpec& link(const std::string& name) const;
  const ModelSpec& model(const std::string& name) const;
  const NodeSpec& node(const std::string& name) const;
  /// @brief The node built around `gpu` (the first such node by name), or nullptr when nodes.yaml has none.
  const NodeSpec* node_of_gpu(const std::string& gpu) const;
  /// @brief The gpus.yaml entry whose `device_names` lists `device` exactly (the name torch and vLLM report, such
  /// as "NVIDIA GeForce RTX 4090"), or "" when none does.
  std::string gpu_by_device_name(const std::string& device) const;
  /// @brief The entry a folder name stands for ("RTXPRO6000" for rtx-pro-6000, "RTX4090" for rtx-4090): the entry
  /// name or one of its device names (without "NVIDIA"/"NVIDIA GeForce") equal to it in lower-case letters and
  /// digits; "" when none.
  std::string gpu_by_folder_name(const std::string& folder) const;
  /// @brief The models.yaml entry whose `hf_name` is `hf_name` (case-insensitive, e.g. "Qwen/Qwen3-32B"), or "".
  std::string model_by_hf_name(const std::string& hf_name) const;
  /// @brief The `hf_name` of a models.yaml entry, "" when it has none.
  std::string hf_name(const std::string& model) const;
  std::vector<std::string> gpu_names() const;
  std::vector<std::string> link_names() const;
  std::vector<std::string> model_names() const;
  std::vector<std::string> node_names() const;

 private:
  std::map<std::string, GpuSpec> gpus_;
  std::map<std::string, LinkSpec> links_;
  std::map<std::string, ModelSpec> models_;
  std::map<std::string, NodeSpec> nodes_;
  std::map<std::string, std::vector<std::string>> device_names_;  ///< gpus.yaml device_names by entry
  std::map<std::string, std::string> hf_names_;                   ///< models.yaml hf_name by entry
};

}  // namespace kvsim
