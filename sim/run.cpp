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
#include "sim/run_checks.hpp"
#include "sim/run_size.hpp"
#include "workloads/trace_stats.hpp"

namespace kvsim {
namespace sg4 = simgrid::s4u;
namespace {

// Utilizations are per GPU of the first pool's kind; a heterogeneous cluster's per-pool figures are in the report.
Capacities capacities(const Scenario& s) {
  const auto& d = s.topology.pools.front().deployment;
  int host_links = 0;
  for (const auto& p : s.topology.pools) {
    host_links += p.replicas * (p.deployment.host_link_shared ? 1 : p.deployment.tensor_parallel);
  }
  Capacities caps{s.replicas, s.gpu_count, d.effective_flops(), d.effective_hbm_bandwidth(), d.host_link_bandwidth(),
                  host_links, s.slo.ttft,  s.slo.decode_rate};
  if (!s.topology.declared) return caps;
  for (std::size_t p = 0; p < s.topology.pools.size(); ++p) {
    const Pool& pool = s.topology.pools[p];
    caps.pools.push_back(PoolSpan{pool.name, pool_role_name(pool.role), s.topology.first_replica(static_cast<int>(p)),
                                  pool.replicas, pool.replicas * pool.deployment.tensor_parallel});
  }
  return caps;
}

// Each pool's cost model and step model, shared by its replicas.
struct PoolModels {
  std::vector<std::unique_ptr<CostModel>> costs;
  std::vector<std::unique_ptr<StepModel>> steps;

  explicit PoolModels(const Scenario& s) {
    for (const Pool& p : s.topology.pools) {
      costs.push_back(std::make_unique<CostModel>(s.model, p.deployment, s.scheduler.attention_flops));
      steps.push_back(make_step_model(s, p, *costs.back()));
    }
  }
};

// The schedulers of every replica, each feeding its metrics sink through the trace writer and the auditor when
// those are on.
struct ReplicaSet {
  std::vector<std::unique_ptr<Auditor>> auditors;
  std::vector<std::unique_ptr<SinkTee>> tees;
  std::vector<std::unique_ptr<Scheduler>> schedulers;
  std::vector<Scheduler*> raw;
  MoveLedger moves;

  ReplicaSet(const Scenario& s, const RunOptions& options, const PoolModels& models, RunMetrics& metrics) {
    const auto& trace = s.workload.trace.trace;
    const PolicyEnv env = policy_env(s);  // once: on trace replay it holds every gap of the trace
    const SchedulerConfig config{s.scheduler.max_batch_tokens,      s.scheduler.max_batch_size,
                                 s.scheduler.block_tokens,          s.scheduler.prefix_cache,
                                 trace ? trace->block_tokens : 512, s.scheduler.fast_forward};
    for (int r = 0; r < s.replicas; ++r) {
      const auto p = static_cast<std::size_t>(s.topology.pool_index(r));
      const Pool& pool = s.topology.pools[p];
      MetricsSink* sink = &metrics.sink(r);
      if (options.trace) {
        tees.push_back(std::make_unique<SinkTee>(*sink, options.trace->sink(r)));
        sink = tees.back().get();
      }
      if (options.audit) {
        auditors.push_back(std::make_unique<Auditor>(r, *sink, &moves));
        sink = auditors.back().get();
      }
      schedulers.push_back(make_at(s, "scheduler.type", [&] {
        return ::kvsim::schedulers().make(
            pool.scheduler, s.scheduler.params,
            SchedulerContext{*models.costs[p], *models.steps[p], config, pool.deployment.host_memory,
                             pool.deployment.nvme_capacity, make_policy(s, env), make_victim_policy(s.scheduler.victim),
                             *sink});
      }));
      if (options.audit) auditors.back()->attach(*schedulers.back());
      raw.push_back(schedulers.back().get());
    }
  }
};

}  // namespace

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
        ReplicaActor(r, hosts[i], *raw[i], {s.workload.warmup, s.workload.duration}, &watchdog, &hosts)();
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
  const auto hosts = build_platform(s.topology);
  log("sim").info("{}: {} replica(s) in {} pool(s), {} arrivals, policy {}", s.file.string(), s.replicas,
                  s.topology.pools.size(), s.workload.trace.trace ? "trace" : s.workload.arrival.type,
                  s.scheduler.offload_policy);

  const PoolModels models(s);
  RunResult result;
  result.metrics =
      std::make_unique<RunMetrics>(capacities(s), s.workload.warmup, s.workload.duration, s.timeline_period);
  ReplicaSet set(s, options, models, *result.metrics);
  std::vector<sg4::Host*> cpus;
  for (const auto& h : hosts) cpus.push_back(h.cpu);
  RunWatchdog watchdog(options.limits);
  Failure failure;
  start_replicas(s, hosts, set.raw, watchdog, failure);
  const auto& trace = s.workload.trace.trace;
  Frontend frontend(
      s.topology, set.raw,
      [&] { return make_at(s, "router.type", [&] { return routers().make(s.router, s.router_params); }); },
      trace ? trace->block_tokens : 0);
  ClientSide clients(s.workload, s.seed, frontend, cpus, *result.metrics);
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
    set.moves.finish(result.end_s);
    audit_summary(*result.metrics);
  }
  if (result.metrics->unfinished_sessions() > 0) {
    throw std::runtime_error(fmt::format("{} of {} sessions did not finish (simulation stalled at t={:.3f}s)",
                                         result.metrics->unfinished_sessions(), result.sessions_started, result.end_s));
  }
  return result;
}

}  // namespace kvsim
