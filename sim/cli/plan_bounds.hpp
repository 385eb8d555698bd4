#pragma once
/// @file plan_bounds.hpp
/// @brief `kvsim analyze`'s bounds applied to `kvsim plan`'s candidates before they are simulated. Per pool (GPU
/// type and tensor parallelism): whether a replica holds the weights and one session, the prefill time of the
/// shortest document alone (Eq. 8), and one user's decode rate alone (Eq. 13). Per candidate they give a lower bound
/// on TTFT, upper bounds on decode rate and sessions per hour, and so the candidates that cannot meet the SLOs.

#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "sim/cli/plan_space.hpp"
#include "sim/cli/slo.hpp"
#include "sim/scenario.hpp"

namespace kvsim::cli {

/// @brief One replica of a pool, alone and at theoretical peak scaled by the deployment's efficiencies.
struct PoolFigures {
  std::string problem;      ///< not empty: the pool cannot serve (weights or a session do not fit), and why
  double prefill_s = 0;     ///< the shortest document's prefill alone
  double decode_tok_s = 0;  ///< one user's decode rate with the shortest first-round context
};

/// @brief What the scenario lets the bounds say, the same for every candidate.
struct BoundScope {
  std::string off;               ///< not empty: why no TTFT, decode or throughput bound applies (e.g. a trace)
  double document_min = 0;       ///< tokens, the shortest document a session can have
  double question_min = 0;       ///< tokens
  double answer_mean = 0;        ///< tokens, for decode figures
  double first_round_share = 0;  ///< the least fraction of counted rounds that are first rounds: 1 / most rounds
};

/// @brief The scope of `s` (a candidate's scenario with its workload; the deployment does not matter).
BoundScope bound_scope(const Scenario& s);

/// @brief analyze's figures for a replica of `s`'s deployment (load it with the pool's GPU and TP).
PoolFigures pool_figures(const Scenario& s, const BoundScope& scope);

/// @brief A candidate's bounds and, if it cannot meet the SLOs, why.
struct CandidateBounds {
  std::string prune;     ///< "", "fit", "ttft" or "decode" (the first that applies)
  std::string why;       ///< the arithmetic of the prune
  double ttft_lb_s = 0;  ///< a lower bound on TTFT p90 (0 when none holds)
  double per_gpu_ub = std::numeric_limits<double>::infinity();  ///< sessions per hour per GPU at most
};

/// @brief The bounds of `c` from its pools' figures (`figures` keyed by GPU and TP) against `slos`.
CandidateBounds candidate_bounds(const Candidate& c, const std::map<std::pair<std::string, int>, PoolFigures>& figures,
                                 const BoundScope& scope, const std::vector<Slo>& slos);

}  // namespace kvsim::cli
