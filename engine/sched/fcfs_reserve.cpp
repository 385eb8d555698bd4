// fcfs-reserve: admission, step building and step completion. KV eviction and transfers are in
// fcfs_reserve_kv.cpp, fast-forward in fcfs_reserve_stretch.cpp, think-time offload and prefetch in
// fcfs_reserve_idle.cpp, the prefix cache in fcfs_reserve_prefix.cpp.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "engine/kv_fit.hpp"
#include "engine/log.hpp"
#include "engine/sched/fcfs_reserve.hpp"
#include "engine/sched/schedulers.hpp"
#include "engine/sched/stretch.hpp"
#include "engine/units.hpp"

namespace kvsim {

FcfsReserveScheduler::FcfsReserveScheduler(const CostModel& cost, SchedulerConfig config, double ddr_bytes,
                                           std::unique_ptr<OffloadPolicy> policy, std::unique_ptr<VictimPolicy> victims,
                                           MetricsSink& sink, double nvme_bytes, const StepModel* steps)
    : cost_(cost),
      own_steps_(steps ? nullptr : step_models().make("roofline", StepModelInputs{cost, nullptr, nullptr})),
      steps_(steps ? *steps : *own_steps_),
      config_(config),
      policy_(std::move(policy)),
      victims_(std::move(victims)),
      sink_(sink),
      hbm_(kv_pool(cost, config.block_tokens)),
      ddr_(ddr_bytes),
      nvme_(nvme_bytes),
      prefix_(config.prefix_block_tokens, hbm_.blocks_for(config.prefix_block_tokens),
              double(config.prefix_block_tokens) * cost.kv_bytes_per_token()) {}

FcfsReserveScheduler::FcfsReserveScheduler(SchedulerContext ctx)
    : FcfsReserveScheduler(ctx.cost, ctx.config, ctx.ddr_bytes, std::move(ctx.policy), std::move(ctx.victims), ctx.sink,
                           ctx.nvme_bytes, &ctx.steps) {}

SchedulerRegistry::Entry fcfs_reserve_scheduler() {
  return {"fcfs-reserve",
          "first come, first served; each round reserves HBM for the rest of its round (it uses the answer length); "
          "idle sessions' KV is evicted as the offload policy says",
          {},
          [](const Params&, SchedulerContext ctx) { return std::make_unique<FcfsReserveScheduler>(std::move(ctx)); }};
}

void FcfsReserveScheduler::on_round_arrival(const RoundRequest& r, double now) {
  const auto found = sessions_.find(r.session);
  const std::int64_t context = found == sessions_.end() ? r.context_tokens : found->second.context;
  const std::int64_t end_tokens = context + r.prompt_tokens + r.answer_tokens;
  const KvFit fit = kv_fit(cost_, hbm_.block_tokens(), context + r.prompt_tokens + 1, end_tokens);
  if (!fit.fits()) {
    throw ImpossibleRound(fmt::format(
        "session {} round {} needs the KV of {} tokens = {} x {} B/token = {}, but the replica's KV room is {} "
        "(HBM {} - weights {} - activation reserve) = {} blocks of {} tokens; it can never fit, even with every "
        "other session evicted",
        r.session, r.round + 1, end_tokens, fit.peak_tokens, cost_.kv_bytes_per_token(), format_bytes(fit.peak_bytes),
        format_bytes(cost_.kv_capacity_bytes()), format_bytes(cost_.deployment().hbm_total()),
        format_bytes(cost_.weight_bytes()), fit.pool_blocks, fit.block_tokens));
  }
  const bool fresh = found == sessions_.end();
  Session& s = sessions_[r.session];
  s.id = r.session;
  if (fresh) arrive_from_elsewhere(s, r);
  s.round = r;
  s.has_round = true;
  s.prefill_started = false;
  s.prompt_done = 0;
  s.decoded = 0;
  waiting_.push_back(&s);
  if (r.leg == Leg::kDecode) {
    sink_.on_leg_arrival(s.id, r.round, now);
  } else {
    sink_.on_round_arrival(s.id, r.round, now);
  }
}

const Plan& FcfsReserveScheduler::schedule(double now, bool gpu_free) {
  plan_.clear();
  admit(now);
  run_prefetches(now);
  if (gpu_free) build_step(now);
  if (plan_.has_step) start_stretch(stretch_length());
  plan_.transfers.swap(orders_);  // every transfer decided since the last plan, including at step completions
  orders_.clear();
  plan_.wake_at_s = next_wake(now);
  report(now);
  return plan_;
}

// The most blocks the round will hold: its KV at the end of its answer or, while prefilling, at the end of its
// prefill with the written KV not yet pruned.
std::int64_t FcfsReserveScheduler::remaining_need(const Session& s) const {
  const std::int64_t pending = pending_prefill(s);
  const std::int64_t final_kv = s.kv + pending + (s.round.answer_tokens - s.decoded);
  std::int64_t peak = kv_blocks(s, final_kv);
  if (pending > 0) {
    const std::int64_t prefill_end = s.kv + pending + (s.decoded == 0 ? 1 : 0);
    const std::int64_t base = s.prefill_started ? s.prefill_base : s.kv;
    peak = std::max(peak, kv_blocks(s, prefill_end, cost_.prefill_extra_tokens(base, prefill_end)));
  }
  return std::max<std::int64_t>(0, peak - s.blocks);
}

std::int64_t FcfsReserveScheduler::reserved_blocks() const {
  std::int64_t r = 0;
  for (const auto& [id, s] : sessions_) r += s.admitted ? remaining_need(s) : 0;
  return r;
}

// First come, first served: a waiting round is admitted once HBM can hold everything it will still need (its KV,
// the rest of its prefill and its answer) on top of what the admitted rounds will still need, evicting idle KV
// through the policy if necessary. Admitted rounds therefore always find their next block. A round whose KV is in
// DDR is swapped in first and stalls until it lands.
void FcfsReserveScheduler::admit(double now) {
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    Session& s = **it;
    if (!s.admitted) {
      if (s.where == Where::kSwappingOut || s.where == Where::kDemoting) {  // its KV must land before it can return
        ++it;
        continue;
      }
      if (running_.size() + static_cast<std::size_t>(stalled_) >= static_cast<std::size_t>(config_.max_batch_size))
        break;
      if (!make_room_for(s, now)) break;
      s.admitted = true;
      static spdlog::logger& logger = log("scheduler");
      logger.debug("t={:.6f} admit session {} round {} ({} new tokens, KV {} tokens)", now, s.id, s.round.round + 1,
                   s.round.prompt_tokens, s.kv);
      if (s.where == Where::kOffloaded) {
        const std::int64_t need = kv_blocks(s, s.kv);
        hbm_.allocate(need);
        set_blocks(s, need);
        if (s.remote >= 0) {
          start_pull(s, now);
        } else if (policy_->layerwise() && s.tier == Tier::kDdr) {
          s.where = Where::kSwappingIn;  // loaded by its first step, overlapped with the compute
          s.load_in_step = true;
        } else {
          start_transfer(s, false, now);
        }
      } else if (s.where == Where::kSwappingIn) {
        ++stalled_;  // a prefetch is still landing: the round waits for the rest of it
      }
      prefix_start(s, now);
    }
    if (s.load_in_step) {
      running_.push_back(&s);
      it = waiting_.erase(it);
      continue;
    }
    if (s.where == Where::kSwappingIn) {
      ++it;
      continue;
    }
    running_.push_back(&s);
    it = waiting_.erase(it);
  }
}

// Every admitted round advances: one token for a decoding round, a chunk within the token budget for a prefilling
// one, in admission order.
void FcfsReserveScheduler::build_step(double now) {
  std::int64_t budget = config_.max_batch_tokens;
  work_.clear();
  for (Session* s : running_) {
    if (plan_.batch.size() >= static_cast<std::size_t>(config_.max_batch_size) || budget <= 0) break;
    add_to_batch(*s, budget, now);
  }
  if (plan_.batch.empty()) return;
  price_step(plan_, steps_, cost_, work_);
  inflight_ = plan_.batch;
  inflight_cost_ = plan_.cost;
  inflight_prefill_flops_ = plan_.prefill_flops;
  inflight_decode_flops_ = plan_.decode_flops;
  step_start_ = now;
  step_in_flight_ = true;
}

void FcfsReserveScheduler::add_to_batch(Session& s, std::int64_t& budget, double now) {
  const std::int64_t pending = pending_prefill(s);
  std::int64_t tokens = 1;
  if (pending > 0) {
    tokens = std::min(pending, budget);
    if (!s.prefill_started) {
      s.prefill_started = true;
      s.prefill_base = s.kv;
      sink_.on_prefill_start(s.id, now);
    }
  }
  // The chunk that completes the prefill also writes the first generated token's KV.
  const bool first_token = pending > 0 && tokens == pending && s.decoded == 0;
  const std::int64_t end = s.kv + tokens + (first_token ? 1 : 0);
  if (pending > 0) s.extra = cost_.prefill_extra_tokens(s.prefill_base, end);
  grow(s, end);
  if (s.load_in_step && std::find(inflight_loads_.begin(), inflight_loads_.end(), s.id) == inflight_loads_.end()) {
    plan_.load_bytes += s.ddr_bytes;
    inflight_loads_.push_back(s.id);
    sink_.on_swap_start(s.id, false, s.ddr_bytes, now);
  }
  budget -= tokens;
  const bool decode = pending == 0;
  const double done = decode ? 0.0 : double(s.kv - s.prefill_base);
  work_.push_back(SeqWork{double(tokens), double(s.kv), decode, done, tokens == pending});
  plan_.batch.push_back(BatchEntry{s.id, tokens, s.kv, pending > 0});
}

const std::vector<FinishedRound>& FcfsReserveScheduler::on_step_done(double now) {
  finished_.clear();
  step_in_flight_ = false;
  sink_.on_step(step_record(step_start_, now, inflight_, inflight_cost_, inflight_prefill_flops_,
                            inflight_decode_flops_, inflight_steps_, cost_.deployment().tensor_parallel));
  finish_loads(now);
  credit_steps(inflight_steps_, now);
  report(now);
  return finished_;
}

void FcfsReserveScheduler::apply_entry(const BatchEntry& e, double now) {
  Session& s = sessions_.at(e.session);
  if (e.prefill) {
    const std::int64_t recomputed = std::min(e.new_tokens, s.context - s.kv);
    const std::int64_t fresh = e.new_tokens - recomputed;
    s.kv += e.new_tokens;
    s.prompt_done += fresh;
    s.context += fresh;
    if (pending_prefill(s) > 0) return;
    shrink_after_prefill(s);
    if (s.decoded > 0) return;
    sink_.on_prefill_done(s.id, now);  // the last prefill chunk produces the first token
  }
  grow(s, s.kv + 1);  // a no-op for the step's first token, which add_to_batch reserved; later ones of a stretch
  s.decoded += 1;
  s.context += 1;
  s.kv += 1;
  if (s.decoded >= s.round.answer_tokens) finish_round(s, now);
}

void FcfsReserveScheduler::finish_round(Session& s, double now) {
  running_.erase(std::find(running_.begin(), running_.end(), &s));
  s.has_round = false;
  s.admitted = false;
  s.last_used = now;
  s.expected_return = now + s.round.expected_think_s;
  finished_.push_back(FinishedRound{s.id, s.round.round, s.round.last});
  if (s.round.leg == Leg::kPrefill) {  // the KV waits here, pinned, for its decode replica to pull it
    sink_.on_handoff(s.id, now);
    s.pinned = true;
    return;
  }
  // A decode leg's first token was made by the prefill replica.
  sink_.on_round_done(s.id, s.round.answer_tokens + (s.round.leg == Leg::kDecode ? 1 : 0), now);
  if (!s.round.last) {
    offload_idle(s, now);
    return;
  }
  prefix_release(s);
  hbm_.release(s.blocks);
  set_blocks(s, 0);
  set_prefetch(s, -1);  // a return before the guessed time leaves one pending
  const SessionId id = s.id;
  const std::int64_t freed = s.kv - s.shared;  // the shared prefix is the cache's
  sessions_.erase(id);
  sink_.on_session_end(id, freed, now);
}

ReplicaState FcfsReserveScheduler::state() const {
  return ReplicaState{resident_,
                      static_cast<int>(running_.size()),
                      static_cast<int>(waiting_.size()) - stalled_,
                      stalled_,
                      hbm_.used_bytes(),
                      ddr_.used_bytes(),
                      step_in_flight_};
}

void FcfsReserveScheduler::report(double now) {
  sink_.on_state(state(), now);
}

}  // namespace kvsim
