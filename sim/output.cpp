#include "sim/output.hpp"

#include <fmt/format.h>

#include "engine/units.hpp"
#include "sim/safe_output.hpp"

namespace kvsim {
namespace fs = std::filesystem;
namespace {

std::string num(double v) {
  return fmt::format("{:.10g}", v);
}

std::string rounds_csv(const RunMetrics& m) {
  std::string out =
      "session,round,replica,arrival_s,queue_s,swap_in_stall_s,prefill_s,ttft_s,decode_s,end_s,answer_tokens,"
      "decode_tokens_per_s,swap_in_bytes,swap_out_bytes,recompute_tokens,counted\n";
  const bool cluster = m.cluster();
  if (cluster) out.insert(out.size() - 1, ",move_stall_s,kv_transfer_s,decode_replica");
  for (const auto& r : m.rounds()) {
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}", r.session, r.round, r.replica,
                       num(r.arrival_s), num(r.queue_s), num(r.swap_in_stall_s), num(r.prefill_s), num(r.ttft_s),
                       num(r.decode_s), num(r.end_s), r.answer_tokens, num(r.decode_tokens_per_s), num(r.swap_in_bytes),
                       num(r.swap_out_bytes), r.recompute_tokens, r.counted ? 1 : 0);
    if (cluster) out += fmt::format(",{},{},{}", num(r.move_stall_s), num(r.kv_transfer_s), r.decode_replica);
    out += '\n';
  }
  return out;
}

// Cluster runs: every KV move between replicas over the network.
std::string network_csv(const RunMetrics& m) {
  std::string out = "session,from_replica,to_replica,kind,bytes,start_s,end_s\n";
  for (const auto& n : m.network()) {
    out += fmt::format("{},{},{},{},{},{},{}\n", n.session, n.from, n.to, n.handoff ? "handoff" : "move", num(n.bytes),
                       num(n.start_s), num(n.end_s));
  }
  return out;
}

std::string sessions_csv(const RunMetrics& m) {
  std::string out =
      "session,replica,start_s,end_s,duration_s,rounds,ttft_mean_s,swap_in_stall_s,swap_bytes,recompute_tokens,"
      "counted\n";
  for (const auto& s : m.sessions()) {
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{}\n", s.session, s.replica, num(s.start_s), num(s.end_s),
                       num(s.end_s - s.start_s), s.rounds, num(s.ttft_mean_s), num(s.swap_in_stall_s),
                       num(s.swap_bytes), s.recompute_tokens, s.counted ? 1 : 0);
  }
  return out;
}

std::string timeline_csv(const RunMetrics& m) {
  std::string out =
      "time_s,resident_sessions,active_rounds,waiting_rounds,stalled_rounds,hbm_kv_bytes,ddr_bytes,busy_replicas\n";
  for (const auto& t : m.timeline()) {
    out += fmt::format("{},{},{},{},{},{},{},{}\n", num(t.time_s), t.resident_sessions, t.active_rounds,
                       t.waiting_rounds, t.stalled_rounds, num(t.hbm_kv_bytes), num(t.ddr_bytes), t.busy_replicas);
  }
  return out;
}

std::string transfers_csv(const RunMetrics& m) {
  std::string out = "session,replica,direction,bytes,start_s,end_s,duration_s\n";
  for (const auto& t : m.transfers()) {
    const char* direction = t.demotion ? "demote" : (t.to_host ? "out" : "in");
    out += fmt::format("{},{},{},{},{},{},{}\n", t.session, t.replica, direction, num(t.bytes), num(t.start_s),
                       num(t.end_s), num(t.end_s - t.start_s));
  }
  return out;
}

}  // namespace

nlohmann::ordered_json summary_json(const Scenario& s, const RunResult& r) {
  nlohmann::ordered_json j;
  j["kvsim_version"] = KVSIM_VERSION;
  j["scenario"] = {{"file", s.file.filename().string()},
                   {"model", s.model.name},
                   {"model_variant", s.model.variant},
                   {"model_max_context", std::llround(s.model.max_context)},
                   {"gpu", s.deployment.gpu.name},
                   {"gpus", s.gpu_count},
                   {"tensor_parallel", s.deployment.tensor_parallel},
                   {"replicas", s.replicas},
                   {"host_link", s.deployment.host_link.name},
                   {"host_link_bytes_per_s", s.deployment.host_link.bandwidth},
                   {"host_memory_per_replica_bytes", s.deployment.host_memory},
                   {"host_memory_origin", s.host_memory_origin},
                   {"kv_offload_policy", s.scheduler.offload_policy},
                   {"compute_dtype", dtype_name(s.deployment.compute_dtype)},
                   {"peak_flops_per_gpu", s.deployment.peak_flops()},
                   {"attention_flops", attention_flops_name(s.scheduler.attention_flops)},
                   {"seed", s.seed}};
  j["kv_pool"] = {{"blocks_per_replica", r.kv_pool_blocks}, {"block_tokens", r.kv_block_tokens}};
  if (!r.stopped_early.empty()) j["stopped_early"] = {{"reason", r.stopped_early}, {"at_s", r.stopped_at_s}};
  for (const auto& [key, value] : r.metrics->summary()) {
    const auto dot = key.find('.');
    if (dot == std::string::npos) {
      j[key] = value;
    } else if (key.starts_with("pool.")) {  // pool.<name>.<figure>
      const auto second = key.find('.', dot + 1);
      j["pool"][key.substr(dot + 1, second - dot - 1)][key.substr(second + 1)] = value;
    } else {
      j[key.substr(0, dot)][key.substr(dot + 1)] = value;
    }
  }
  return j;
}

std::vector<std::string> run_output_names() {
  return {"summary.json", "sessions.csv", "rounds.csv", "timeline.csv", "transfers.csv", "plots"};
}

void write_run_outputs(const fs::path& dir, const Scenario& s, const RunResult& r,
                       const std::vector<std::pair<std::string, std::string>>& extra) {
  StagedDir staged(dir);
  staged.write("summary.json", summary_json(s, r).dump(2) + "\n");
  staged.write("sessions.csv", sessions_csv(*r.metrics));
  staged.write("rounds.csv", rounds_csv(*r.metrics));
  staged.write("timeline.csv", timeline_csv(*r.metrics));
  staged.write("transfers.csv", transfers_csv(*r.metrics));
  std::vector<std::string> names = run_output_names();
  if (r.metrics->cluster()) {
    staged.write("network.csv", network_csv(*r.metrics));
    names.push_back("network.csv");
  }
  for (const auto& [name, text] : extra) {
    staged.write(name, text);
    names.push_back(name);
  }
  staged.keep_others(names);
  staged.commit();
}

}  // namespace kvsim
