#pragma once
/// @file metrics_sink.hpp
/// @brief The hooks through which a scheduler reports what happens. Metrics are kept as counters and per-round
/// rows; nothing is recorded per token.

#include <cstdint>

#include "engine/offload_policy.hpp"

namespace kvsim {

/// @brief One finished forward step.
struct StepRecord {
  double start_s = 0;
  double end_s = 0;
  std::int64_t prefill_tokens = 0;
  std::int64_t decode_tokens = 0;
  int batch_size = 0;
  double flops = 0;      ///< whole replica
  double hbm_bytes = 0;  ///< whole replica
  double prefill_flops = 0;
  double decode_flops = 0;
  std::int64_t steps = 1;  ///< forward steps it covers (fast-forward runs identical decode steps as one)
};

/// @brief The replica's occupancy after an event.
struct ReplicaState {
  int resident_sessions = 0;
  int active_rounds = 0;
  int waiting_rounds = 0;
  int stalled_rounds = 0;
  double hbm_kv_bytes = 0;
  double ddr_bytes = 0;
  bool gpu_busy = false;
};

/// @brief Receives a replica's events.
class MetricsSink {
 public:
  virtual ~MetricsSink() = default;
  virtual void on_round_arrival(SessionId s, int round, double now) = 0;
  /// @brief The round's first prefill chunk was scheduled in a step starting at `now`.
  virtual void on_prefill_start(SessionId s, double now) = 0;
  /// @brief The round's prefill finished and produced its first token.
  virtual void on_prefill_done(SessionId s, double now) = 0;
  virtual void on_round_done(SessionId s, std::int64_t answer_tokens, double now) = 0;
  /// @brief The session ended; its `freed_tokens` of KV left HBM.
  virtual void on_session_end(SessionId s, std::int64_t freed_tokens, double now) = 0;
  virtual void on_swap_start(SessionId s, bool to_host, double bytes, double now) = 0;
  virtual void on_swap_done(SessionId s, bool to_host, double bytes, double now) = 0;
  /// @brief An idle session's offloaded KV starts or finishes moving from DDR to the NVMe tier (tiered policy).
  virtual void on_demotion_start(SessionId s, double bytes, double now) = 0;
  virtual void on_demotion_done(SessionId s, double bytes, double now) = 0;
  /// @brief `bytes` of KV were loaded from DDR during a prefill step from `start` to `end` (layerwise); `stall_s`
  /// is how much longer the step took than its compute and HBM work alone.
  virtual void on_kv_loaded_in_step(SessionId s, double bytes, double start, double end, double stall_s) = 0;
  /// @brief `tokens` of context whose KV was dropped and must be prefilled again.
  virtual void on_kv_dropped(SessionId s, std::int64_t tokens, double bytes, double now) = 0;
  /// @brief Round `s` looked its prompt up in the prefix cache at admission: of its `blocks` full blocks, the first
  /// `hbm_hits` + `ddr_hits` were cached in HBM or DDR, and `tokens_saved` prompt tokens will not be prefilled.
  virtual void on_prefix_lookup(SessionId /*s*/, std::int64_t /*blocks*/, std::int64_t /*hbm_hits*/,
                                std::int64_t /*ddr_hits*/, std::int64_t /*tokens_saved*/, double /*now*/) {}
  /// @brief Prefix cache blocks of `bytes` moved from HBM to DDR between `start` and `end` (no session's).
  virtual void on_prefix_offload(double /*bytes*/, double /*start*/, double /*end*/) {}
  /// @brief The replica starts pulling `tokens` of session `s`'s KV (`bytes`) from replica `from` over the network.
  virtual void on_kv_import_start(SessionId /*s*/, int /*from*/, std::int64_t /*tokens*/, double /*bytes*/,
                                  double /*now*/) {}
  /// @brief That pull landed. For the decode leg of a disaggregated round, the user sees the first token now.
  virtual void on_kv_import_done(SessionId /*s*/, int /*from*/, std::int64_t /*tokens*/, double /*bytes*/,
                                 bool /*first_token*/, double /*now*/) {}
  /// @brief Session `s` left this replica for another: `moved_tokens` of its KV were pulled away (0 if dropped),
  /// freeing `freed_tokens` here (its shared prefix stays in the prefix cache).
  virtual void on_kv_export(SessionId /*s*/, std::int64_t /*moved_tokens*/, std::int64_t /*freed_tokens*/,
                            double /*now*/) {}
  /// @brief The prefill leg of a disaggregated round ended here; its decode leg runs on another replica.
  virtual void on_handoff(SessionId /*s*/, double /*now*/) {}
  /// @brief The decode leg of round `round` of `s`, prefilled on another replica, arrived here.
  virtual void on_leg_arrival(SessionId /*s*/, int /*round*/, double /*now*/) {}
  virtual void on_step(const StepRecord& step) = 0;
  virtual void on_state(const ReplicaState& state, double now) = 0;
};

}  // namespace kvsim
