// `kvsim plan`'s tables and console summary.
#include "sim/cli/plan_output.hpp"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <tuple>

#include "sim/cli/csv.hpp"

namespace kvsim::cli {
namespace {

std::string status_name(PlanStatus s) {
  return s == PlanStatus::kPruned ? "pruned" : s == PlanStatus::kRan ? "ran" : "failed";
}

std::string number(double v) {
  return std::isfinite(v) ? fmt::format("{:.10g}", v) : "";
}

std::string row(const PlanOutcome& o) {
  const Candidate& c = o.candidate;
  const bool ran = o.status == PlanStatus::kRan;
  return fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{}", c.index, c.layout(), csv_field(c.pools_text()),
                     c.gpus(), c.router, c.policy, status_name(o.status), o.prune, number(o.bounds.ttft_lb_s),
                     number(o.bounds.per_gpu_ub), ran ? number(o.per_gpu) : "", ran ? number(o.ttft_p90) : "",
                     ran ? (o.meets ? "1" : "0") : "", o.on_frontier ? 1 : 0);
}

}  // namespace

std::vector<FrontierPoint> feasible_points(const std::vector<PlanOutcome>& all) {
  std::vector<FrontierPoint> out;
  for (const auto& o : all) {
    if (o.status == PlanStatus::kRan && o.meets) out.push_back({o.candidate.index, o.per_gpu, o.ttft_p90});
  }
  return out;
}

const PlanOutcome* plan_winner(const std::vector<PlanOutcome>& all) {
  const PlanOutcome* best = nullptr;
  for (const auto& o : all) {
    if (o.status != PlanStatus::kRan || !o.meets) continue;
    const auto key = [](const PlanOutcome& x) {
      return std::tuple(-x.per_gpu, x.ttft_p90, x.candidate.gpus(), x.candidate.index);
    };
    if (!best || key(o) < key(*best)) best = &o;
  }
  return best;
}

std::string candidates_csv(const std::vector<PlanOutcome>& all) {
  std::string out =
      "candidate,layout,pools,gpus,router,kv_offload_policy,status,pruned_by,ttft_lb_s,sessions_per_hour_per_gpu_ub,"
      "sessions_per_hour_per_gpu,ttft_p90_s,meets_slo,on_frontier,why\n";
  for (const auto& o : all) out += row(o) + "," + csv_field(o.why) + "\n";
  return out;
}

std::string frontier_csv(const std::vector<PlanOutcome>& all, const std::vector<FrontierPoint>& frontier) {
  std::string out = "candidate,layout,pools,gpus,router,kv_offload_policy,sessions_per_hour_per_gpu,ttft_p90_s\n";
  for (const auto& f : frontier) {
    const Candidate& c = all.at(f.index).candidate;
    out += fmt::format("{},{},{},{},{},{},{:.10g},{:.10g}\n", c.index, c.layout(), csv_field(c.pools_text()), c.gpus(),
                       c.router, c.policy, f.per_gpu, f.ttft_p90);
  }
  return out;
}

void print_plan(std::ostream& out, const PlanHeadline& h, const std::vector<PlanOutcome>& all,
                const std::vector<FrontierPoint>& frontier) {
  std::map<std::string, int> pruned;
  int ran = 0, failed = 0, meet = 0, pruned_total = 0;
  for (const auto& o : all) {
    if (o.status == PlanStatus::kPruned) ++pruned[o.prune], ++pruned_total;
    ran += o.status == PlanStatus::kRan ? 1 : 0;
    failed += o.status == PlanStatus::kFailed ? 1 : 0;
    meet += o.status == PlanStatus::kRan && o.meets ? 1 : 0;
  }
  std::string reasons;
  for (const auto& [k, n] : pruned) reasons += fmt::format("{}{} {}", reasons.empty() ? "" : ", ", n, k);
  out << fmt::format("kvsim plan: {} candidates on {} under {}\n", all.size(), h.budget, h.slos);
  out << fmt::format("  {} pruned before simulating{}; {} ran ({} meet the SLOs), {} failed; {:.1f} s wall\n",
                     pruned_total, reasons.empty() ? "" : " (" + reasons + ")", ran, meet, failed, h.wall_s);
  if (frontier.empty()) {
    out << "  no candidate meets the SLOs, so there is no frontier and no winner\n";
  } else {
    out << "  frontier of the candidates that meet the SLOs (sessions/h per GPU against TTFT p90):\n";
    out << fmt::format("    {:>10}  {:>10}  {}\n", "sess/h/GPU", "TTFT p90", "candidate");
    for (const auto& f : frontier) {
      out << fmt::format("    {:>10.4g}  {:>8.3g} s  p{:04} {}\n", f.per_gpu, f.ttft_p90, f.index,
                         all.at(f.index).candidate.label());
    }
  }
  if (const PlanOutcome* w = plan_winner(all)) {
    out << fmt::format("  winner: p{:04} {} ({:.4g} sessions/h per GPU on {} GPUs, TTFT p90 {:.3g} s)\n",
                       w->candidate.index, w->candidate.label(), w->per_gpu, w->candidate.gpus(), w->ttft_p90);
    if (!h.winner_file.empty()) out << fmt::format("  its scenario: {}\n", h.winner_file);
  }
  out << fmt::format("  outputs in {}/ (candidates.csv, frontier.csv, points.jsonl; each run in runs/<id>/)\n", h.out);
}

}  // namespace kvsim::cli
