#pragma once
/// @file plan_space.hpp
/// @brief The deployments `kvsim plan` considers under a GPU budget: mixed replicas of one GPU type at each tensor
/// parallelism, and prefill/decode splits (same type split p:d, or one type prefilling for another), each with every
/// router and KV offload policy asked for. A candidate is a list of edits to the scenario's YAML tree.

#include <string>
#include <vector>

#include "sim/catalog.hpp"

namespace kvsim::cli {

/// @brief GPUs of one type available to the plan.
struct GpuBudget {
  std::string gpu;  ///< a gpus.yaml entry
  int count = 0;
};

/// @brief Parses `--gpus TYPE:N[,TYPE:N]`. TYPE is a gpus.yaml entry or a prefix of exactly one ending at a `-`
/// (`a100` for a100-sxm-80g); N a whole count in [1, 4096]. Throws InputError naming --gpus, the item and what was
/// expected (the valid GPU names for an unknown type).
std::vector<GpuBudget> parse_gpu_budget(const std::string& text, const Catalog& catalog);

/// @brief One pool of a candidate: `replicas` replicas of `tensor_parallel` GPUs of type `gpu`.
struct PoolChoice {
  std::string role;  ///< mixed, prefill or decode
  std::string gpu;
  int tensor_parallel = 1;
  int replicas = 1;
  int gpus() const { return tensor_parallel * replicas; }
};

/// @brief One deployment to simulate.
struct Candidate {
  std::size_t index = 0;
  std::vector<PoolChoice> pools;  ///< one mixed pool, or a prefill pool and a decode pool
  std::string router;
  std::string policy;  ///< scheduler.kv_offload.policy
  bool disaggregated() const { return pools.size() > 1; }
  int gpus() const;
  /// @brief "mixed" or "pd".
  std::string layout() const;
  /// @brief "4xa100-sxm-80g/tp2", or "2xa100-sxm-80g/tp2+2xa100-sxm-80g/tp2" (prefill + decode).
  std::string pools_text() const;
  /// @brief "mixed 4 x a100-sxm-80g tp2, least-loaded, swap".
  std::string label() const;
};

/// @brief What to search: the dimensions of the candidate space.
struct PlanSpace {
  std::vector<GpuBudget> budget;
  std::vector<int> tensor_parallel;  ///< per pool; those that do not divide into a type's count are skipped
  bool mixed = true;
  bool disaggregated = true;
  bool pd_same_tp = true;  ///< P/D pools of one type share one tensor parallelism (else every pair)
  std::vector<std::string> routers;
  std::vector<std::string> policies;
};

/// @brief Every candidate, deployments in order (mixed by type and TP, then P/D by types, TPs and prefill share),
/// each crossed with the routers then the policies. Indices are positions in the list.
std::vector<Candidate> plan_candidates(const PlanSpace& space);

/// @brief The edits that turn the scenario into a candidate: keys to remove (dotted paths) and `key=value` sets.
/// Mixed: hardware.gpu (when `base_gpu` differs), hardware.tensor_parallel, hardware.count; P/D: cluster.pools.*
/// with hardware.count removed (the pools give the GPUs). Both set router.type and scheduler.kv_offload.policy and
/// remove any cluster.pools the scenario had.
struct CandidateEdits {
  std::vector<std::string> removes;
  std::vector<std::string> sets;
};
CandidateEdits candidate_edits(const Candidate& c, const std::string& base_gpu);

/// @brief Splits "a,b,c" into its trimmed items; an empty item is refused naming `flag`.
std::vector<std::string> split_flag_list(const std::string& flag, const std::string& text);

}  // namespace kvsim::cli
