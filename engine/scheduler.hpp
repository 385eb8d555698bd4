#pragma once
/// @file scheduler.hpp
/// @brief Iteration-level continuous batching for one replica, with paged KV and an offload policy.
///
/// The scheduler decides and the simulation layer executes (as in vLLM v1 and WRENCH). schedule() returns a Plan:
/// at most one forward step (the rounds to advance and their tokens, with its FLOPs and bytes) and the KV transfers
/// to start. The executor runs them as SimGrid activities and reports back through on_step_done() and
/// on_transfer_done(). Between two such calls nothing in the scheduler changes, so a run of identical decode
/// steps can later be executed as one activity (see docs/design.md).

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "engine/cost/step_model.hpp"
#include "engine/cost_model.hpp"
#include "engine/kv_ledger.hpp"
#include "engine/metrics_sink.hpp"
#include "engine/offload_policy.hpp"
#include "engine/prefix_cache.hpp"

namespace kvsim {

/// @brief Scheduler knobs.
struct SchedulerConfig {
  std::int64_t max_batch_tokens = 8192;  ///< tokens per forward step (prefill is chunked to fit)
  std::int64_t max_batch_size = 256;     ///< rounds per forward step
  std::int64_t block_tokens = 16;        ///< tokens per KV block
  bool prefix_cache = true;              ///< reuse cached prompt blocks (rounds that carry block ids)
  std::int64_t prefix_block_tokens = 512;  ///< tokens per prefix block id (the trace's block size)
  /// Run identical decode steps between two batch changes as one activity (docs/design.md).
  bool fast_forward = false;
};

/// @brief A round of a session arriving at the replica.
struct RoundRequest {
  SessionId session = 0;
  int round = 0;  ///< 0-based
  std::int64_t prompt_tokens = 0;
  std::int64_t answer_tokens = 0;
  bool last = false;              ///< the session ends after this round
  double expected_think_s = 0;    ///< mean think time, for victim selection
  /// Hash ids of the prompt's blocks, in order (may be empty; must outlive the round). Used by the prefix cache
  /// for the only round of a one-round session (each round of a stateless trace session is one).
  std::span<const std::uint64_t> prefix_blocks;
};

/// @brief One KV move to start.
/// @brief Where an offloaded copy of a session's KV lives.
enum class Tier : std::uint8_t { kDdr, kNvme };

struct TransferOrder {
  std::uint64_t id = 0;
  SessionId session = 0;
  bool to_host = true;  ///< true: HBM -> tier (swap-out); false: tier -> HBM (swap-in)
  double bytes = 0;
  Tier tier = Tier::kDdr;  ///< the host-side tier
  bool demotion = false;   ///< DDR -> NVMe, no HBM involved (tiered policy)
};

/// @brief One sequence's share of a planned step.
struct BatchEntry {
  SessionId session = 0;
  std::int64_t new_tokens = 0;
  std::int64_t cached_tokens = 0;
  bool prefill = false;
};

/// @brief What to execute next.
struct Plan {
  bool has_step = false;
  std::vector<BatchEntry> batch;
  StepCost cost;  ///< per GPU
  double prefill_flops = 0;
  double decode_flops = 0;
  std::vector<TransferOrder> transfers;
  double load_bytes = 0;  ///< KV loaded from DDR during this step, layer by layer (layerwise policy)
  /// Earliest time at which the scheduler wants to be asked again without any event (a prefetch); infinity if none.
  double wake_at_s = 0;
  /// Identical decode steps the step runs back to back (fast-forward); `cost` is their sum.
  std::int64_t steps = 1;
};

/// @brief A round that completed in the last step.
struct FinishedRound {
  SessionId session = 0;
  int round = 0;
  bool last = false;
};

/// @brief Thrown when a round can never fit in the replica's HBM, with the arithmetic.
class ImpossibleRound : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// @brief Continuous batching with paged KV and an offload policy, for one replica.
class ReplicaScheduler {
 public:
  /// `nvme_bytes` is the NVMe tier's capacity (0: none); only the `tiered` policy uses it. Steps take the time
  /// `steps` says (the roofline of `cost` if null).
  ReplicaScheduler(const CostModel& cost, SchedulerConfig config, double ddr_bytes,
                   std::unique_ptr<OffloadPolicy> policy, std::unique_ptr<VictimPolicy> victims, MetricsSink& sink,
                   double nvme_bytes = 0, const StepModel* steps = nullptr);

  /// @brief A round arrives; throws ImpossibleRound if its context can never fit.
  void on_round_arrival(const RoundRequest& r, double now);
  /// @brief Decides the next step (when `gpu_free`) and the transfers to start now. The returned reference stays
  /// valid until the next call.
  const Plan& schedule(double now, bool gpu_free);
  /// @brief The planned step finished; returns the rounds it completed.
  const std::vector<FinishedRound>& on_step_done(double now);
  /// @brief A transfer finished.
  void on_transfer_done(std::uint64_t id, double now);
  /// @brief Steps the activity in flight runs (more than one for a fast-forwarded stretch).
  std::int64_t steps_in_flight() const { return inflight_steps_; }
  /// @brief Something happened while a stretch of `steps_in_flight()` steps ran, `done_fraction` of its work
  /// done: credits the steps completed by `now`, keeps the step in progress as the one in flight, and returns the
  /// work left of that step, which the executor runs in place of the stretch. Its end is the next step boundary.
  StepCost split_stretch(double done_fraction, double now);

  /// @brief True when nothing is queued, running or moving.
  bool idle() const { return waiting_.empty() && running_.empty() && transfers_.empty(); }
  const HbmLedger& hbm() const { return hbm_; }
  const DdrLedger& ddr() const { return ddr_; }
  const DdrLedger& nvme() const { return nvme_; }
  /// @brief The occupancy reported to the sink.
  ReplicaState state() const;

  /// @brief Sums over every session, for the auditor (linear in sessions; not used on the hot path).
  struct Census {
    std::int64_t kv_tokens_hbm = 0;  ///< KV tokens of sessions whose KV is in HBM (including ones moving)
    std::int64_t kv_tokens_ddr = 0;  ///< KV tokens of sessions whose KV is offloaded only (DDR or NVMe)
    std::int64_t blocks = 0;         ///< HBM blocks held by sessions
    double ddr_bytes = 0;            ///< DDR bytes held by sessions
    double nvme_bytes = 0;           ///< NVMe bytes held by sessions
    std::int64_t prefix_blocks = 0;  ///< HBM blocks held by the prefix cache
    double prefix_ddr_bytes = 0;     ///< DDR bytes held by the prefix cache
  };
  /// @brief The replica's prefix cache.
  const PrefixCache& prefix() const { return prefix_; }
  Census census() const;

 private:
  /// kOffloaded: at rest in DDR or NVMe (see Session::tier); kDemoting: moving from DDR to NVMe.
  enum class Where : std::uint8_t { kNone, kHbm, kSwappingOut, kOffloaded, kSwappingIn, kDemoting };
  struct Session {
    SessionId id = 0;
    std::int64_t context = 0;  ///< logical tokens of the conversation so far
    std::int64_t kv = 0;       ///< tokens whose KV exists (in HBM or DDR)
    std::int64_t blocks = 0;   ///< HBM blocks held (the shared prefix's blocks are the cache's)
    std::int64_t shared = 0;   ///< leading tokens of its KV held by the prefix cache, pinned
    std::int64_t prefix_n = 0;  ///< prefix cache blocks pinned (the first prefix_n of round.prefix_blocks)
    PrefixMatch prefix_match;   ///< what the lookup at admission found
    double ddr_bytes = 0;  ///< size of the offloaded copy, held in `tier` (both tiers while demoting)
    Tier tier = Tier::kDdr;
    Where where = Where::kNone;
    bool has_round = false;
    bool admitted = false;  ///< HBM for the rest of its round is reserved
    bool prefill_started = false;
    std::int64_t prefill_base = 0;  ///< KV tokens when this round's prefill started
    std::int64_t extra = 0;         ///< ledger tokens held on top of the kept KV until the prefill ends (written KV)
    bool load_in_step = false;  ///< its KV comes from DDR during its next step (layerwise)
    double prefetch_at = -1;    ///< when to bring its KV back while idle (prefetch); negative: never
    RoundRequest round;
    std::int64_t prompt_done = 0;
    std::int64_t decoded = 0;
    double last_used = 0;
    double expected_return = 0;
  };
  struct InFlight {
    SessionId session;
    bool to_host;
    double bytes;
    Tier tier;
    bool demotion;
    bool prefix = false;                ///< moves prefix cache blocks (session: the loading round, or none)
    std::vector<std::uint64_t> blocks;  ///< those blocks
    double start_s = 0;
  };

  std::int64_t pending_prefill(const Session& s) const {
    return (s.context - s.kv) + (s.round.prompt_tokens - s.prompt_done);
  }
  void admit(double now);
  void build_step(double now);
  void add_to_batch(Session& s, std::int64_t& budget, double now);
  std::int64_t remaining_need(const Session& s) const;
  std::int64_t reserved_blocks() const;
  void grow(Session& s, std::int64_t tokens);
  void shrink_after_prefill(Session& s);
  std::int64_t kv_blocks(const Session& s, std::int64_t tokens, std::int64_t extra = 0) const {
    return hbm_.blocks_for(cost_.ledger_tokens(tokens) - cost_.ledger_tokens(s.shared) + extra);
  }
  bool ensure_free(std::int64_t blocks, double now, const Session* exclude);
  void collect_victims(bool waiting_tier, const Session* exclude);
  void evict(Session& s, double now);
  void start_transfer(Session& s, bool to_host, double now);
  bool reserve_copy(Session& s, double bytes);
  DdrLedger& ledger(Tier t) { return t == Tier::kDdr ? ddr_ : nvme_; }
  void demote_lru(double keep_free, double now);
  void apply_entry(const BatchEntry& e, double now);
  std::int64_t stretch_length() const;
  void start_stretch(std::int64_t steps);
  StepCost stretch_cost(std::int64_t from, std::int64_t count) const;
  void credit_steps(std::int64_t steps, double now);
  void finish_round(Session& s, double now);
  void set_blocks(Session& s, std::int64_t blocks);
  void report(double now);
  void offload_idle(Session& s, double now);
  void run_prefetches(double now);
  void set_prefetch(Session& s, double at);
  double next_wake(double now) const;
  void finish_loads(double now);
  PolicyContext policy_context(const Session& s, double now) const;
  bool prefix_eligible(const Session& s) const;
  bool make_room_for(Session& s, double now);
  std::int64_t prefix_acquire(Session& s);
  void prefix_abandon(Session& s);
  void prefix_start(Session& s, double now);
  void prefix_release(Session& s);
  std::int64_t evict_cache(std::int64_t deficit, double now);
  bool cache_should_offload(double now);
  bool make_ddr_room(double bytes);
  void prefix_transfer_done(const InFlight& t, double now);
  VictimInfo victim_info(const Session& s) const;

  const CostModel& cost_;
  std::unique_ptr<StepModel> own_steps_;  ///< the roofline, when no step model was given
  const StepModel& steps_;
  SchedulerConfig config_;
  std::unique_ptr<OffloadPolicy> policy_;
  std::unique_ptr<VictimPolicy> victims_;
  MetricsSink& sink_;
  HbmLedger hbm_;
  DdrLedger ddr_;
  DdrLedger nvme_;
  PrefixCache prefix_;
  std::unordered_map<SessionId, Session> sessions_;
  std::deque<Session*> waiting_;
  std::vector<Session*> running_;
  std::unordered_map<std::uint64_t, InFlight> transfers_;
  std::uint64_t next_transfer_ = 1;
  std::int64_t pending_free_blocks_ = 0;
  int prefetches_ = 0;  ///< sessions with a prefetch time set
  int resident_ = 0;
  int stalled_ = 0;
  Plan plan_;
  std::vector<BatchEntry> inflight_;  ///< the step being executed
  StepCost inflight_cost_;
  double inflight_prefill_flops_ = 0;
  double inflight_decode_flops_ = 0;
  std::vector<TransferOrder> orders_;       ///< transfers decided but not yet handed to the executor
  std::vector<SessionId> inflight_loads_;  ///< sessions whose KV the step in flight loads (layerwise)
  std::vector<SeqWork> work_;
  std::vector<VictimInfo> candidates_;
  std::vector<FinishedRound> finished_;
  double step_start_ = 0;
  bool step_in_flight_ = false;
  std::int64_t inflight_steps_ = 1;   ///< steps of the activity in flight
  std::int64_t inflight_offset_ = 0;  ///< index of its first step in the stretch
  std::vector<SeqWork> stretch_base_;  ///< the stretch's first step
};

}  // namespace kvsim
