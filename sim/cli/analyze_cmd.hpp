#pragma once
/// @file analyze_cmd.hpp
/// @brief `kvsim analyze`: options and entry point.

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

namespace kvsim::cli {

/// @brief Options of `kvsim analyze`.
struct AnalyzeOptions {
  std::string scenario;
  std::string model;
  std::string hf_config;
  std::string gpu;
  std::optional<int> tp;
  std::vector<std::string> contexts;
  std::optional<double> answer_tokens;  ///< default: the scenario's answer length, else 250
  std::string host_link;
  std::string host_link_bw;
  bool host_link_per_gpu = false;
  std::optional<double> compute_eff;
  std::optional<double> memory_eff;
  std::string kv_dtype;
  std::string weights_dtype;
  std::string compute_dtype;    ///< "" = the scenario's model.compute_dtype, else auto
  std::string attention_flops;  ///< "" = the scenario's scheduler.attention_flops, else full (the paper's Eq. 7)
  std::vector<std::string> sweeps;
  std::string format = "table";
  std::string platforms;
  bool compare_compression = false;  ///< Table 2: each compression method's C/P/D/S ratios
  bool simulate = false;             ///< with compare_compression: each row's session throughput from runs
  std::vector<std::string> methods;  ///< with compare_compression: only these methods (preset names)
  std::string out;                   ///< --simulate: where the runs go
  int jobs = 0;                      ///< --simulate: runs at once (0 = the number of cores)
};

/// @brief Registers the subcommand and its options on `app`.
void add_analyze_command(CLI::App& app, AnalyzeOptions& opt);
/// @brief Runs it; throws InputError on bad input.
int run_analyze(const AnalyzeOptions& opt);

}  // namespace kvsim::cli
