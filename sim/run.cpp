#include "sim/run.hpp"

#include <fmt/format.h>
#include <simgrid/s4u.hpp>

#include <cmath>
#include <optional>

#include "engine/auditor.hpp"
#include "engine/cluster/router.hpp"
#include "engine/cost/step_model.hpp"
#include "engine/kv_fit.hpp"
#include "engine/log.hpp"
#include "engine/sched/scheduler.hpp"
#include "engine/sink_tee.hpp"
#include "engine/units.hpp"
#include "sim/clients.hpp"
#include "sim/context_check.hpp"
#include "sim/early_stop_monitor.hpp"
#include "sim/fitted_file.hpp"
#include "sim/platform.hpp"
#include "sim/replica_actor.hpp"
#include "sim/run_size.hpp"
#include "workloads/trace_stats.hpp"

namespace kvsim {
namespace sg4 = simgrid::s4u;
namespace {

Capacities capacities(const Scenario& s) {
  const auto& d = s.deployment;
  return Capacities{s.replicas,
                    s.gpu_count,
                    d.effective_flops(),
                    d.effective_hbm_bandwidth(),
                    d.host_link_bandwidth(),
                    s.replicas * (d.host_link_shared ? 1 : d.tensor_parallel),
                    s.slo.ttft,
                    s.slo.decode_rate};
}

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

// Makes a plug-in from its registry, turning a refusal by its factory into an input error at its key.
template <typename Make>
auto make_at(const Scenario& s, const std::string& key, Make make) {
  try {
    return make();
  } catch (const std::invalid_argument& e) {
    throw InputError(std::vector<Diagnostic>{s.values.at(key, e.what())});
  }
}

// The data files the scenario's step model reads (checked when the scenario was loaded).
std::shared_ptr<const FittedCoefficients> fitted_coefficients(const Scenario& s) {
  if (s.scheduler.step_model != "fitted") return nullptr;
  return std::make_shared<const FittedCoefficients>(
      load_fitted_coefficients(beside(s.file, s.values.string("step_model.coefficients"))));
}

std::unique_ptr<StepModel> make_step_model(const Scenario& s, const CostModel& cost) {
  const auto fitted = fitted_coefficients(s);
  return make_at(s, "step_model.type", [&] {
    return step_models().make(s.scheduler.step_model, s.scheduler.step_model_params,
                              StepModelInputs{cost, s.step_profile, fitted});
  });
}

// The schedulers of every replica, each feeding its metrics sink through the trace writer and the auditor when
// those are on.
struct ReplicaSet {
  std::vector<std::unique_ptr<Auditor>> auditors;
  std::vector<std::unique_ptr<SinkTee>> tees;
  std::vector<std::unique_ptr<Scheduler>> schedulers;
  std::vector<Scheduler*> raw;

  ReplicaSet(const Scenario& s, const RunOptions& options, const CostModel& cost, const StepModel& steps,
             RunMetrics& metrics) {
    const auto& trace = s.workload.trace.trace;
    const PolicyEnv env = policy_env(s);  // once: on trace replay it holds every gap of the trace
    const SchedulerConfig config{s.scheduler.max_batch_tokens,      s.scheduler.max_batch_size,
                                 s.scheduler.block_tokens,          s.scheduler.prefix_cache,
                                 trace ? trace->block_tokens : 512, s.scheduler.fast_forward};
    for (int r = 0; r < s.replicas; ++r) {
      MetricsSink* sink = &metrics.sink(r);
      if (options.trace) {
        tees.push_back(std::make_unique<SinkTee>(*sink, options.trace->sink(r)));
        sink = tees.back().get();
      }
      if (options.audit) {
        auditors.push_back(std::make_unique<Auditor>(r, *sink));
        sink = auditors.back().get();
      }
      schedulers.push_back(make_at(s, "scheduler.type", [&] {
        return ::kvsim::schedulers().make(
            s.scheduler.type, s.scheduler.params,
            SchedulerContext{cost, steps, config, s.deployment.host_memory, s.deployment.nvme_capacity,
                             make_policy(s, env), make_victim_policy(s.scheduler.victim), *sink});
      }));
      if (options.audit) auditors.back()->attach(*schedulers.back());
      raw.push_back(schedulers.back().get());
    }
  }
};

}  // namespace

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

void check_deployment(const Scenario& s) {
  check_context(s);  // first: no hardware makes a model attend past its context
  const CostModel cost(s.model, s.deployment, s.scheduler.attention_flops);
  make_policy(s, policy_env(s));  // the plug-ins' factories may refuse their parameters or this workload
  make_step_model(s, cost);
  make_at(s, "router.type", [&] { return routers().make(s.router, s.router_params); });
  const auto& d = s.deployment;
  if (cost.kv_capacity_bytes() <= 0) {
    throw InputError(std::vector<Diagnostic>{s.values.at(
        "hardware.gpu.catalog",
        fmt::format("weights do not fit: {} weights {} + activation reserve {} x {} GPUs > HBM {} x {} {} = {}; "
                    "raise hardware.tensor_parallel or pick a larger GPU",
                    s.model.name, format_bytes(cost.weight_bytes()), format_bytes(d.activation_reserve),
                    d.tensor_parallel, d.tensor_parallel, d.gpu.name, format_bytes(d.gpu.hbm_capacity),
                    format_bytes(d.hbm_total())))});
  }
  const auto& w = s.workload;
  if (w.trace.trace) return check_trace_fits(s, cost);
  const double rounds = w.rounds.upper_bound(), doc = w.document_tokens.upper_bound();
  const double q = w.question_tokens.upper_bound(), a = w.answer_tokens.upper_bound();
  if (!std::isfinite(rounds + doc + q + a)) return;  // unbounded: checked per round during the run
  const double tokens = doc + std::round(rounds) * (q + a);
  const KvFit fit = kv_fit(cost, s.scheduler.block_tokens, std::int64_t(tokens - a + 1), std::int64_t(tokens));
  if (!fit.fits()) {
    throw InputError(std::vector<Diagnostic>{s.values.at(
        "workload.document_tokens",
        fmt::format("a session can never fit: document {:.0f} + {:.0f} rounds x (question {:.0f} + answer {:.0f}) = "
                    "{:.0f} tokens{} x {:.0f} B/token {}, with HBM {} - weights {} - reserve; shorten the session or "
                    "add HBM (tensor_parallel, GPU)",
                    doc, std::round(rounds), q, a, tokens, compressed_peak(tokens, double(fit.peak_tokens)),
                    cost.kv_bytes_per_token(), fit.arithmetic(cost), format_bytes(d.hbm_total()),
                    format_bytes(cost.weight_bytes())))});
  }
}

namespace {

// How the replica actors ended, when one of them stopped the run.
struct Failure {
  std::string message;
  bool input = false;    // an impossible round: the user's scenario
  std::string limit;     // the watchdog's flag, when it stopped the run
  bool stopped = false;  // the early stop ended it
  int replicas_stopped = 0;
};

void start_replicas(const Scenario& s, const std::vector<ReplicaHosts>& hosts, const std::vector<Scheduler*>& raw,
                    RunWatchdog& watchdog, Failure& failure) {
  for (int r = 0; r < s.replicas; ++r) {
    const auto i = static_cast<std::size_t>(r);
    sg4::Actor::create(fmt::format("replica{}", r), hosts[i].cpu, [&, r, i] {
      try {
        ReplicaActor(r, hosts[i], *raw[i], {s.workload.warmup, s.workload.duration}, &watchdog)();
      } catch (const RunLimitExceeded& e) {
        failure = {e.what(), true, e.flag()};
        sg4::Actor::kill_all();
      } catch (const RunStoppedEarly&) {
        // Each replica leaves by itself (killing one in the middle of its activities crashes SimGrid 3.32); the
        // last one ends the users' actors.
        failure.stopped = true;
        if (++failure.replicas_stopped == s.replicas) sg4::Actor::kill_all();
      } catch (const ImpossibleRound& e) {
        failure = {e.what(), true, ""};
        sg4::Actor::kill_all();
      } catch (const std::exception& e) {
        failure = {e.what(), false, ""};
        sg4::Actor::kill_all();
      }
    });
  }
}

void throw_failure(const Scenario& s, const Failure& f) {
  if (!f.limit.empty()) throw InputError(std::vector<Diagnostic>{{"", f.limit, 0, 0, "", f.message}});
  if (f.input) throw InputError(std::vector<Diagnostic>{s.values.at("workload.document_tokens", f.message)});
  if (!f.message.empty()) throw std::runtime_error(f.message);
}

}  // namespace

RunResult run_scenario(const Scenario& s, const RunOptions& options) {
  check_deployment(s);
  const RunSize size = estimate_run_size(s);
  check_run_size(size, options.limits);
  int argc = 2;
  char arg0[] = "kvsim";
  char arg1[] = "--log=root.thres:critical";
  char* argv[] = {arg0, arg1, nullptr};
  sg4::Engine engine(&argc, argv);
  configure_engine(engine, size.max_actors);
  const auto hosts = build_platform(Topology::single(s.deployment, s.replicas));
  log("sim").info("{}: {} replica(s) of {} x {}, {} arrivals, policy {}", s.file.string(), s.replicas,
                  s.deployment.tensor_parallel, s.deployment.gpu.name,
                  s.workload.trace.trace ? "trace" : s.workload.arrival.type, s.scheduler.offload_policy);

  const CostModel cost(s.model, s.deployment, s.scheduler.attention_flops);
  const auto steps = make_step_model(s, cost);
  RunResult result;
  result.metrics =
      std::make_unique<RunMetrics>(capacities(s), s.workload.warmup, s.workload.duration, s.timeline_period);
  ReplicaSet set(s, options, cost, *steps, *result.metrics);
  std::vector<sg4::Host*> cpus;
  for (const auto& h : hosts) cpus.push_back(h.cpu);
  RunWatchdog watchdog(options.limits);
  Failure failure;
  start_replicas(s, hosts, set.raw, watchdog, failure);
  const auto router = make_at(s, "router.type", [&] { return routers().make(s.router, s.router_params); });
  ClientSide clients(s.workload, s.seed, set.raw, cpus, *result.metrics, *router);
  clients.start();
  std::optional<EarlyStopMonitor> monitor;
  if (options.early_stop.enabled()) {
    monitor.emplace(s, options.early_stop, *result.metrics, watchdog).start(cpus.front());
  }
  engine.run();
  result.end_s = sg4::Engine::get_clock();
  result.metrics->finish(result.end_s);
  if (failure.stopped) {
    result.stopped_early = monitor->reason();
    result.stopped_at_s = monitor->stopped_at();
  }
  result.sessions_started = clients.sessions_started();
  result.kv_pool_blocks = set.raw.front()->hbm().total_blocks();
  result.kv_block_tokens = set.raw.front()->hbm().block_tokens();
  result.kv_pool_bytes = double(result.kv_pool_blocks) * set.raw.front()->hbm().bytes_per_block();
  throw_failure(s, failure);
  if (!result.stopped_early.empty()) return result;  // sessions were cut short on purpose
  if (options.audit) {
    for (const auto& a : set.auditors) a->finish(result.end_s);
    audit_summary(*result.metrics);
  }
  if (result.metrics->unfinished_sessions() > 0) {
    throw std::runtime_error(fmt::format("{} of {} sessions did not finish (simulation stalled at t={:.3f}s)",
                                         result.metrics->unfinished_sessions(), result.sessions_started, result.end_s));
  }
  return result;
}

}  // namespace kvsim
