#pragma once
/// @file metrics.hpp
/// @brief Run metrics: one row per round and per session, time-weighted occupancy, GPU time breakdown, and the
/// summary that `kvsim run` writes. Statistics cover sessions that start at or after the warmup, over the window
/// [warmup, duration]: a run that drains early counts its idle tail, and sessions still running at `duration` are
/// reported as in flight rather than counted.

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/metrics_sink.hpp"

namespace kvsim {

/// @brief The p-th percentile (0..100) of `values` with linear interpolation between closest ranks (numpy's
/// default); 0 when empty. Every percentile kvsim reports uses it.
double percentile(std::vector<double> values, double p);

/// @brief One finished round; the columns of rounds.csv.
struct RoundRow {
  SessionId session = 0;
  int round = 0;  ///< 1-based
  int replica = 0;
  double arrival_s = 0;
  double queue_s = 0;          ///< waiting for the scheduler, swap stall excluded
  double swap_in_stall_s = 0;  ///< waiting for this session's KV to come back from DDR
  double prefill_s = 0;        ///< first prefill chunk start to first token
  double ttft_s = 0;
  double decode_s = 0;  ///< first token to last token
  double end_s = 0;
  std::int64_t answer_tokens = 0;
  double decode_tokens_per_s = 0;  ///< (answer_tokens - 1) / decode_s
  double swap_in_bytes = 0;
  double swap_out_bytes = 0;  ///< moved out since the previous round ended
  std::int64_t recompute_tokens = 0;
  bool counted = false;  ///< its session started at or after the warmup
  double prefill_start_s = -1;
  double first_token_s = -1;
  double stall_start_s = -1;
  double overlapped_stall_s = 0;  ///< part of the stall inside its first prefill step (layerwise)
  double move_stall_s = 0;   ///< waiting for its session's KV to come over the network before its prefill (cluster)
  double kv_transfer_s = 0;  ///< prefill/decode: from the end of its prefill to its KV landing on its decode replica
  int decode_replica = -1;   ///< prefill/decode: the replica that decoded it (`replica` prefilled it)
  double prefill_end_s = -1;
  double move_start_s = -1;
};

/// @brief One finished session; the columns of sessions.csv.
struct SessionRow {
  SessionId session = 0;
  int replica = 0;
  double start_s = 0;
  double end_s = 0;
  int rounds = 0;
  double ttft_mean_s = 0;
  double swap_in_stall_s = 0;
  double swap_bytes = 0;
  std::int64_t recompute_tokens = 0;
  bool counted = false;
};

/// @brief One timeline sample; the columns of timeline.csv (all replicas together).
struct TimelineRow {
  double time_s = 0;
  int resident_sessions = 0;
  int active_rounds = 0;
  int waiting_rounds = 0;
  int stalled_rounds = 0;
  double hbm_kv_bytes = 0;
  double ddr_bytes = 0;
  int busy_replicas = 0;
};

/// @brief One KV transfer; the columns of transfers.csv.
struct TransferRow {
  SessionId session = 0;
  int replica = 0;
  bool to_host = true;  ///< "out" (HBM to host tier) or "in"
  double bytes = 0;
  double start_s = 0;
  double end_s = 0;
  bool demotion = false;  ///< "demote": DDR to NVMe (tiered policy)
};

/// @brief One KV move between replicas over the network; the columns of network.csv.
struct NetworkRow {
  SessionId session = 0;
  int from = 0;  ///< the replica the KV left
  int to = 0;    ///< the replica that pulled it
  double bytes = 0;
  double start_s = 0;
  double end_s = 0;
  bool handoff = false;  ///< a prefilled round's KV to its decode replica (else a session moved between rounds)
};

/// @brief A pool's replicas, for per-pool figures.
struct PoolSpan {
  std::string name;
  std::string role;
  int first = 0;  ///< its first replica
  int replicas = 0;
  int gpus = 0;
};

/// @brief Capacities used to turn totals into utilizations.
struct Capacities {
  int replicas = 1;
  int gpus = 1;
  double flop_rate_per_gpu = 0;  ///< effective
  double hbm_bandwidth_per_gpu = 0;
  double host_link_bandwidth = 0;  ///< per link per direction, effective
  int host_links = 1;
  double slo_ttft_s = 30;
  double slo_decode_rate = 6;
  /// A cluster run (a scenario with cluster.pools): its pools, reported one by one, with the network's figures.
  /// Empty otherwise, and the outputs are those of a single pool.
  std::vector<PoolSpan> pools;
};

/// @brief Collects everything a run reports, from every replica.
class RunMetrics {
 public:
  RunMetrics(Capacities caps, double warmup_s, double duration_s, double timeline_period_s);
  ~RunMetrics();
  /// @brief The sink of replica `r`.
  MetricsSink& sink(int replica);
  /// @brief A session started at `now` on `replica`.
  void on_session_start(SessionId s, int replica, double now);
  /// @brief The run ended at `now`: closes integrals and the timeline.
  void finish(double now);

  const std::vector<RoundRow>& rounds() const { return rounds_; }
  const std::vector<SessionRow>& sessions() const { return sessions_; }
  const std::vector<TimelineRow>& timeline() const { return timeline_; }
  const std::vector<TransferRow>& transfers() const { return transfers_; }
  const std::vector<NetworkRow>& network() const { return network_; }
  /// @brief True for a cluster run (Capacities::pools given).
  bool cluster() const { return !caps_.pools.empty(); }
  /// @brief Rounds arrived and not yet finished, by session (at most one per session): TTFT so far, for the early
  /// stop's monitor.
  const std::unordered_map<SessionId, RoundRow>& open_rounds() const { return open_rounds_; }

  /// @brief The summary as flat dotted keys (e.g. "ttft.p90_s") in a stable order.
  std::vector<std::pair<std::string, double>> summary() const;
  /// @brief Sessions that started but did not finish (a healthy run has none).
  std::size_t unfinished_sessions() const { return open_sessions_.size(); }

 private:
  class ReplicaSink;
  friend class ReplicaSink;
  /// Running counters, integrated over the statistics window.
  struct Totals {
    double resident = 0, active = 0;
    int max_resident = 0;
    double flops = 0, hbm_bytes = 0;
    double prefill_s = 0, decode_s = 0, stalled_s = 0, idle_s = 0;
    double bytes_out = 0, bytes_in = 0, swap_s = 0;  ///< whole run
    double link_bytes_in_window = 0;                 ///< transfer bytes pro rata inside the window
    double bytes_demoted = 0;                        ///< DDR to NVMe, whole run
    long swap_count = 0;
    std::int64_t recompute_tokens = 0;
    std::int64_t recompute_count = 0;      ///< times KV was dropped (vllm-v1: preemptions by recompute)
    std::int64_t steps = 0;                ///< forward steps over the whole run, for performance reports
    std::int64_t step_activities = 0;      ///< SimGrid activities that ran them (fewer with fast-forward)
    std::int64_t prefix_blocks = 0;        ///< full prompt blocks looked up in the prefix cache, whole run
    std::int64_t prefix_hbm_hits = 0;      ///< of those, found in HBM
    std::int64_t prefix_ddr_hits = 0;      ///< of those, found in DDR
    std::int64_t prefix_tokens_saved = 0;  ///< prompt tokens not prefilled thanks to the cache
    double prefix_bytes_offloaded = 0;     ///< cache blocks moved from HBM to DDR
    std::unordered_map<std::uint64_t, double> swap_started;  ///< (session << 1 | to_host) -> start time
    std::unordered_map<SessionId, double> pull_started;      ///< session -> start of its pull over the network
    std::vector<double> busy_s;                              ///< per replica, step time inside the window
  };
  void cluster_summary(std::vector<std::pair<std::string, double>>& out) const;

  void advance(double now);
  void window_add(double& acc, double t0, double t1, double value) const;

  Capacities caps_;
  double warmup_, duration_, period_;
  std::vector<std::unique_ptr<ReplicaSink>> sinks_;
  std::vector<ReplicaState> states_;
  std::unordered_map<SessionId, RoundRow> open_rounds_;
  std::unordered_map<SessionId, SessionRow> open_sessions_;
  /// KV that left HBM between two rounds of a session, charged to its next round.
  struct Departed {
    double bytes = 0;
    std::int64_t dropped_tokens = 0;
    double prefetched_bytes = 0;  ///< KV brought back before the user returned
  };
  std::unordered_set<SessionId> swapping_in_;
  std::unordered_map<SessionId, double> demotions_started_;
  std::unordered_map<SessionId, Departed> pending_out_;
  std::vector<RoundRow> rounds_;
  std::vector<SessionRow> sessions_;
  std::vector<TimelineRow> timeline_;
  std::vector<TransferRow> transfers_;
  std::vector<NetworkRow> network_;
  std::unique_ptr<Totals> totals_;
  double last_t_ = 0;
  std::int64_t samples_ = 0;
  double end_ = 0;
};

}  // namespace kvsim
