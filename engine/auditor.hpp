#pragma once
/// @file auditor.hpp
/// @brief Invariants checked during a run (on by default in debug builds and tests, `kvsim run --audit` in
/// release). The auditor sits between a replica's scheduler and its metrics sink, forwards every event, and after
/// each one checks that HBM and DDR use stay within capacity, that the KV ledger balances (tokens written =
/// resident + swapped + dropped + freed, the prefix cache's tokens aside), that the HBM blocks and DDR bytes of
/// the sessions and the prefix cache add up to the ledgers, that every round and session ends exactly once, and
/// that simulated time never goes backwards. A violation throws AuditFailure naming the invariant and the numbers.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "engine/metrics.hpp"
#include "engine/sched/scheduler.hpp"

namespace kvsim {

/// @brief A broken invariant.
class AuditFailure : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

/// @brief KV tokens in flight between replicas, shared by every replica's auditor: a pull adds its tokens when it
/// starts on the importing replica, and the export removes them when the source lets go. They must match: KV that
/// left one replica arrived on another, never twice and never lost. Throws AuditFailure on a mismatch.
class MoveLedger {
 public:
  /// @brief A pull of `tokens` of session `s` started.
  void imported(SessionId s, std::int64_t tokens, double now);
  /// @brief The source of `s` let go of `tokens`.
  void exported(SessionId s, std::int64_t tokens, double now);
  /// @brief End of run: nothing in flight.
  void finish(double now) const;

 private:
  std::unordered_map<SessionId, std::int64_t> in_flight_;
};

/// @brief Checks one replica's events and forwards them to `next`.
class Auditor final : public MetricsSink {
 public:
  /// `moves`, shared by the replicas' auditors, matches KV pulled by one replica with KV let go by another.
  Auditor(int replica, MetricsSink& next, MoveLedger* moves = nullptr)
      : replica_(replica), next_(next), moves_(moves) {}
  /// @brief The scheduler whose ledgers are checked; set once it exists.
  void attach(const Scheduler& scheduler) { scheduler_ = &scheduler; }
  /// @brief End of run: no round or session may be left open, and the scheduler must be idle.
  void finish(double now) const;

  void on_round_arrival(SessionId s, int round, double now) override;
  void on_prefill_start(SessionId s, double now) override;
  void on_prefill_done(SessionId s, double now) override;
  void on_round_done(SessionId s, std::int64_t answer_tokens, double now) override;
  void on_session_end(SessionId s, std::int64_t freed_tokens, double now) override;
  void on_swap_start(SessionId s, bool to_host, double bytes, double now) override;
  void on_swap_done(SessionId s, bool to_host, double bytes, double now) override;
  void on_kv_loaded_in_step(SessionId s, double bytes, double start, double end, double stall_s) override;
  void on_demotion_start(SessionId s, double bytes, double now) override {
    tick(now);
    next_.on_demotion_start(s, bytes, now);
  }
  void on_demotion_done(SessionId s, double bytes, double now) override {
    tick(now);
    next_.on_demotion_done(s, bytes, now);
  }
  void on_kv_dropped(SessionId s, std::int64_t tokens, double bytes, double now) override;
  void on_prefix_lookup(SessionId s, std::int64_t blocks, std::int64_t hbm_hits, std::int64_t ddr_hits,
                        std::int64_t tokens_saved, double now) override;
  void on_prefix_offload(double bytes, double start, double end) override;
  void on_kv_import_start(SessionId s, int from, std::int64_t tokens, double bytes, double now) override;
  void on_kv_import_done(SessionId s, int from, std::int64_t tokens, double bytes, bool first, double now) override;
  void on_kv_export(SessionId s, std::int64_t moved, std::int64_t freed, double now) override;
  void on_handoff(SessionId s, double now) override;
  void on_leg_arrival(SessionId s, int round, double now) override;
  void on_step(const StepRecord& step) override;
  void on_state(const ReplicaState& state, double now) override;

 private:
  [[noreturn]] void fail(double now, const std::string& what) const;
  void tick(double now);
  void check_ledgers(double now) const;

  int replica_;
  MetricsSink& next_;
  MoveLedger* moves_;
  const Scheduler* scheduler_ = nullptr;
  double last_now_ = 0;
  std::int64_t written_ = 0;  ///< KV tokens written by steps (prompt, recomputed and generated tokens)
  std::int64_t dropped_ = 0;
  std::int64_t freed_ = 0;
  std::int64_t imported_ = 0;                        ///< KV tokens of sessions that came with KV held elsewhere
  std::int64_t exported_ = 0;                        ///< KV tokens of sessions that left with their KV
  std::unordered_map<SessionId, bool> open_rounds_;  ///< session -> has an open round
};

/// @brief Checks that the summary agrees with the rows it summarises (rounds, sessions, transfers). Throws
/// AuditFailure on a mismatch.
void audit_summary(const RunMetrics& metrics);

}  // namespace kvsim
