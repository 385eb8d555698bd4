#include "engine/metrics.hpp"

#include <algorithm>
#include <cmath>

namespace kvsim {

class RunMetrics::ReplicaSink final : public MetricsSink {
 public:
  ReplicaSink(RunMetrics& m, int replica) : m_(m), r_(replica) {}

  void on_round_arrival(SessionId s, int round, double now) override {
    RoundRow row;
    row.session = s;
    row.round = round + 1;
    row.replica = r_;
    row.arrival_s = now;
    row.counted = m_.open_sessions_.count(s) && m_.open_sessions_.at(s).counted;
    auto pending = m_.pending_out_.find(s);
    if (pending != m_.pending_out_.end()) {
      row.swap_out_bytes = pending->second.bytes;
      row.recompute_tokens = pending->second.dropped_tokens;
      row.swap_in_bytes = pending->second.prefetched_bytes;
      m_.pending_out_.erase(pending);
    }
    if (m_.swapping_in_.count(s)) row.stall_start_s = now;  // a prefetch is still landing
    m_.open_rounds_[s] = row;
  }
  void on_prefill_start(SessionId s, double now) override { m_.open_rounds_.at(s).prefill_start_s = now; }
  void on_prefill_done(SessionId s, double now) override {
    auto& row = m_.open_rounds_.at(s);
    row.first_token_s = now;
    row.prefill_end_s = now;
  }
  void on_leg_arrival(SessionId s, int, double) override { m_.open_rounds_.at(s).decode_replica = r_; }
  void on_kv_import_start(SessionId s, int, std::int64_t, double, double now) override {
    m_.totals_->pull_started[s] = now;
  }
  void on_kv_import_done(SessionId s, int from, std::int64_t, double bytes, bool first, double now) override;
  void on_round_done(SessionId s, std::int64_t answer_tokens, double now) override;
  void on_session_end(SessionId s, std::int64_t freed_tokens, double now) override;
  void on_swap_start(SessionId s, bool to_host, double bytes, double now) override;
  void on_swap_done(SessionId s, bool to_host, double bytes, double now) override;
  void on_kv_dropped(SessionId s, std::int64_t tokens, double, double) override {
    m_.totals_->recompute_tokens += tokens;
    m_.totals_->recompute_count += 1;
    auto it = m_.open_rounds_.find(s);  // charged to the waiting round, or else to the session's next round
    if (it != m_.open_rounds_.end()) {
      it->second.recompute_tokens += tokens;
    } else {
      m_.pending_out_[s].dropped_tokens += tokens;
    }
  }
  void on_kv_loaded_in_step(SessionId s, double bytes, double start, double end, double stall_s) override;
  void on_demotion_start(SessionId s, double, double now) override { m_.demotions_started_[s] = now; }
  void on_demotion_done(SessionId s, double bytes, double now) override {
    m_.totals_->bytes_demoted += bytes;
    m_.transfers_.push_back(TransferRow{s, r_, true, bytes, m_.demotions_started_.at(s), now, true});
    m_.demotions_started_.erase(s);
  }
  void on_prefix_lookup(SessionId, std::int64_t blocks, std::int64_t hbm_hits, std::int64_t ddr_hits,
                        std::int64_t tokens_saved, double) override {
    auto& t = *m_.totals_;
    t.prefix_blocks += blocks;
    t.prefix_hbm_hits += hbm_hits;
    t.prefix_ddr_hits += ddr_hits;
    t.prefix_tokens_saved += tokens_saved;
  }
  void on_prefix_offload(double bytes, double start, double end) override {
    auto& t = *m_.totals_;
    t.prefix_bytes_offloaded += bytes;
    if (end > start) m_.window_add(t.link_bytes_in_window, start, end, bytes / (end - start));
  }
  void on_step(const StepRecord& step) override;
  void on_state(const ReplicaState& state, double now) override {
    m_.advance(now);
    m_.states_[static_cast<std::size_t>(r_)] = state;
  }

 private:
  RunMetrics& m_;
  int r_;
};

void RunMetrics::ReplicaSink::on_kv_import_done(SessionId s, int from, std::int64_t, double bytes, bool first,
                                                double now) {
  auto& t = *m_.totals_;
  const double start = t.pull_started.at(s);
  t.pull_started.erase(s);
  m_.network_.push_back(NetworkRow{s, from, r_, bytes, start, now, first});
  auto& row = m_.open_rounds_.at(s);
  if (first) {
    row.first_token_s = now;  // the user sees the first token once the decode replica has the KV
  } else {
    row.move_stall_s += now - start;
  }
}

void RunMetrics::ReplicaSink::on_round_done(SessionId s, std::int64_t answer_tokens, double now) {
  auto it = m_.open_rounds_.find(s);
  RoundRow row = it->second;
  m_.open_rounds_.erase(it);
  row.end_s = now;
  row.answer_tokens = answer_tokens;
  row.ttft_s = row.first_token_s - row.arrival_s;
  row.prefill_s = row.prefill_end_s - row.prefill_start_s - row.overlapped_stall_s;
  if (row.decode_replica >= 0) row.kv_transfer_s = row.first_token_s - row.prefill_end_s;
  // Waiting before the first prefill step, less the stalls spent before it (a layerwise stall is inside the step).
  row.queue_s = std::max(
      0.0, row.prefill_start_s - row.arrival_s - (row.swap_in_stall_s - row.overlapped_stall_s) - row.move_stall_s);
  row.decode_s = now - row.first_token_s;
  row.decode_tokens_per_s = row.decode_s > 0 ? double(answer_tokens - 1) / row.decode_s : 0;
  auto& sess = m_.open_sessions_.at(s);
  sess.rounds += 1;
  sess.ttft_mean_s += row.ttft_s;
  sess.swap_in_stall_s += row.swap_in_stall_s;
  sess.swap_bytes += row.swap_in_bytes + row.swap_out_bytes;
  sess.recompute_tokens += row.recompute_tokens;
  m_.rounds_.push_back(row);
}

void RunMetrics::ReplicaSink::on_session_end(SessionId s, std::int64_t, double now) {
  auto it = m_.open_sessions_.find(s);
  SessionRow row = it->second;
  m_.open_sessions_.erase(it);
  row.end_s = now;
  if (row.rounds > 0) row.ttft_mean_s /= row.rounds;
  m_.sessions_.push_back(row);
}

void RunMetrics::ReplicaSink::on_swap_start(SessionId s, bool to_host, double bytes, double now) {
  m_.totals_->swap_started[(std::uint64_t(s) << 1) | (to_host ? 1 : 0)] = now;
  auto it = m_.open_rounds_.find(s);
  if (!to_host) m_.swapping_in_.insert(s);
  if (!to_host && it != m_.open_rounds_.end()) {
    it->second.stall_start_s = now;
  } else if (to_host && it != m_.open_rounds_.end()) {
    it->second.swap_out_bytes += bytes;
  } else if (to_host) {
    m_.pending_out_[s].bytes += bytes;
  }
}

void RunMetrics::ReplicaSink::on_swap_done(SessionId s, bool to_host, double bytes, double now) {
  auto& t = *m_.totals_;
  const auto key = (std::uint64_t(s) << 1) | (to_host ? 1 : 0);
  const double start = t.swap_started.at(key);
  t.swap_started.erase(key);
  t.swap_s += now - start;
  t.swap_count += 1;
  m_.transfers_.push_back(TransferRow{s, r_, to_host, bytes, start, now});
  (to_host ? t.bytes_out : t.bytes_in) += bytes;
  if (now > start) m_.window_add(t.link_bytes_in_window, start, now, bytes / (now - start));
  if (to_host) return;
  m_.swapping_in_.erase(s);
  if (auto it = m_.open_rounds_.find(s); it != m_.open_rounds_.end()) {
    it->second.swap_in_stall_s += now - it->second.stall_start_s;
    it->second.swap_in_bytes += bytes;
  } else {
    m_.pending_out_[s].prefetched_bytes += bytes;  // a prefetch that landed before the user came back
  }
}

void RunMetrics::ReplicaSink::on_kv_loaded_in_step(SessionId s, double bytes, double start, double end,
                                                   double stall_s) {
  auto& t = *m_.totals_;
  t.swap_s += end - start;
  t.swap_count += 1;
  t.bytes_in += bytes;
  if (end > start) m_.window_add(t.link_bytes_in_window, start, end, bytes / (end - start));
  m_.transfers_.push_back(TransferRow{s, r_, false, bytes, start, end});
  m_.swapping_in_.erase(s);
  t.swap_started.erase(std::uint64_t(s) << 1);  // recorded by on_swap_start when the load was planned
  auto& row = m_.open_rounds_.at(s);
  row.swap_in_bytes += bytes;
  row.swap_in_stall_s += stall_s;
  row.overlapped_stall_s += stall_s;
}

void RunMetrics::ReplicaSink::on_step(const StepRecord& step) {
  auto& t = *m_.totals_;
  t.steps += step.steps;
  ++t.step_activities;
  double span = 0;
  m_.window_add(span, step.start_s, step.end_s, 1.0);
  if (span <= 0) return;
  t.busy_s[static_cast<std::size_t>(r_)] += span;
  const double share = span / (step.end_s - step.start_s);
  t.flops += step.flops * share;
  t.hbm_bytes += step.hbm_bytes * share;
  const double total = step.prefill_flops + step.decode_flops;
  const double prefill_part = total > 0 ? step.prefill_flops / total : 0;
  t.prefill_s += span * prefill_part;
  t.decode_s += span * (1 - prefill_part);
}

RunMetrics::RunMetrics(Capacities caps, double warmup_s, double duration_s, double timeline_period_s)
    : caps_(caps),
      warmup_(warmup_s),
      duration_(duration_s),
      period_(timeline_period_s),
      states_(static_cast<std::size_t>(caps.replicas)),
      totals_(std::make_unique<Totals>()) {
  for (int r = 0; r < caps.replicas; ++r) sinks_.push_back(std::make_unique<ReplicaSink>(*this, r));
  totals_->busy_s.assign(static_cast<std::size_t>(caps.replicas), 0.0);
}

RunMetrics::~RunMetrics() = default;

MetricsSink& RunMetrics::sink(int replica) {
  return *sinks_.at(static_cast<std::size_t>(replica));
}

void RunMetrics::on_session_start(SessionId s, int replica, double now) {
  SessionRow row;
  row.session = s;
  row.replica = replica;
  row.start_s = now;
  row.counted = now >= warmup_;
  open_sessions_[s] = row;
}

void RunMetrics::window_add(double& acc, double t0, double t1, double value) const {
  const double a = std::max(t0, warmup_);
  const double b = std::min(t1, duration_);
  if (b > a) acc += value * (b - a);
}

void RunMetrics::advance(double now) {
  if (now < last_t_) return;
  auto& t = *totals_;
  int resident = 0;
  for (const auto& s : states_) {
    resident += s.resident_sessions;
    window_add(t.resident, last_t_, now, s.resident_sessions);
    window_add(t.active, last_t_, now, s.active_rounds);
    if (!s.gpu_busy) window_add(s.stalled_rounds > 0 ? t.stalled_s : t.idle_s, last_t_, now, 1.0);
  }
  if (last_t_ >= warmup_ && last_t_ < duration_) t.max_resident = std::max(t.max_resident, resident);
  while (period_ > 0 && double(samples_) * period_ <= now) {
    TimelineRow row{double(samples_) * period_, 0, 0, 0, 0, 0, 0, 0};
    for (const auto& s : states_) {
      row.resident_sessions += s.resident_sessions;
      row.active_rounds += s.active_rounds;
      row.waiting_rounds += s.waiting_rounds;
      row.stalled_rounds += s.stalled_rounds;
      row.hbm_kv_bytes += s.hbm_kv_bytes;
      row.ddr_bytes += s.ddr_bytes;
      row.busy_replicas += s.gpu_busy ? 1 : 0;
    }
    timeline_.push_back(row);
    ++samples_;
  }
  last_t_ = now;
}

void RunMetrics::finish(double now) {
  // A run that drains before `duration` leaves the replicas idle until the window's end: the tail is counted, so
  // rates are per hour of the stated window whether or not work remained to fill it.
  advance(std::max(now, duration_));
  end_ = now;
}

}  // namespace kvsim
