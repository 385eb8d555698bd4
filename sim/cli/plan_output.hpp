#pragma once
/// @file plan_output.hpp
/// @brief What `kvsim plan` reports per candidate, and its tables: candidates.csv (every candidate, pruned or run),
/// frontier.csv (the Pareto frontier of the candidates that meet the SLOs) and the console summary.

#include <ostream>
#include <string>
#include <vector>

#include "sim/cli/plan_bounds.hpp"
#include "sim/cli/plan_frontier.hpp"
#include "sim/cli/plan_space.hpp"

namespace kvsim::cli {

/// @brief How a candidate ended.
enum class PlanStatus {
  kPruned,  ///< not simulated: its bounds miss the SLOs, it does not fit, or it cannot beat the frontier
  kRan,     ///< every replicate ran
  kFailed,  ///< a replicate could not run (error in `why`)
};

/// @brief One candidate and what became of it.
struct PlanOutcome {
  Candidate candidate;
  CandidateBounds bounds;
  PlanStatus status = PlanStatus::kPruned;
  std::string prune;    ///< pruned: fit, invalid, ttft, decode or frontier
  std::string why;      ///< pruned: the arithmetic; ran: the objective missed; failed: the error
  double per_gpu = 0;   ///< ran: mean sessions per hour per GPU over the replicates
  double ttft_p90 = 0;  ///< ran: mean TTFT p90, s
  bool meets = false;   ///< ran: the replicates' means meet every objective
  bool on_frontier = false;
};

/// @brief The frontier points of the candidates that ran and meet the SLOs.
std::vector<FrontierPoint> feasible_points(const std::vector<PlanOutcome>& all);

/// @brief The winner: the most sessions per hour per GPU among the candidates that meet the SLOs (ties: lower TTFT
/// p90, fewer GPUs, lower index); nullptr when none does.
const PlanOutcome* plan_winner(const std::vector<PlanOutcome>& all);

/// @brief candidates.csv: one row per candidate, in index order.
std::string candidates_csv(const std::vector<PlanOutcome>& all);
/// @brief frontier.csv: the frontier's candidates by TTFT p90 ascending.
std::string frontier_csv(const std::vector<PlanOutcome>& all, const std::vector<FrontierPoint>& frontier);

/// @brief What the console summary names besides the outcomes.
struct PlanHeadline {
  std::string budget;       ///< "8 x a100-sxm-80g"
  std::string slos;         ///< "ttft_p90 <= 10s"
  std::string out;          ///< the output directory
  std::string winner_file;  ///< where the winner's scenario was written ("" for none)
  double wall_s = 0;
};

/// @brief The console summary: counts (pruned by reason, ran, failed), the frontier and the winner.
void print_plan(std::ostream& out, const PlanHeadline& h, const std::vector<PlanOutcome>& all,
                const std::vector<FrontierPoint>& frontier);

}  // namespace kvsim::cli
