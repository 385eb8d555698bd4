// The console report of `kvsim run`: the paper's four metrics as the simulation measured them.
#include <fmt/format.h>

#include <map>

#include "engine/units.hpp"
#include "sim/output.hpp"

namespace kvsim {

namespace {

// "KV 245.8 kB/token"; with model.kv_compression, what a session holds at the mean document once prefill is done
// (windows and constant state make a per-token figure misleading).
std::string kv_text(const Scenario& s, const CostModel& cost) {
  if (is_identity(s.model.compression)) return fmt::format("KV {}/token", format_bytes(cost.kv_bytes_per_token()));
  const double doc = s.workload.trace.trace ? 0.0 : s.workload.document_tokens.expected();
  if (doc <= 0) return fmt::format("compressed KV {}/token", format_bytes(cost.kv_bytes_per_token()));
  return fmt::format("compressed KV {} for a {:.0f}-token document", format_bytes(cost.session_kv_bytes(doc)), doc);
}

// What the statistics window holds besides finished sessions: the idle tail of a run that drained before
// `duration`, and the sessions still running when it closed (not counted in the rates).
std::string window_note(double end_s, double duration_s, double in_flight) {
  if (in_flight > 0) return fmt::format("; {:.0f} still in flight at its end, not counted", in_flight);
  if (end_s < duration_s) return fmt::format("; drained at {}, idle tail counted", format_seconds(end_s));
  return "";
}

// A cluster's pools and network: per pool its hardware, busy time, queueing and the KV it pulled, then the
// network's moves and TTFT split into queue, prefill and transfer.
void print_cluster(std::ostream& out, const Scenario& s, std::map<std::string, double>& m) {
  const Topology& t = s.topology;
  out << fmt::format(
      "  {:<20} NIC {} per node each way, latency {}; {:.0f} KV moves ({:.0f} prefill-to-decode "
      "handoffs), {}, mean {} each\n",
      "network", format_bandwidth(t.network.bandwidth), format_seconds(t.network.latency_s), m["network.moves"],
      m["network.handoffs"], format_bytes(m["network.bytes"]), format_seconds(m["network.transfer_mean_s"]));
  out << fmt::format("  {:<20} queue {} + prefill {} + transfer {} (means)\n", "TTFT split",
                     format_seconds(m["ttft_split.queue_mean_s"]), format_seconds(m["ttft_split.prefill_mean_s"]),
                     format_seconds(m["ttft_split.transfer_mean_s"]));
  for (const Pool& p : t.pools) {
    const std::string k = "pool." + p.name + ".";
    out << fmt::format("  pool {:<15} {} x {} x {} (tp {}), {}: busy {:.0f}%, queue mean {}, TTFT p90 {}, KV in {}\n",
                       p.name, p.replicas, p.deployment.tensor_parallel, p.deployment.gpu.name,
                       p.deployment.tensor_parallel, pool_role_name(p.role), 100 * m[k + "utilization"],
                       format_seconds(m[k + "queue_mean_s"]), format_seconds(m[k + "ttft_p90_s"]),
                       format_bytes(m[k + "network_bytes_in"]));
  }
}

}  // namespace

void print_report(std::ostream& out, const Scenario& s, const RunResult& r) {
  std::map<std::string, double> m;
  for (const auto& [k, v] : r.metrics->summary()) m[k] = v;
  const CostModel cost(s.model, s.deployment, s.scheduler.attention_flops);
  const auto& d = s.deployment;
  auto pct = [](double x) { return fmt::format("{:.0f}%", 100 * x); };
  out << fmt::format("kvsim run: {} (seed {})\n", s.file.string(), s.seed);
  if (!r.stopped_early.empty()) {
    out << fmt::format("  stopped early at {}: {}; the figures below cover the run up to then\n",
                       format_seconds(r.stopped_at_s), r.stopped_early);
  }
  if (s.topology.declared) {
    out << fmt::format("  {} ({}, weights {}) on a cluster of {} GPUs in {} pool{} ({} replicas, below), policy {}\n",
                       s.model.name, kv_text(s, cost), format_bytes(cost.weight_bytes()), s.gpu_count,
                       s.topology.pools.size(), s.topology.pools.size() > 1 ? "s" : "", s.replicas,
                       s.scheduler.offload_policy);
  } else {
    out << fmt::format("  {} ({}, weights {}) on {} x {} (tp {}, {} replica{}), host link {} at {}, policy {}\n",
                       s.model.name, kv_text(s, cost), format_bytes(cost.weight_bytes()), s.gpu_count, d.gpu.name,
                       d.tensor_parallel, s.replicas, s.replicas > 1 ? "s" : "", d.host_link.name,
                       format_bandwidth(d.host_link_bandwidth()), s.scheduler.offload_policy);
  }
  if (!s.model.variant.empty()) out << fmt::format("  model variant: {}\n", s.model.variant);
  out << fmt::format("  compute peak {}/s per GPU in {} x efficiency {:g}; prefill attention FLOPs {}\n",
                     format_flops(d.peak_flops()), dtype_name(d.compute_dtype), d.compute_efficiency,
                     attention_flops_name(s.scheduler.attention_flops));
  out << fmt::format("  host memory {} per replica ({})\n", format_bytes_binary(d.host_memory), s.host_memory_origin);
  out << fmt::format("  simulated {} ({} sessions started); statistics over [{}, {}]{}\n\n", format_seconds(r.end_s),
                     r.sessions_started, format_seconds(s.workload.warmup), format_seconds(s.workload.duration),
                     window_note(r.end_s, s.workload.duration, m["sessions_in_flight_at_window_end"]));
  out << fmt::format(
      "  {:<20} {:.2f} sessions/h ({:.0f} sessions, {:.0f} rounds completed; {:.2f}/h ended in the window)\n",
      "session throughput", m["session_throughput_per_hour"], m["sessions_completed"], m["rounds_completed"],
      m["session_completion_rate_per_hour"]);
  out << fmt::format("  {:<20} mean resident {:.2f}, max {:.0f}, mean active rounds {:.2f}   [bound: HBM capacity]\n",
                     "concurrency", m["concurrency.mean_resident"], m["concurrency.max_resident"],
                     m["concurrency.mean_active"]);
  out << fmt::format("  {:<20} mean {}, p50 {}, p99 {}   [bound: FLOP/s]\n", "prefill",
                     format_seconds(m["prefill.mean_s"]), format_seconds(m["prefill.p50_s"]),
                     format_seconds(m["prefill.p99_s"]));
  out << fmt::format("  {:<20} mean {} per answer, TPOT p50 {}   [bound: HBM bandwidth]\n", "decode",
                     format_seconds(m["decode.mean_s"]), format_seconds(m["decode.tpot_p50_s"]));
  out << fmt::format("  {:<20} p50 {}, p90 {}, p99 {}\n", "time to first token", format_seconds(m["ttft.p50_s"]),
                     format_seconds(m["ttft.p90_s"]), format_seconds(m["ttft.p99_s"]));
  out << fmt::format(
      "  {:<20} out {}, in {}, {:.0f} transfers, {} on the link, stall mean {} p99 {}   [bound: host link]\n",
      "context switching", format_bytes(m["swap.bytes_out"]), format_bytes(m["swap.bytes_in"]), m["swap.count"],
      format_seconds(m["swap.total_s"]), format_seconds(m["swap.stall_mean_s"]), format_seconds(m["swap.stall_p99_s"]));
  out << fmt::format("  {:<20} {:.0f} tokens of dropped KV prefilled again\n", "recompute", m["recompute.tokens"]);
  if (m["prefix.blocks_looked_up"] > 0) {
    out << fmt::format(
        "  {:<20} {:.1f}% of {:.0f} prompt blocks hit in HBM, {:.1f}% in DDR; {:.0f} tokens not "
        "prefilled; {} of cached blocks offloaded\n",
        "prefix cache", 100 * m["prefix.hit_ratio_hbm"], m["prefix.blocks_looked_up"], 100 * m["prefix.hit_ratio_ddr"],
        m["prefix.tokens_saved"], format_bytes(m["prefix.bytes_offloaded"]));
  }
  out << fmt::format("  {:<20} prefill {}, decode {}, stalled on swap {}, idle {}\n", "GPU time",
                     pct(m["time_breakdown.prefill"]), pct(m["time_breakdown.decode"]),
                     pct(m["time_breakdown.stalled"]), pct(m["time_breakdown.idle"]));
  out << fmt::format("  {:<20} compute {}, HBM bandwidth {}, host link {}\n", "utilization",
                     pct(m["utilization.gpu_compute"]), pct(m["utilization.hbm_bandwidth"]),
                     pct(m["utilization.host_link"]));
  out << fmt::format("  {:<20} TTFT <= {}: {}; decode >= {:.3g} tok/s: {}\n", "SLO attainment",
                     format_seconds(s.slo.ttft), pct(m["slo.ttft_attainment"]), s.slo.decode_rate,
                     pct(m["slo.decode_rate_attainment"]));
  if (s.topology.declared) print_cluster(out, s, m);
}

}  // namespace kvsim
