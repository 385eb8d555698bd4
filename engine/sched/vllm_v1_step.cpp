// vllm-v1: step completion, preemption (recompute or swap), fast-forward and the census.
#include <algorithm>
#include <limits>
#include <span>

#include "engine/sched/vllm_v1.hpp"

namespace kvsim {

const std::vector<FinishedRound>& VllmV1Scheduler::on_step_done(double now) {
  finished_.clear();
  step_in_flight_ = false;
  const double tp = cost_.deployment().tensor_parallel;
  sink_.on_step(step_record(step_start_, now, inflight_, inflight_cost_, inflight_prefill_flops_,
                            inflight_decode_flops_, inflight_steps_, tp));
  credit(inflight_steps_, now);
  inflight_steps_ = 1;
  report(now);
  return finished_;
}

void VllmV1Scheduler::credit(std::int64_t steps, double now) {
  for (std::int64_t i = 0; i < steps; ++i) {
    for (const auto& e : inflight_) apply(e, now);
  }
}

// The step computed the entry's tokens; once a request has computed all its tokens it samples the next one.
void VllmV1Scheduler::apply(const BatchEntry& e, double now) {
  Request& r = requests_.at(e.session);
  r.computed += e.new_tokens;
  r.written += e.new_tokens;
  if (r.computed < r.tokens()) return;  // a prefill chunk that is not the last
  r.outputs += 1;
  if (!r.first_token) {
    r.first_token = true;
    r.written += 1;  // counted with the first token, as the auditor counts it
    sink_.on_prefill_done(e.session, now);
  }
  cache_full_blocks(r, r.tokens());
  if (r.outputs >= r.round.answer_tokens) finish(r, now);  // max_tokens reached
}

void VllmV1Scheduler::free_blocks(Request& r) {
  std::reverse(r.blocks.begin(), r.blocks.end());  // the tail is evicted first (kv_cache_manager.free)
  pool_.free(r.blocks);
  r.blocks.clear();
  r.hashed = 0;
}

void VllmV1Scheduler::finish(Request& r, double now) {
  running_.erase(std::find(running_.begin(), running_.end(), &r));
  free_blocks(r);
  const RoundRequest round = r.round;
  Session& s = sessions_[round.session];
  s.kept += r.written;
  s.context = r.tokens();
  sink_.on_round_done(round.session, r.outputs, now);
  finished_.push_back(FinishedRound{round.session, round.round, round.last});
  requests_.erase(round.session);
  if (!round.last) return;
  sink_.on_session_end(round.session, s.kept, now);
  sessions_.erase(round.session);
}

// _preempt_request: the request goes back to the front of the waiting queue and its blocks are freed (they stay
// cached until reused). Recompute resets its progress; a swap keeps it and copies the KV to DDR, ordered before the
// step's own writes to those blocks as vLLM v0's swap_out was (the step does not wait for the copy here).
void VllmV1Scheduler::preempt(Request& r, double now) {
  ++preemptions_;
  preempted_ = true;
  const SessionId id = r.round.session;
  const double bytes = double(r.computed) * cost_.kv_bytes_per_token();
  const VictimInfo victim{id, bytes, double(r.computed), now, now};
  const SeqWork redo{double(r.computed), 0, false, 0, true};
  const PolicyContext ctx{now,
                          ddr_.free_bytes(),
                          cost_.deployment().host_link_bandwidth(),
                          static_cast<int>(transfers_.size()),
                          steps_.step(std::span<const SeqWork>(&redo, 1)).seconds,
                          static_cast<int>(running_.size() + waiting_.size())};
  if (bytes > 0 && policy_->on_evict(victim, ctx) == EvictAction::kSwapOut && ddr_.reserve(bytes)) {
    r.where = Where::kSwappingOut;
    r.ddr_bytes = bytes;
    const std::uint64_t t = next_transfer_++;
    transfers_[t] = id;
    plan_.transfers.push_back(TransferOrder::swap(t, id, true, bytes, Tier::kDdr));
    sink_.on_swap_start(id, true, bytes, now);
  } else {
    sink_.on_kv_dropped(id, r.written, double(r.written) * cost_.kv_bytes_per_token(), now);
    r.written = 0;
    r.computed = 0;
  }
  free_blocks(r);
  waiting_.push_front(&r);
}

// A swapped-out request is readmitted: blocks for its computed tokens are taken and its KV comes back; it runs
// once it has landed.
void VllmV1Scheduler::swap_in(Request& r, double now) {
  auto got = pool_.allocate(blocks_for(r.computed));
  r.blocks = std::move(*got);
  r.hashed = 0;
  r.where = Where::kSwappingIn;
  const std::uint64_t t = next_transfer_++;
  transfers_[t] = r.round.session;
  plan_.transfers.push_back(TransferOrder::swap(t, r.round.session, false, r.ddr_bytes, Tier::kDdr));
  sink_.on_swap_start(r.round.session, false, r.ddr_bytes, now);
}

void VllmV1Scheduler::on_transfer_done(std::uint64_t id, double now) {
  const auto it = transfers_.find(id);
  Request& r = requests_.at(it->second);
  transfers_.erase(it);
  sink_.on_swap_done(r.round.session, r.where == Where::kSwappingOut, r.ddr_bytes, now);
  if (r.where == Where::kSwappingOut) {
    r.where = Where::kSwapped;
  } else {
    ddr_.release(r.ddr_bytes);
    r.ddr_bytes = 0;
    r.where = Where::kHbm;
    cache_full_blocks(r, r.computed);
  }
  report(now);
}

// Decode steps repeat identically until a running request needs a new block, finishes (vLLM knows max_tokens) or
// an event the executor reports (an arrival, a transfer) splits the stretch. A step that preempted, held a
// prefill, left a running request out or has a transfer in flight is planned alone.
std::int64_t VllmV1Scheduler::stretch_length() const {
  if (!config_.fast_forward || preempted_ || !transfers_.empty() || plan_.batch.size() != running_.size()) return 1;
  std::int64_t k = std::numeric_limits<std::int64_t>::max();
  for (const auto& e : plan_.batch) {
    if (e.prefill) return 1;
    const Request& r = requests_.at(e.session);
    k = std::min(k, r.round.answer_tokens - r.outputs);
    // Step i needs slots for tokens() + i tokens; the blocks it holds cover this many steps.
    k = std::min(k, static_cast<std::int64_t>(r.blocks.size()) * block_tokens_ - r.tokens() + 1);
  }
  return k <= 1 ? 1 : same_bound_steps(steps_, work_, k);
}

StepCost VllmV1Scheduler::split_stretch(double done_fraction, double now) {
  const StretchSplit s =
      split_stretch_at(steps_, stretch_base_, inflight_offset_, inflight_steps_, inflight_cost_, done_fraction);
  const double tp = cost_.deployment().tensor_parallel;
  sink_.on_step(split_record(s, step_start_, now, inflight_, tp));
  credit(s.whole, now);
  step_start_ = now;
  inflight_offset_ += s.whole;
  inflight_steps_ = 1;
  inflight_cost_ = s.current.scaled(s.left);
  inflight_prefill_flops_ = 0;
  inflight_decode_flops_ = inflight_cost_.flops_per_gpu * tp;
  report(now);
  return inflight_cost_;
}

ReplicaState VllmV1Scheduler::state() const {
  int stalled = 0;
  for (const Request* r : running_) stalled += r->where == Where::kSwappingIn ? 1 : 0;
  // Resident: the requests holding blocks (a finished round's blocks are only cached, free for reuse).
  return ReplicaState{static_cast<int>(running_.size()),
                      static_cast<int>(running_.size()),
                      static_cast<int>(waiting_.size()),
                      stalled,
                      pool_.ledger().used_bytes(),
                      ddr_.used_bytes(),
                      step_in_flight_};
}

// Recounted from the requests: the distinct blocks they hold (prefix hits are shared) and the KV tokens each wrote.
KvCensus VllmV1Scheduler::census() const {
  KvCensus c;
  std::vector<BlockId> held;
  for (const auto& [id, s] : sessions_) c.kv_tokens_hbm += s.kept;
  for (const auto& [id, r] : requests_) {
    (r.where == Where::kSwapped ? c.kv_tokens_ddr : c.kv_tokens_hbm) += r.written;
    held.insert(held.end(), r.blocks.begin(), r.blocks.end());
    c.ddr_bytes += r.ddr_bytes;
  }
  std::sort(held.begin(), held.end());
  c.blocks = std::unique(held.begin(), held.end()) - held.begin();
  return c;
}

}  // namespace kvsim
