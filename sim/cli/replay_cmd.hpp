#pragma once
/// @file replay_cmd.hpp
/// @brief `kvsim replay RUN_DIR`: simulates a recorded vLLM run (workloads/vllm_run.hpp) with the run's own
/// deployment and requests, and compares the simulated latencies and queues with the measured ones (docs/replay.md).

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "sim/catalog.hpp"
#include "workloads/trace.hpp"
#include "workloads/vllm_run.hpp"

namespace kvsim::cli {

/// @brief Options of `kvsim replay`.
struct ReplayOptions {
  std::string run_dir;
  std::string profile;     ///< --profile BUNDLE_DIR: step_model profiled (empty: none)
  std::string step_model;  ///< --step-model NAME (empty: roofline unless --profile)
  std::vector<std::string> sets;
  std::string out_dir;
  std::string write_scenario;  ///< --write-scenario FILE (empty: none)
  std::string platforms;
  bool quiet = false;
};

/// @brief The scenario a run is replayed with: its YAML text, the trace it names, and notes on where figures came
/// from (printed, e.g. "GPU from the directory name").
struct ReplayScenario {
  std::string yaml;
  std::string trace_name;  ///< workload.trace.path, relative to the scenario file
  std::shared_ptr<const Trace> trace;
  std::vector<std::string> notes;
};

/// @brief The run's requests as one-round stateless sessions: arrival_s = queued_ts - the earliest queued_ts,
/// prompt = input_toks, output = output_toks; ordered by arrival, ties in file order.
Trace replay_trace(const VllmRun& run);

/// @brief The scenario YAML of a run: GPU (hardware.device_name, else the run's folder name), model (meta model by
/// its Hugging Face name), tensor_parallel, scheduler limits and block size, prefix caching, the device's memory,
/// the step model, and the trace `trace_name`. Throws InputError when the GPU or the model is not in the catalog and
/// no --set names one.
ReplayScenario replay_scenario(const VllmRun& run, const ReplayOptions& opt, const Catalog& catalog,
                               const std::string& trace_name);

/// @brief Registers the subcommand on `app`.
void add_replay_command(CLI::App& app, ReplayOptions& opt);
/// @brief Runs it: 0, or InputError (exit 2).
int run_replay(const ReplayOptions& opt);

}  // namespace kvsim::cli
