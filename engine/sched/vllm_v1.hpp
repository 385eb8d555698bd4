#pragma once
/// @file vllm_v1.hpp
/// @brief `vllm-v1`: one replica scheduled as vLLM v1 (0.19) schedules it (vllm/v1/core/sched/scheduler.py
/// schedule(), vllm/v1/core/kv_cache_manager.py allocate_slots, with scheduler_reserve_full_isl on).
///
/// Each round is a request whose prompt is the session's conversation so far plus the round's new prompt. A step
/// has a budget of max_batch_tokens tokens: running requests first, in order, each given what it still has to
/// compute (a decode: 1 token; a prefill: the rest of its prompt, chunked to the budget), its KV blocks allocated
/// as its tokens are scheduled; when a block cannot be had, the newest running request is preempted (its blocks
/// freed and its progress reset for recompute, or its KV swapped to DDR when the offload policy says so). Then, if
/// nothing was preempted, waiting requests first come first served, each after a prefix cache lookup, admitted
/// only if the blocks of its whole current sequence can be had. The answer length is never used to decide; it only
/// tells when a request ends, as vLLM's max_tokens does.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <vector>

#include "engine/kv/block_pool.hpp"
#include "engine/kv/vllm_pool.hpp"
#include "engine/sched/scheduler.hpp"
#include "engine/sched/stretch.hpp"

namespace kvsim {

/// @brief vLLM v1's scheduler and KV cache manager for one replica.
class VllmV1Scheduler final : public Scheduler {
 public:
  /// Sizes the pool with `pool` (vllm_pool); throws ImpossibleRound if it cannot hold one block.
  VllmV1Scheduler(SchedulerContext ctx, double gpu_memory_utilization, std::int64_t num_gpu_blocks);

  std::string_view name() const override { return "vllm-v1"; }
  void on_round_arrival(const RoundRequest& r, double now) override;
  const Plan& schedule(double now, bool gpu_free) override;
  const std::vector<FinishedRound>& on_step_done(double now) override;
  void on_transfer_done(std::uint64_t id, double now) override;
  std::int64_t steps_in_flight() const override { return inflight_steps_; }
  StepCost split_stretch(double done_fraction, double now) override;
  bool idle() const override { return waiting_.empty() && running_.empty() && transfers_.empty(); }
  ReplicaState state() const override;
  const HbmLedger& hbm() const override { return pool_.ledger(); }
  const DdrLedger& ddr() const override { return ddr_; }
  const DdrLedger& nvme() const override { return nvme_; }
  const PrefixCache& prefix() const override { return no_prefix_; }
  KvCensus census() const override;

  /// @brief The pool's sizing (its block count is num_gpu_blocks; one block is vLLM's null block).
  const VllmPool& sizing() const { return sizing_; }
  /// @brief Requests preempted so far.
  std::int64_t preemptions() const { return preemptions_; }

 private:
  enum class Where : std::uint8_t { kHbm, kSwappingOut, kSwapped, kSwappingIn };
  struct Request {
    RoundRequest round;
    std::int64_t prompt = 0;   ///< num_prompt_tokens: the conversation so far plus the round's prompt
    std::int64_t history = 0;  ///< the conversation's tokens before this round
    std::int64_t outputs = 0;  ///< tokens generated
    std::int64_t computed = 0;
    std::vector<BlockId> blocks;
    std::int64_t hashed = 0;   ///< leading blocks whose hash is cached
    std::int64_t written = 0;  ///< KV tokens it wrote (as the auditor counts them) since its last preemption
    std::int64_t base = 0;     ///< computed tokens when it was last admitted (its prefix hits)
    bool prefill_started = false;
    bool first_token = false;
    Where where = Where::kHbm;
    double ddr_bytes = 0;
    std::int64_t tokens() const { return prompt + outputs; }
  };
  struct Session {
    std::int64_t context = 0;  ///< conversation tokens after its finished rounds
    std::int64_t kept = 0;     ///< KV tokens its finished rounds wrote, freed when it ends
  };

  std::uint64_t block_hash(const Request& r, std::int64_t j) const;
  void cache_full_blocks(Request& r, std::int64_t tokens);
  bool allocate_slots(Request& r, std::int64_t new_tokens);
  bool admit(Request& r, double now);
  void build_step(double now);
  std::int64_t blocks_for(std::int64_t tokens) const { return (tokens + block_tokens_ - 1) / block_tokens_; }
  void schedule_running(double now);
  void schedule_waiting(double now);
  std::vector<BlockId> lookup_hits(const Request& r) const;
  void add_entry(Request& r, std::int64_t tokens, double now);
  void preempt(Request& r, double now);
  void free_blocks(Request& r);
  void swap_in(Request& r, double now);
  void apply(const BatchEntry& e, double now);
  void finish(Request& r, double now);
  std::int64_t stretch_length() const;
  void credit(std::int64_t steps, double now);
  void report(double now) { sink_.on_state(state(), now); }

  const CostModel& cost_;
  const StepModel& steps_;
  SchedulerConfig config_;
  std::unique_ptr<OffloadPolicy> policy_;
  MetricsSink& sink_;
  VllmPool sizing_;
  std::int64_t block_tokens_;
  BlockPool pool_;
  DdrLedger ddr_;
  DdrLedger nvme_;
  PrefixCache no_prefix_;
  std::map<SessionId, Session> sessions_;
  std::map<SessionId, Request> requests_;
  std::vector<Request*> running_;
  std::deque<Request*> waiting_;
  std::map<std::uint64_t, SessionId> transfers_;
  std::uint64_t next_transfer_ = 1;
  std::int64_t preemptions_ = 0;
  bool preempted_ = false;   ///< the step being planned preempted
  std::int64_t budget_ = 0;  ///< tokens left in the step being planned
  Plan plan_;
  std::vector<SeqWork> work_;
  std::vector<BatchEntry> inflight_;  ///< the step being executed
  std::vector<SeqWork> stretch_base_;
  double inflight_prefill_flops_ = 0;
  double inflight_decode_flops_ = 0;
  std::vector<FinishedRound> finished_;
  double step_start_ = 0;
  bool step_in_flight_ = false;
  std::int64_t inflight_steps_ = 1;
  std::int64_t inflight_offset_ = 0;
  StepCost inflight_cost_;
};

}  // namespace kvsim
