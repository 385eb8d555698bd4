#pragma once
/// @file fcfs_reserve.hpp
/// @brief `fcfs-reserve`: iteration-level continuous batching for one replica, with paged KV and an offload
/// policy. Rounds are admitted first come, first served, each reserving HBM for the rest of its round (its answer
/// length is known to the workload, and this scheduler uses it); HBM is made by evicting idle sessions' KV as the
/// offload policy says. Identical decode steps run as one fast-forwarded stretch (docs/design.md).

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "engine/kv_ledger.hpp"
#include "engine/prefix_cache.hpp"
#include "engine/sched/scheduler.hpp"

namespace kvsim {

/// @brief Continuous batching with paged KV and an offload policy, for one replica.
class FcfsReserveScheduler final : public Scheduler {
 public:
  /// `nvme_bytes` is the NVMe tier's capacity (0: none); only the `tiered` policy uses it. Steps take the time
  /// `steps` says (the roofline of `cost` if null).
  FcfsReserveScheduler(const CostModel& cost, SchedulerConfig config, double ddr_bytes,
                       std::unique_ptr<OffloadPolicy> policy, std::unique_ptr<VictimPolicy> victims, MetricsSink& sink,
                       double nvme_bytes = 0, const StepModel* steps = nullptr);
  /// @brief Made from the registry.
  explicit FcfsReserveScheduler(SchedulerContext ctx);

  std::string_view name() const override { return "fcfs-reserve"; }

  void on_round_arrival(const RoundRequest& r, double now) override;
  const Plan& schedule(double now, bool gpu_free) override;
  const std::vector<FinishedRound>& on_step_done(double now) override;
  void on_transfer_done(std::uint64_t id, double now) override;
  std::int64_t steps_in_flight() const override { return inflight_steps_; }
  StepCost split_stretch(double done_fraction, double now) override;
  bool idle() const override { return waiting_.empty() && running_.empty() && transfers_.empty(); }
  ReplicaState state() const override;
  const HbmLedger& hbm() const override { return hbm_; }
  const DdrLedger& ddr() const override { return ddr_; }
  const DdrLedger& nvme() const override { return nvme_; }
  const PrefixCache& prefix() const override { return prefix_; }
  KvCensus census() const override;
  Departure depart(SessionId s, bool move, double now) override;
  void release(SessionId s, double now) override;
  bool moves_sessions() const override { return true; }

 private:
  /// kOffloaded: at rest in DDR or NVMe (see Session::tier); kDemoting: moving from DDR to NVMe.
  enum class Where : std::uint8_t { kNone, kHbm, kSwappingOut, kOffloaded, kSwappingIn, kDemoting };
  struct Session {
    SessionId id = 0;
    std::int64_t context = 0;   ///< logical tokens of the conversation so far
    std::int64_t kv = 0;        ///< tokens whose KV exists (in HBM or DDR)
    std::int64_t blocks = 0;    ///< HBM blocks held (the shared prefix's blocks are the cache's)
    std::int64_t shared = 0;    ///< leading tokens of its KV held by the prefix cache, pinned
    std::int64_t prefix_n = 0;  ///< prefix cache blocks pinned (the first prefix_n of round.prefix_blocks)
    PrefixMatch prefix_match;   ///< what the lookup at admission found
    double ddr_bytes = 0;       ///< size of the offloaded copy, held in `tier` (both tiers while demoting)
    Tier tier = Tier::kDdr;
    Where where = Where::kNone;
    bool has_round = false;
    bool admitted = false;  ///< HBM for the rest of its round is reserved
    bool prefill_started = false;
    std::int64_t prefill_base = 0;  ///< KV tokens when this round's prefill started
    std::int64_t extra = 0;         ///< ledger tokens held on top of the kept KV until the prefill ends (written KV)
    bool load_in_step = false;      ///< its KV comes from DDR during its next step (layerwise)
    double prefetch_at = -1;        ///< when to bring its KV back while idle (prefetch); negative: never
    RoundRequest round;
    std::int64_t prompt_done = 0;
    std::int64_t decoded = 0;
    double last_used = 0;
    double expected_return = 0;
    int remote = -1;                ///< its KV is on this replica's `remote` replica, to pull on admission
    Tier remote_tier = Tier::kHbm;  ///< and in which tier there
    bool pinned = false;            ///< departed: its KV stays put until the replica that pulls it lets it go
    bool release_pending = false;   ///< released while a transfer of its own was in flight: freed when it lands
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
    int remote = -1;  ///< a pull from another replica (session moved here)
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
  void arrive_from_elsewhere(Session& s, const RoundRequest& r);
  void start_pull(Session& s, double now);
  void pull_done(Session& s, const InFlight& t, double now);
  void forget(Session& s, std::int64_t moved_tokens, double now);
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
  std::vector<TransferOrder> orders_;      ///< transfers decided but not yet handed to the executor
  std::vector<SessionId> inflight_loads_;  ///< sessions whose KV the step in flight loads (layerwise)
  std::vector<SeqWork> work_;
  std::vector<VictimInfo> candidates_;
  std::vector<FinishedRound> finished_;
  double step_start_ = 0;
  bool step_in_flight_ = false;
  std::int64_t inflight_steps_ = 1;    ///< steps of the activity in flight
  std::int64_t inflight_offset_ = 0;   ///< index of its first step in the stretch
  std::vector<SeqWork> stretch_base_;  ///< the stretch's first step
};

}  // namespace kvsim
