#pragma once
/// @file scheduler.hpp
/// @brief The replica scheduler interface. A scheduler decides and the simulation layer executes (as in vLLM v1
/// and WRENCH): schedule() returns a Plan, at most one forward step (the rounds to advance and their tokens, with
/// its work and its demand per resource) and the KV transfers to start. The executor runs them as SimGrid
/// activities and reports back through on_step_done() and on_transfer_done(). Between two such calls nothing in
/// the scheduler changes.
///
/// Adding a scheduler: one file in engine/sched/, one line in engine/sched/registry.cpp, one test.

#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "engine/cost/step_model.hpp"
#include "engine/cost_model.hpp"
#include "engine/kv_ledger.hpp"
#include "engine/metrics_sink.hpp"
#include "engine/offload_policy.hpp"
#include "engine/prefix_cache.hpp"
#include "engine/registry.hpp"

namespace kvsim {

/// @brief Scheduler knobs.
struct SchedulerConfig {
  std::int64_t max_batch_tokens = 8192;    ///< tokens per forward step (prefill is chunked to fit)
  std::int64_t max_batch_size = 256;       ///< rounds per forward step
  std::int64_t block_tokens = 16;          ///< tokens per KV block
  bool prefix_cache = true;                ///< reuse cached prompt blocks (rounds that carry block ids)
  std::int64_t prefix_block_tokens = 512;  ///< tokens per prefix block id (the trace's block size)
  /// Run identical decode steps between two batch changes as one activity (docs/design.md).
  bool fast_forward = true;
};

/// @brief A KV memory tier: a host-side tier (where an offloaded copy lives) or a GPU's HBM.
enum class Tier : std::uint8_t { kDdr, kNvme, kHbm };

/// @brief One end of a KV move: a tier of a replica.
struct KvPlace {
  static constexpr int kThisReplica = -1;
  int replica = kThisReplica;  ///< the scheduler's own replica, or another replica's index
  Tier tier = Tier::kHbm;
};

/// @brief Which part of a round a replica runs: all of it, or under prefill/decode disaggregation only its prefill
/// (the replica keeps the KV, pinned, for a decode replica to pull) or only its decode (the prefill ran elsewhere and
/// made the first token; the KV is pulled from there).
enum class Leg : std::uint8_t { kWhole, kPrefill, kDecode };

/// @brief A round of a session arriving at the replica.
struct RoundRequest {
  SessionId session = 0;
  int round = 0;  ///< 0-based
  std::int64_t prompt_tokens = 0;
  std::int64_t answer_tokens = 0;
  bool last = false;            ///< the session ends after this round
  double expected_think_s = 0;  ///< mean think time, for victim selection
  /// Hash ids of the prompt's blocks, in order (may be empty; must outlive the round). Used by the prefix cache
  /// for the only round of a one-round session (each round of a stateless trace session is one).
  std::span<const std::uint64_t> prefix_blocks;
  Leg leg = Leg::kWhole;
  /// A session new to this replica that already has a context elsewhere (it moved, or its round was prefilled on
  /// another replica): `context_tokens` tokens precede the prompt, of which `remote_kv_tokens` have KV at `remote`,
  /// pulled over the network on admission; the rest are prefilled again.
  std::int64_t context_tokens = 0;
  std::int64_t remote_kv_tokens = 0;
  KvPlace remote;
  /// Prefill leg with layer-by-layer transfer: the decode replica chosen for it; each prefill chunk's KV streams
  /// there during its step, all but the last layer's share of the last chunk (cluster.pd.transfer layerwise).
  int stream_to = -1;
  double prestreamed_bytes = 0;  ///< decode leg: bytes of the remote KV already streamed during the prefill
};

/// @brief What a replica gives up when a session's next round goes elsewhere (Scheduler::depart).
struct Departure {
  std::int64_t context_tokens = 0;  ///< the session's context
  std::int64_t kv_tokens = 0;       ///< KV kept for the next replica to pull (0: dropped, to be recomputed)
  Tier tier = Tier::kHbm;           ///< where that KV is pulled from
  double streamed_bytes = 0;        ///< of its bytes, already streamed to the next replica during the prefill
};

/// @brief KV a step sends to another replica while it computes (layer-by-layer transfer under disaggregation).
struct KvStream {
  SessionId session = 0;
  int to = 0;  ///< the receiving replica
  double bytes = 0;
};

/// @brief One KV move to start, between two places.
struct TransferOrder {
  std::uint64_t id = 0;
  SessionId session = 0;
  double bytes = 0;
  KvPlace from;
  KvPlace to;

  /// @brief A swap-out (to_host) or swap-in between this replica's HBM and its `tier`.
  static TransferOrder swap(std::uint64_t id, SessionId session, bool to_host, double bytes, Tier tier) {
    const KvPlace hbm{KvPlace::kThisReplica, Tier::kHbm}, host{KvPlace::kThisReplica, tier};
    return TransferOrder{id, session, bytes, to_host ? hbm : host, to_host ? host : hbm};
  }
  /// @brief DDR to NVMe, no HBM involved (tiered policy).
  static TransferOrder demote(std::uint64_t id, SessionId session, double bytes) {
    return TransferOrder{id, session, bytes, {KvPlace::kThisReplica, Tier::kDdr}, {KvPlace::kThisReplica, Tier::kNvme}};
  }
  /// @brief HBM to a host-side tier.
  bool to_host() const { return from.tier == Tier::kHbm && to.tier != Tier::kHbm; }
  /// @brief DDR to NVMe.
  bool demotion() const { return from.tier == Tier::kDdr && to.tier == Tier::kNvme; }
  /// @brief The host-side tier it reads or writes.
  Tier host_tier() const { return to.tier == Tier::kHbm ? from.tier : to.tier; }
  /// @brief Both ends on the scheduler's own replica.
  bool local() const { return from.replica == KvPlace::kThisReplica && to.replica == KvPlace::kThisReplica; }
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
  double load_bytes = 0;          ///< KV loaded from DDR during this step, layer by layer (layerwise policy)
  std::vector<KvStream> streams;  ///< KV sent to other replicas during this step, layer by layer
  /// Earliest time at which the scheduler wants to be asked again without any event (a prefetch); infinity if none.
  double wake_at_s = 0;
  /// Identical decode steps the step runs back to back (fast-forward); `cost` is their sum.
  std::int64_t steps = 1;

  /// @brief Empties the step and the transfers before a new decision (keeping the vectors' capacity).
  void clear() {
    batch.clear();
    transfers.clear();
    streams.clear();
    has_step = false;
    load_bytes = 0;
  }
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

/// @brief Sums over every session of a replica, for the auditor (linear in sessions; not on the hot path).
struct KvCensus {
  std::int64_t kv_tokens_hbm = 0;  ///< KV tokens of sessions whose KV is in HBM (including ones moving)
  std::int64_t kv_tokens_ddr = 0;  ///< KV tokens of sessions whose KV is offloaded only (DDR or NVMe)
  std::int64_t blocks = 0;         ///< HBM blocks held by sessions
  double ddr_bytes = 0;            ///< DDR bytes held by sessions
  double nvme_bytes = 0;           ///< NVMe bytes held by sessions
  std::int64_t prefix_blocks = 0;  ///< HBM blocks held by the prefix cache
  double prefix_ddr_bytes = 0;     ///< DDR bytes held by the prefix cache
};

/// @brief What a scheduler is made with, for one replica.
struct SchedulerContext {
  const CostModel& cost;   ///< KV footprint and the model's arithmetic
  const StepModel& steps;  ///< step times
  SchedulerConfig config;
  double ddr_bytes = 0;   ///< CPU DDR for offloaded KV
  double nvme_bytes = 0;  ///< NVMe tier (0: none)
  std::unique_ptr<OffloadPolicy> policy;
  std::unique_ptr<VictimPolicy> victims;
  MetricsSink& sink;
};

/// @brief Decides, for one replica, which rounds run in each forward step and which KV moves.
class Scheduler {
 public:
  virtual ~Scheduler() = default;
  /// @brief The registry name.
  virtual std::string_view name() const = 0;
  /// @brief A round arrives; throws ImpossibleRound if its context can never fit.
  virtual void on_round_arrival(const RoundRequest& r, double now) = 0;
  /// @brief Decides the next step (when `gpu_free`) and the transfers to start now. The returned reference stays
  /// valid until the next call.
  virtual const Plan& schedule(double now, bool gpu_free) = 0;
  /// @brief The planned step finished; returns the rounds it completed.
  virtual const std::vector<FinishedRound>& on_step_done(double now) = 0;
  /// @brief A transfer finished.
  virtual void on_transfer_done(std::uint64_t id, double now) = 0;
  /// @brief Steps the activity in flight runs: more than one for a stretch of identical steps (fast-forward), which
  /// a scheduler may plan when it can say how long its batch stays unchanged.
  virtual std::int64_t steps_in_flight() const { return 1; }
  /// @brief Something happened while a stretch of `steps_in_flight()` steps ran, `done_fraction` of its work
  /// done: credits the steps completed by `now`, keeps the step in progress as the one in flight, and returns the
  /// demand left of that step, which the executor runs in place of the stretch. Its end is the next step boundary.
  /// Only called when steps_in_flight() > 1.
  virtual StepCost split_stretch(double done_fraction, double now) = 0;
  /// @brief Session `s` is idle here and its next round goes to another replica. With `move` (a prefill handed to
  /// its decode replica) its KV stays where it is, pinned, until release(); otherwise the offload policy decides, as
  /// for an eviction, whether the KV is kept for the next replica to pull or dropped (then the session is forgotten
  /// here at once). The default refuses: a scheduler that cannot hand sessions over says so.
  virtual Departure depart(SessionId s, bool move, double now);
  /// @brief The departed session's KV landed on the replica that pulled it: free it and forget the session.
  virtual void release(SessionId s, double now);
  /// @brief True when depart() and release() are implemented (clusters that move sessions need them).
  virtual bool moves_sessions() const { return false; }
  /// @brief True when nothing is queued, running or moving.
  virtual bool idle() const = 0;
  /// @brief The occupancy reported to the sink (and read by routers).
  virtual ReplicaState state() const = 0;
  /// @brief The KV ledgers and cache, which the auditor checks against the census after every event.
  virtual const HbmLedger& hbm() const = 0;
  virtual const DdrLedger& ddr() const = 0;
  virtual const DdrLedger& nvme() const = 0;
  virtual const PrefixCache& prefix() const = 0;
  virtual KvCensus census() const = 0;
};

/// @brief Schedulers by name; the key is `scheduler.type`.
using SchedulerRegistry = Registry<Scheduler, SchedulerContext>;
SchedulerRegistry& schedulers();

}  // namespace kvsim
