#pragma once
/// @file scenario.hpp
/// @brief A runnable scenario: model, hardware, workload, scheduler, SLOs and seed, validated against the
/// declared keys of scenario_schema(). `--set key.path=value` overrides apply before validation.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/cluster/topology.hpp"
#include "engine/cost_model.hpp"
#include "engine/registry.hpp"
#include "sim/catalog.hpp"
#include "sim/schema.hpp"
#include "workloads/session.hpp"

namespace kvsim {

struct ProfileTables;

/// @brief Batching and KV management knobs.
struct SchedulerSpec {
  std::string type = "fcfs-reserve";    ///< scheduler.type, from the scheduler registry
  Params params;                        ///< its parameters
  std::string step_model = "roofline";  ///< step_model.type, from the step model registry
  Params step_model_params;             ///< its parameters (step_model.*)
  long max_batch_tokens = 8192;
  long max_batch_size = 256;
  long block_tokens = 16;
  std::string offload_policy = "swap";
  std::string victim = "lru";
  AttentionFlops attention_flops = AttentionFlops::kCausal;  ///< how prefill attention FLOPs are counted
  Params offload_params;     ///< the chosen offload policy's parameters (scheduler.kv_offload.*)
  bool prefix_cache = true;  ///< reuse cached prompt blocks of trace requests
  bool fast_forward = true;
};

/// @brief The paper's Table 1 preferences as targets.
struct SloSpec {
  double ttft = 30;        ///< seconds
  double decode_rate = 6;  ///< tokens per second, "faster than reading"
};

/// @brief Everything a run needs, validated.
struct Scenario {
  std::filesystem::path file;
  ModelSpec model;
  std::string compute_dtype = "auto";  ///< model.compute_dtype as written; deployment.compute_dtype is its choice
  Deployment deployment;               ///< one replica
  int gpu_count = 1;                   ///< over all pools
  int replicas = 1;                    ///< over all pools
  Topology topology;                   ///< the pools (one mixed pool of `deployment` without a cluster section)
  WorkloadSpec workload;
  SchedulerSpec scheduler;
  std::string router = "session-affinity";  ///< router.type, from the router registry
  Params router_params;                     ///< its parameters (router.*)
  SloSpec slo;
  std::shared_ptr<const ProfileTables> step_profile;  ///< step_model.profile, read; null unless it is set
  std::uint64_t seed = 1;
  double timeline_period = 1.0;
  std::string host_memory_origin;  ///< where deployment.host_memory comes from, for the report
  ValueMap values;                 ///< validated values with origins, for messages and echoing
};

/// @brief The declared keys of a scenario file.
const Schema& scenario_schema();

/// @brief Loads and validates a scenario; `overrides` are "key.path=value" strings from --set. Throws InputError
/// with every problem found, including impossible deployments (weights that do not fit, with the arithmetic).
Scenario load_scenario(const std::filesystem::path& file, const std::vector<std::string>& overrides,
                       const Catalog& catalog);

/// @brief Like load_scenario, from YAML text; `name` stands for the file in messages and relative paths.
Scenario load_scenario_text(const std::string& text, const std::filesystem::path& name,
                            const std::vector<std::string>& overrides, const Catalog& catalog);

/// @brief Like load_scenario_text, with the workload's trace already in memory: `trace` stands for the file named by
/// workload.trace.path (which must be set, and is not read); the trace reader's options (max_requests,
/// session_sample, on_error) do not apply to it. Used by `kvsim replay`.
Scenario load_scenario_text(const std::string& text, const std::filesystem::path& name,
                            const std::vector<std::string>& overrides, const Catalog& catalog,
                            std::shared_ptr<const Trace> trace);

/// @brief Parses a command-line quantity; throws InputError naming the flag. `min` is inclusive.
double parse_flag_quantity(const std::string& flag, const std::string& text, Dim dim, double min);

/// @brief Turns a dense model into an E-expert MoE with top-k routing, as the paper's "8 x 34B" upcycling:
/// total parameters x E, active x k; the KV is unchanged. `spec` is "8x2".
void upcycle_moe(ModelSpec& model, const std::string& flag, const std::string& spec);

}  // namespace kvsim
