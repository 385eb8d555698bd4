// Checks made before a run: every pool can hold the model and the workload's longest session, its plug-ins accept
// their parameters, and a cluster that moves sessions has schedulers that can.
#include <fmt/format.h>

#include <cmath>

#include "engine/cluster/router.hpp"
#include "engine/kv_fit.hpp"
#include "engine/sched/scheduler.hpp"
#include "engine/units.hpp"
#include "sim/context_check.hpp"
#include "sim/fitted_file.hpp"
#include "sim/run.hpp"
#include "sim/run_checks.hpp"
#include "workloads/trace_stats.hpp"

namespace kvsim {
namespace {

// With model.kv_compression the ledger charges the compressed peak (kept KV, plus the unpruned prefill), in
// ledger tokens; without it that is the token count itself and nothing is added.
std::string compressed_peak(double tokens, double peak) {
  return peak == tokens ? std::string() : fmt::format(", compressed to a peak of {:.0f} ledger tokens", peak);
}

// A trace's largest session: the context of a stateless round (its prompt and answer), or of a whole session that
// keeps its context. Refused before the run, naming the trace line, when its KV can never fit.
void check_trace_fits(const Scenario& s, const CostModel& cost) {
  const Trace& trace = *s.workload.trace.trace;
  for (const TraceSession& ts : trace.sessions) {
    std::int64_t tokens = 0;
    for (const TraceRound& r : ts.rounds) {
      tokens = (ts.stateless ? 0 : tokens) + r.prompt_tokens + r.output_tokens;
      const KvFit fit = kv_fit(cost, s.scheduler.block_tokens, tokens - r.output_tokens + 1, tokens);
      if (fit.fits()) continue;
      throw InputError(std::vector<Diagnostic>{s.values.at(
          "workload.trace.path",
          fmt::format("{}:{}: a request can never fit: {} tokens x {:.0f} B/token {}; pick a larger deployment "
                      "(tensor_parallel, GPU) or a smaller model",
                      trace.file, r.line, fit.peak_tokens, cost.kv_bytes_per_token(), fit.arithmetic(cost)))});
    }
  }
}

// The data files the scenario's step model reads (checked when the scenario was loaded).
std::shared_ptr<const FittedCoefficients> fitted_coefficients(const Scenario& s) {
  if (!s.values.has("step_model.coefficients") || s.values.string("step_model.coefficients").empty()) return nullptr;
  return std::make_shared<const FittedCoefficients>(
      load_fitted_coefficients(beside(s.file, s.values.string("step_model.coefficients"))));
}

// The key a pool's hardware is written at: its own section in a cluster, hardware otherwise.
std::string pool_key(const Scenario& s, const Pool& p, const std::string& field, const std::string& fallback) {
  if (!s.topology.declared) return fallback;
  const std::string key = "cluster.pools." + p.name + "." + field;
  return s.values.origins.count(key) ? key : "cluster.pools." + p.name + ".replicas";
}

}  // namespace

std::unique_ptr<StepModel> make_step_model(const Scenario& s, const Pool& pool, const CostModel& cost) {
  const auto fitted = pool.step_model == "fitted" ? fitted_coefficients(s) : nullptr;
  const std::string key = s.topology.declared && s.values.origins.count("cluster.pools." + pool.name + ".step_model")
                              ? "cluster.pools." + pool.name + ".step_model"
                              : "step_model.type";
  return make_at(s, key, [&] {
    return step_models().make(pool.step_model, s.scheduler.step_model_params,
                              StepModelInputs{cost, s.step_profile, fitted});
  });
}

PolicyEnv policy_env(const Scenario& s) {
  const auto& w = s.workload;
  if (!w.trace.trace) return PolicyEnv{[&w](double q) { return w.think_time.quantile(q); }};
  auto gaps = std::make_shared<std::vector<double>>(round_gaps_s(*w.trace.trace));
  if (gaps->empty()) return PolicyEnv{};
  const double speedup = w.trace.speedup;
  return PolicyEnv{[gaps, speedup](double q) { return percentile(*gaps, 100 * q) / speedup; }};
}

std::unique_ptr<OffloadPolicy> make_policy(const Scenario& s, const PolicyEnv& env) {
  return make_at(s, "scheduler.kv_offload.policy",
                 [&] { return offload_policies().make(s.scheduler.offload_policy, s.scheduler.offload_params, env); });
}

namespace {

// A pool whose GPUs cannot hold the weights, with the arithmetic.
void check_weights(const Scenario& s, const Pool& p, const CostModel& cost) {
  if (cost.kv_capacity_bytes() > 0) return;
  const auto& d = p.deployment;
  const std::string pool = s.topology.declared ? fmt::format("pool {}: ", p.name) : "";
  throw InputError(std::vector<Diagnostic>{s.values.at(
      pool_key(s, p, "gpu", "hardware.gpu.catalog"),
      fmt::format("{}weights do not fit: {} weights {} + activation reserve {} x {} GPUs > HBM {} x {} {} = {}; "
                  "raise {} or pick a larger GPU",
                  pool, s.model.name, format_bytes(cost.weight_bytes()), format_bytes(d.activation_reserve),
                  d.tensor_parallel, d.tensor_parallel, d.gpu.name, format_bytes(d.gpu.hbm_capacity),
                  format_bytes(d.hbm_total()),
                  s.topology.declared ? "cluster.pools." + p.name + ".tensor_parallel" : "hardware.tensor_parallel"))});
}

void check_session_fits(const Scenario& s, const Pool& p, const CostModel& cost) {
  const auto& w = s.workload;
  if (w.trace.trace) return check_trace_fits(s, cost);
  const double rounds = w.rounds.upper_bound(), doc = w.document_tokens.upper_bound();
  const double q = w.question_tokens.upper_bound(), a = w.answer_tokens.upper_bound();
  if (!std::isfinite(rounds + doc + q + a)) return;  // unbounded: checked per round during the run
  const double tokens = doc + std::round(rounds) * (q + a);
  const KvFit fit = kv_fit(cost, s.scheduler.block_tokens, std::int64_t(tokens - a + 1), std::int64_t(tokens));
  if (fit.fits()) return;
  const auto& d = p.deployment;
  throw InputError(std::vector<Diagnostic>{s.values.at(
      "workload.document_tokens",
      fmt::format("a session can never fit{}: document {:.0f} + {:.0f} rounds x (question {:.0f} + answer {:.0f}) = "
                  "{:.0f} tokens{} x {:.0f} B/token {}, with HBM {} - weights {} - reserve; shorten the session or "
                  "add HBM (tensor_parallel, GPU)",
                  s.topology.declared ? " in pool " + p.name : "", doc, std::round(rounds), q, a, tokens,
                  compressed_peak(tokens, double(fit.peak_tokens)), cost.kv_bytes_per_token(), fit.arithmetic(cost),
                  format_bytes(d.hbm_total()), format_bytes(cost.weight_bytes())))});
}

// A sink that ignores everything: for a scheduler made only to ask what it can do.
class NullSink final : public MetricsSink {
 public:
  void on_round_arrival(SessionId, int, double) override {}
  void on_prefill_start(SessionId, double) override {}
  void on_prefill_done(SessionId, double) override {}
  void on_round_done(SessionId, std::int64_t, double) override {}
  void on_session_end(SessionId, std::int64_t, double) override {}
  void on_swap_start(SessionId, bool, double, double) override {}
  void on_swap_done(SessionId, bool, double, double) override {}
  void on_demotion_start(SessionId, double, double) override {}
  void on_demotion_done(SessionId, double, double) override {}
  void on_kv_loaded_in_step(SessionId, double, double, double, double) override {}
  void on_kv_dropped(SessionId, std::int64_t, double, double) override {}
  void on_step(const StepRecord&) override {}
  void on_state(const ReplicaState&, double) override {}
};

// Sessions move between replicas under disaggregation, or when the router may send a round away from its KV.
void check_moves(const Scenario& s, const Pool& p, const CostModel& cost, const StepModel& steps) {
  const auto router = routers().make(s.router, s.router_params);
  const bool moves = s.topology.disaggregated() || (s.replicas > 1 && !router->keeps_sessions_home());
  if (!moves) return;
  NullSink sink;
  const auto env = policy_env(s);
  const auto sched = schedulers().make(p.scheduler, s.scheduler.params,
                                       SchedulerContext{cost, steps, SchedulerConfig{}, 0, 0, make_policy(s, env),
                                                        make_victim_policy(s.scheduler.victim), sink});
  if (sched->moves_sessions()) return;
  const std::string key = s.topology.declared && s.values.origins.count("cluster.pools." + p.name + ".scheduler")
                              ? "cluster.pools." + p.name + ".scheduler"
                              : "scheduler.type";
  throw InputError(std::vector<Diagnostic>{s.values.at(
      key,
      fmt::format("scheduler {} cannot hand a session's KV to another replica, which {} needs; use "
                  "fcfs-reserve, or router.type session-affinity without prefill/decode pools",
                  p.scheduler,
                  s.topology.disaggregated() ? "prefill/decode disaggregation"
                                             : "router " + s.router + " (it may send a round away from its KV)"))});
}

}  // namespace

void check_deployment(const Scenario& s) {
  check_context(s);               // first: no hardware makes a model attend past its context
  make_policy(s, policy_env(s));  // the plug-ins' factories may refuse their parameters or this workload
  make_at(s, "router.type", [&] { return routers().make(s.router, s.router_params); });
  for (const Pool& p : s.topology.pools) {
    const CostModel cost(s.model, p.deployment, s.scheduler.attention_flops);
    const auto steps = make_step_model(s, p, cost);
    check_weights(s, p, cost);
    check_session_fits(s, p, cost);
    check_moves(s, p, cost, *steps);
  }
}

}  // namespace kvsim
