// Cross-key rules of a scenario, checked before anything runs; each refusal shows the arithmetic that broke it.
#include "sim/scenario_checks.hpp"

#include <fmt/format.h>

#include <cmath>

#include "sim/plausible.hpp"

namespace kvsim {
namespace {

using namespace plausible;

// Replicas are SimGrid actors with their own KV state; a million of them is a typo in hardware.count.
void check_replicas(const Scenario& s, Diagnostics& diag) {
  const int tp = s.deployment.tensor_parallel;
  if (tp < 1 || s.gpu_count / tp <= kMaxReplicas) return;
  diag.add(s.values.at("hardware.count",
                       fmt::format("{} GPUs / tensor_parallel {} = {} replicas, above the {:g} kvsim simulates",
                                   s.gpu_count, tp, s.gpu_count / tp, kMaxReplicas)));
}

// Tensor parallelism splits attention by KV head: each GPU must hold whole KV heads. With more GPUs than KV heads,
// vLLM replicates each KV head on tensor_parallel / num_kv_heads GPUs; kvsim divides the KV bytes by
// tensor_parallel, so it would undercount the KV per GPU: refused rather than miscounted. MLA (kv_lora_rank > 0)
// caches one latent per token, not per head, so the rule does not apply to it.
void check_tensor_parallel(const Scenario& s, Diagnostics& diag) {
  const int tp = s.deployment.tensor_parallel;
  const int kv = s.model.num_kv_heads;
  if (s.model.kv_lora_rank > 0 || kv < 1 || tp < 1 || kv % tp == 0) return;
  const std::string model = fmt::format("model {} has {} KV heads", s.model.name, kv);
  if (tp > kv) {
    diag.add(s.values.at(
        "hardware.tensor_parallel",
        fmt::format("{}, fewer than tensor_parallel {}: serving engines then replicate each KV head on {:.4g} GPUs, "
                    "which kvsim does not model; use a tensor_parallel that divides {}",
                    model, tp, double(tp) / kv, kv)));
    return;
  }
  diag.add(s.values.at("hardware.tensor_parallel",
                       fmt::format("{}, which tensor_parallel {} does not divide ({} / {} = {:.4g}): each GPU must "
                                   "hold whole KV heads",
                                   model, tp, kv, tp, double(kv) / tp)));
}

void check_arrival_times(const Scenario& s, Diagnostics& diag) {
  const auto& t = s.workload.arrival.times;
  const char* key = "workload.arrival.times";
  for (std::size_t i = 1; i < t.size(); ++i) {
    if (t[i] < t[i - 1]) {
      diag.add(s.values.at(key, fmt::format("start times must be in order: time {} ({}) is before time {} ({})", i + 1,
                                            format_seconds(t[i]), i, format_seconds(t[i - 1]))));
      return;
    }
  }
}

// An open loop starts about rate x duration sessions; past kMaxExpectedSessions a run would not end in a day.
void check_expected_sessions(const Scenario& s, Diagnostics& diag) {
  const auto& w = s.workload;
  if (w.arrival.type != "poisson" || w.max_sessions > 0 || !(w.arrival.rate > 0)) return;
  const double expected = w.arrival.rate * w.duration;
  if (expected <= kMaxExpectedSessions) return;
  diag.add(s.values.at("workload.arrival.rate",
                       fmt::format("{:.4g}/s x workload.duration {:.4g} s = {:.4g} expected sessions, above the {:g} "
                                   "kvsim runs; lower the rate or the duration, or cap workload.sessions",
                                   w.arrival.rate, w.duration, expected, kMaxExpectedSessions)));
}

void check_timeline_rows(const Scenario& s, Diagnostics& diag) {
  const double rows = s.workload.duration / s.timeline_period;
  if (!(s.timeline_period > 0) || rows <= kMaxTimelineRows) return;
  diag.add(s.values.at("output.timeline_period",
                       fmt::format("workload.duration {:.4g} s / timeline_period {:.4g} s = {:.4g} rows, above the "
                                   "{:g} timeline.csv may hold; raise the period",
                                   s.workload.duration, s.timeline_period, rows, kMaxTimelineRows)));
}

}  // namespace

void check_scenario_rules(const Scenario& s, Diagnostics& diag) {
  check_replicas(s, diag);
  check_tensor_parallel(s, diag);
  check_timeline_rows(s, diag);
  if (!s.workload.trace.path.empty()) return;  // a trace replaces the synthetic arrivals
  check_arrival_times(s, diag);
  check_expected_sessions(s, diag);
}

}  // namespace kvsim
