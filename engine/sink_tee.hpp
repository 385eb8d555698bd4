#pragma once
/// @file sink_tee.hpp
/// @brief A sink that forwards every event to two sinks, in order: how a run feeds its metrics and its
/// trace-event writer from one scheduler.

#include "engine/metrics_sink.hpp"

namespace kvsim {

/// @brief Forwards each event to `first`, then to `second`.
class SinkTee final : public MetricsSink {
 public:
  SinkTee(MetricsSink& first, MetricsSink& second) : a_(first), b_(second) {}

  void on_round_arrival(SessionId s, int round, double now) override {
    a_.on_round_arrival(s, round, now);
    b_.on_round_arrival(s, round, now);
  }
  void on_prefill_start(SessionId s, double now) override {
    a_.on_prefill_start(s, now);
    b_.on_prefill_start(s, now);
  }
  void on_prefill_done(SessionId s, double now) override {
    a_.on_prefill_done(s, now);
    b_.on_prefill_done(s, now);
  }
  void on_round_done(SessionId s, std::int64_t answer_tokens, double now) override {
    a_.on_round_done(s, answer_tokens, now);
    b_.on_round_done(s, answer_tokens, now);
  }
  void on_session_end(SessionId s, std::int64_t freed_tokens, double now) override {
    a_.on_session_end(s, freed_tokens, now);
    b_.on_session_end(s, freed_tokens, now);
  }
  void on_swap_start(SessionId s, bool to_host, double bytes, double now) override {
    a_.on_swap_start(s, to_host, bytes, now);
    b_.on_swap_start(s, to_host, bytes, now);
  }
  void on_swap_done(SessionId s, bool to_host, double bytes, double now) override {
    a_.on_swap_done(s, to_host, bytes, now);
    b_.on_swap_done(s, to_host, bytes, now);
  }
  void on_demotion_start(SessionId s, double bytes, double now) override {
    a_.on_demotion_start(s, bytes, now);
    b_.on_demotion_start(s, bytes, now);
  }
  void on_demotion_done(SessionId s, double bytes, double now) override {
    a_.on_demotion_done(s, bytes, now);
    b_.on_demotion_done(s, bytes, now);
  }
  void on_kv_loaded_in_step(SessionId s, double bytes, double start, double end, double stall_s) override {
    a_.on_kv_loaded_in_step(s, bytes, start, end, stall_s);
    b_.on_kv_loaded_in_step(s, bytes, start, end, stall_s);
  }
  void on_kv_dropped(SessionId s, std::int64_t tokens, double bytes, double now) override {
    a_.on_kv_dropped(s, tokens, bytes, now);
    b_.on_kv_dropped(s, tokens, bytes, now);
  }
  void on_prefix_lookup(SessionId s, std::int64_t blocks, std::int64_t hbm_hits, std::int64_t ddr_hits,
                        std::int64_t tokens_saved, double now) override {
    a_.on_prefix_lookup(s, blocks, hbm_hits, ddr_hits, tokens_saved, now);
    b_.on_prefix_lookup(s, blocks, hbm_hits, ddr_hits, tokens_saved, now);
  }
  void on_prefix_offload(double bytes, double start, double end) override {
    a_.on_prefix_offload(bytes, start, end);
    b_.on_prefix_offload(bytes, start, end);
  }
  void on_kv_import_start(SessionId s, int from, std::int64_t tokens, double bytes, double now) override {
    a_.on_kv_import_start(s, from, tokens, bytes, now);
    b_.on_kv_import_start(s, from, tokens, bytes, now);
  }
  void on_kv_import_done(SessionId s, int from, std::int64_t tokens, double bytes, bool first, double now) override {
    a_.on_kv_import_done(s, from, tokens, bytes, first, now);
    b_.on_kv_import_done(s, from, tokens, bytes, first, now);
  }
  void on_kv_export(SessionId s, std::int64_t moved, std::int64_t freed, double now) override {
    a_.on_kv_export(s, moved, freed, now);
    b_.on_kv_export(s, moved, freed, now);
  }
  void on_handoff(SessionId s, double now) override {
    a_.on_handoff(s, now);
    b_.on_handoff(s, now);
  }
  void on_leg_arrival(SessionId s, int round, double now) override {
    a_.on_leg_arrival(s, round, now);
    b_.on_leg_arrival(s, round, now);
  }
  void on_step(const StepRecord& step) override {
    a_.on_step(step);
    b_.on_step(step);
  }
  void on_state(const ReplicaState& state, double now) override {
    a_.on_state(state, now);
    b_.on_state(state, now);
  }

 private:
  MetricsSink& a_;
  MetricsSink& b_;
};

}  // namespace kvsim
