// The summary of a run: the keys of summary.json, computed from the per-round rows and the running totals.
#include <algorithm>
#include <cmath>

#include "engine/metrics.hpp"

namespace kvsim {
double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double pos = p / 100.0 * double(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const auto hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - double(lo));
}

namespace {

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / double(v.size());
}

}  // namespace

std::vector<std::pair<std::string, double>> RunMetrics::summary() const {
  const auto& t = *totals_;
  const double window = std::max(0.0, duration_ - warmup_);
  std::vector<double> ttft, prefill, decode, tpot, stall, rate;
  double ttft_ok = 0, rate_ok = 0;
  long rounds_completed = 0;
  for (const auto& r : rounds_) {
    if (!r.counted) continue;
    ++rounds_completed;
    ttft.push_back(r.ttft_s);
    prefill.push_back(r.prefill_s);
    decode.push_back(r.decode_s);
    if (r.answer_tokens > 1) tpot.push_back(r.decode_s / double(r.answer_tokens - 1));
    if (r.answer_tokens > 1) rate.push_back(r.decode_tokens_per_s);
    stall.push_back(r.swap_in_stall_s);
    ttft_ok += r.ttft_s <= caps_.slo_ttft_s ? 1 : 0;
    rate_ok += (r.answer_tokens <= 1 || r.decode_tokens_per_s >= caps_.slo_decode_rate) ? 1 : 0;
  }
  long completed = 0, in_window = 0, ended_in_window = 0, in_flight = 0;
  for (const auto& s : sessions_) {
    completed += s.counted ? 1 : 0;
    in_flight += (s.start_s < duration_ && s.end_s > duration_) ? 1 : 0;
    in_window += (s.counted && s.end_s <= duration_) ? 1 : 0;
    ended_in_window += (s.end_s >= warmup_ && s.end_s <= duration_) ? 1 : 0;
  }
  const double gpu_time = window * caps_.replicas;
  const double n = double(std::max<long>(1, rounds_completed));
  auto frac = [&](double x) { return gpu_time > 0 ? x / gpu_time : 0; };
  const double link_capacity = caps_.host_link_bandwidth * caps_.host_links * 2 * window;
  std::vector<std::pair<std::string, double>> out{
      {"session_throughput_per_hour", window > 0 ? double(in_window) / window * 3600 : 0},
      {"session_completion_rate_per_hour", window > 0 ? double(ended_in_window) / window * 3600 : 0},
      {"sessions_completed", double(completed)},
      {"sessions_in_flight_at_window_end", double(in_flight)},
      {"rounds_completed", double(rounds_completed)},
      {"concurrency.mean_resident", window > 0 ? t.resident / window : 0},
      {"concurrency.max_resident", double(t.max_resident)},
      {"concurrency.mean_active", window > 0 ? t.active / window : 0},
      {"prefill.mean_s", mean(prefill)},
      {"prefill.p50_s", percentile(prefill, 50)},
      {"prefill.p99_s", percentile(prefill, 99)},
      {"decode.mean_s", mean(decode)},
      {"decode.tpot_p50_s", percentile(tpot, 50)},
      {"decode.rate_p50_tok_per_s", percentile(rate, 50)},
      {"decode.rate_p10_tok_per_s", percentile(rate, 10)},
      {"ttft.p50_s", percentile(ttft, 50)},
      {"ttft.p90_s", percentile(ttft, 90)},
      {"ttft.p99_s", percentile(ttft, 99)},
      {"swap.bytes_out", t.bytes_out},
      {"swap.bytes_in", t.bytes_in},
      {"swap.count", double(t.swap_count)},
      {"swap.total_s", t.swap_s},
      {"swap.bytes_demoted", t.bytes_demoted},
      {"swap.transfer_mean_s", t.swap_count > 0 ? t.swap_s / double(t.swap_count) : 0},
      {"swap.stall_mean_s", mean(stall)},
      {"swap.stall_p99_s", percentile(stall, 99)},
      {"recompute.tokens", double(t.recompute_tokens)},
      {"recompute.count", double(t.recompute_count)},
      {"prefix.hit_ratio_hbm", t.prefix_blocks > 0 ? double(t.prefix_hbm_hits) / double(t.prefix_blocks) : 0},
      {"prefix.hit_ratio_ddr", t.prefix_blocks > 0 ? double(t.prefix_ddr_hits) / double(t.prefix_blocks) : 0},
      {"prefix.tokens_saved", double(t.prefix_tokens_saved)},
      {"prefix.blocks_looked_up", double(t.prefix_blocks)},
      {"prefix.bytes_offloaded", t.prefix_bytes_offloaded},
      {"utilization.gpu_compute", window > 0 ? t.flops / (caps_.flop_rate_per_gpu * caps_.gpus * window) : 0},
      {"utilization.hbm_bandwidth", window > 0 ? t.hbm_bytes / (caps_.hbm_bandwidth_per_gpu * caps_.gpus * window) : 0},
      {"utilization.host_link", link_capacity > 0 ? t.link_bytes_in_window / link_capacity : 0},
      {"time_breakdown.prefill", frac(t.prefill_s)},
      {"time_breakdown.decode", frac(t.decode_s)},
      {"time_breakdown.stalled", frac(t.stalled_s)},
      {"time_breakdown.idle", frac(t.idle_s)},
      {"time_breakdown.prefill_s", t.prefill_s},
      {"time_breakdown.decode_s", t.decode_s},
      {"slo.ttft_attainment", ttft_ok / n},
      {"slo.decode_rate_attainment", rate_ok / n},
      {"window_s", window},
      {"sim_time_s", end_},
      {"steps_executed", double(t.steps)},
      {"step_activities", double(t.step_activities)},
  };
  if (cluster()) cluster_summary(out);
  return out;
}

// A cluster's network and each pool: the bytes and time of KV moves, TTFT split into queue, prefill and transfer,
// and per pool its GPUs' busy time and its rounds' queueing.
void RunMetrics::cluster_summary(std::vector<std::pair<std::string, double>>& out) const {
  const double window = std::max(0.0, duration_ - warmup_);
  double bytes = 0, seconds = 0, handoffs = 0;
  for (const auto& n : network_) {
    bytes += n.bytes;
    seconds += n.end_s - n.start_s;
    handoffs += n.handoff ? 1 : 0;
  }
  std::vector<double> queue, prefill, transfer, moved;
  for (const auto& r : rounds_) {
    if (!r.counted) continue;
    queue.push_back(r.queue_s + r.swap_in_stall_s + r.move_stall_s);
    prefill.push_back(r.prefill_s);
    transfer.push_back(r.kv_transfer_s);
  }
  const double moves = double(network_.size());
  out.insert(out.end(), {
                            {"network.moves", moves},
                            {"network.handoffs", handoffs},
                            {"network.bytes", bytes},
                            {"network.transfer_mean_s", moves > 0 ? seconds / moves : 0},
                            {"ttft_split.queue_mean_s", mean(queue)},
                            {"ttft_split.prefill_mean_s", mean(prefill)},
                            {"ttft_split.transfer_mean_s", mean(transfer)},
                        });
  for (const auto& p : caps_.pools) {
    double busy = 0;
    for (int r = p.first; r < p.first + p.replicas; ++r) busy += totals_->busy_s[static_cast<std::size_t>(r)];
    std::vector<double> q, ttft;
    double pool_bytes = 0;
    for (const auto& r : rounds_) {
      const bool here = r.replica >= p.first && r.replica < p.first + p.replicas;
      const bool decoded_here = r.decode_replica >= p.first && r.decode_replica < p.first + p.replicas;
      if (!r.counted || !(here || decoded_here)) continue;
      if (here) q.push_back(r.queue_s + r.move_stall_s);
      if (here) ttft.push_back(r.ttft_s);
    }
    for (const auto& n : network_) {
      if (n.to >= p.first && n.to < p.first + p.replicas) pool_bytes += n.bytes;
    }
    const std::string k = "pool." + p.name + ".";
    out.insert(out.end(), {
                              {k + "replicas", double(p.replicas)},
                              {k + "gpus", double(p.gpus)},
                              {k + "utilization", window > 0 ? busy / (window * p.replicas) : 0},
                              {k + "queue_mean_s", mean(q)},
                              {k + "ttft_p90_s", percentile(ttft, 90)},
                              {k + "network_bytes_in", pool_bytes},
                          });
  }
}

}  // namespace kvsim
