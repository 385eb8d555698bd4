#pragma once
/// @file plan_search.hpp
/// @brief The simulating half of `kvsim plan`: candidates in waves of a fixed size, most promising first (highest
/// sessions-per-GPU bound), each wave pruned against the frontier of the waves before it, its runs as child
/// processes recorded in points.jsonl as sweeps record theirs, so a killed plan resumes where it stopped and the
/// outcome does not depend on --jobs.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <vector>

#include "sim/cli/plan_cmd.hpp"
#include "sim/cli/plan_output.hpp"
#include "sim/cli/slo.hpp"

namespace kvsim::cli {

/// @brief Candidates per wave: the frontier that prunes a wave is that of the waves before it.
inline constexpr std::size_t kPlanWave = 8;

/// @brief Everything the search needs, checked.
struct PlanSetup {
  std::filesystem::path out;
  std::vector<Slo> slos;
  std::string budget;             ///< "8 x a100-sxm-80g", for the summary
  YAML::Node base;                ///< the scenario document as read
  std::string base_gpu;           ///< its GPU's catalog name
  std::vector<std::string> sets;  ///< the user's --set, then seed= when --seed is given
  std::uint64_t seed = 1;         ///< replicate 0's
  std::vector<PlanOutcome> all;   ///< per candidate, in index order; pruned ones already marked
};

/// @brief A candidate's scenario document, its relative paths rebased from `from_dir` to `to_dir` (kept as they are
/// when `to_dir` is empty: the document is then read as if it were the scenario file).
YAML::Node candidate_yaml(const PlanSetup& s, const Candidate& c, const std::filesystem::path& from_dir,
                          const std::filesystem::path& to_dir);

/// @brief Runs the candidates not pruned (those recorded already are read back, not run again), fills their
/// outcomes, marks the frontier-pruned ones and the frontier.
void plan_search(const PlanOptions& opt, PlanSetup& s);

}  // namespace kvsim::cli
