// Analytic bounds of `kvsim plan`'s candidates: analyze's Eq. 8 (prefill), Eq. 13 (decode) and Eq. 14 (a session
// beside the weights) per pool, turned into bounds on what a candidate's run can report.
#include "sim/cli/plan_bounds.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "engine/peak_analysis.hpp"
#include "engine/units.hpp"

namespace kvsim::cli {
namespace {

// The smallest value a sample of `d` can take after clamping.
double lowest(const DistSpec& d) {
  double low = 0;
  if (d.kind == "constant") low = d.value;
  if (d.kind == "uniform") low = d.low;
  if (d.kind == "empirical" && !d.values.empty()) low = *std::min_element(d.values.begin(), d.values.end());
  low = std::max(low, d.min);
  return d.max > 0 ? std::min(low, d.max) : low;
}

// The percentile an objective on TTFT bounds (ttft_p90: 0.9), or 0 for other objectives.
double ttft_percentile(const Slo& s) {
  if (s.name.rfind("ttft_p", 0) != 0) return 0;
  return std::stod(s.name.substr(6)) / 100;
}

const PoolFigures& figures_of(const PoolChoice& p, const std::map<std::pair<std::string, int>, PoolFigures>& f) {
  return f.at({p.gpu, p.tensor_parallel});
}

// The TTFT and decode-rate objectives the bounds show cannot be met; "" when none.
std::string slo_prune(const CandidateBounds& b, double decode_ub, const BoundScope& scope, const std::vector<Slo>& slos,
                      std::string& kind) {
  for (const auto& s : slos) {
    const double p = ttft_percentile(s);
    if (p > 0 && scope.first_round_share > 1 - p && b.ttft_lb_s > s.bound) {
      kind = "ttft";
      return fmt::format(
          "{}: every first round ({:.3g} of the rounds) prefills its document, at least {:.4g} s alone "
          "(Eq. 8), above {} <= {}",
          s.name, scope.first_round_share, b.ttft_lb_s, s.name, s.text);
    }
    if (s.name.rfind("decode_rate_", 0) == 0 && decode_ub < s.bound) {
      kind = "decode";
      return fmt::format("{}: one user alone decodes at most {:.4g} tok/s (Eq. 13), below {} >= {}", s.name, decode_ub,
                         s.name, s.text);
    }
    if (s.name == "tpot_p50" && decode_ub > 0 && 1 / decode_ub > s.bound) {
      kind = "decode";
      return fmt::format("tpot_p50: one user alone takes at least {:.4g} s per token (Eq. 13), above tpot_p50 <= {}",
                         1 / decode_ub, s.text);
    }
  }
  return "";
}

}  // namespace

BoundScope bound_scope(const Scenario& s) {
  BoundScope b;
  const WorkloadSpec& w = s.workload;
  if (w.trace.trace) {
    b.off = "the workload replays a trace";
    return b;
  }
  b.document_min = lowest(w.document_tokens);
  b.question_min = lowest(w.question_tokens);
  b.answer_mean = w.answer_tokens.expected();
  const double rounds = w.rounds.upper_bound();
  b.first_round_share = std::isfinite(rounds) && rounds >= 1 ? 1 / rounds : 0;
  const double prompt_max = w.document_tokens.upper_bound() + w.question_tokens.upper_bound();
  if (s.scheduler.step_model != "roofline") {
    b.off = "step_model.type " + s.scheduler.step_model + " is not the roofline analyze computes";
  } else if (s.scheduler.attention_flops == AttentionFlops::kFull &&
             prompt_max > double(s.scheduler.max_batch_tokens)) {
    b.off = fmt::format(
        "first-round prompts of up to {:.0f} tokens are prefilled in chunks of {} "
        "(scheduler.max_batch_tokens), which Eq. 8's full attention count does not price",
        prompt_max, s.scheduler.max_batch_tokens);
  }
  return b;
}

PoolFigures pool_figures(const Scenario& s, const BoundScope& scope) {
  PoolFigures f;
  const CostModel cost(s.model, s.deployment, s.scheduler.attention_flops);
  const double context = std::max(1.0, scope.document_min);
  const PeakReport r = analyze_peak(cost, context, std::max(1.0, scope.answer_mean));
  if (r.concurrency_sessions < 1) {
    f.problem = fmt::format(
        "a replica of {} x {} holds {} of HBM; the weights take {} and one session's KV at {:.0f} tokens {} "
        "(Eq. 14): not one session fits",
        s.deployment.tensor_parallel, s.deployment.gpu.name, format_bytes(r.hbm_bytes), format_bytes(r.weight_bytes),
        context, format_bytes(r.kv_bytes));
    return f;
  }
  f.prefill_s = r.prefill_s;
  const SeqWork first{1.0, context + scope.question_min, true};
  const double step = cost.step(std::span<const SeqWork>(&first, 1)).seconds;
  const double n = std::max(2.0, scope.answer_mean);
  f.decode_tok_s = step > 0 ? n / ((n - 1) * step) : 0;
  return f;
}

CandidateBounds candidate_bounds(const Candidate& c, const std::map<std::pair<std::string, int>, PoolFigures>& figures,
                                 const BoundScope& scope, const std::vector<Slo>& slos) {
  CandidateBounds b;
  for (const auto& p : c.pools) {
    const PoolFigures& f = figures_of(p, figures);
    if (!f.problem.empty()) {
      b.prune = "fit";
      b.why = f.problem;
      return b;
    }
  }
  if (!scope.off.empty()) return b;
  double prefill_min = std::numeric_limits<double>::infinity(), per_hour = 0, decode_ub = 0;
  for (const auto& p : c.pools) {
    const PoolFigures& f = figures_of(p, figures);
    if (p.role != "decode") {
      prefill_min = std::min(prefill_min, f.prefill_s);
      per_hour += p.replicas * 3600 / f.prefill_s;
    }
    if (p.role != "prefill") decode_ub = std::max(decode_ub, f.decode_tok_s);
  }
  b.per_gpu_ub = per_hour / c.gpus();
  b.ttft_lb_s = scope.first_round_share > 0.1 ? prefill_min : 0;
  const CandidateBounds all_rounds{"", "", prefill_min, b.per_gpu_ub};
  b.why = slo_prune(all_rounds, decode_ub, scope, slos, b.prune);
  return b;
}

}  // namespace kvsim::cli
