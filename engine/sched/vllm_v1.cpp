// vllm-v1: construction, arrivals and step planning (vLLM's schedule()). Step completion, preemption, swaps,
// fast-forward and the census are in vllm_v1_step.cpp.
#include "engine/sched/vllm_v1.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "engine/log.hpp"
#include "engine/sched/schedulers.hpp"
#include "engine/units.hpp"

namespace kvsim {
namespace {

// splitmix64's finaliser, a bijection of 64-bit words.
std::uint64_t scramble(std::uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Combines two words so that small integers (session ids, block indices) never collide: a boost-style
// a ^ (b + C + (a << 6) + (a >> 2)) makes (session 1, block j) equal (session 0, block j + 63).
std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  return scramble(a ^ scramble(b + 0x9e3779b97f4a7c15ULL));
}

VllmPool size_pool(const SchedulerContext& ctx, double utilization, std::int64_t blocks) {
  const SchedulerConfig& c = ctx.config;
  return vllm_pool(ctx.cost, VllmPoolConfig{c.block_tokens, c.max_batch_tokens, c.max_batch_size, utilization, blocks});
}

}  // namespace

VllmV1Scheduler::VllmV1Scheduler(SchedulerContext ctx, double gpu_memory_utilization, std::int64_t num_gpu_blocks)
    : cost_(ctx.cost),
      steps_(ctx.steps),
      config_(ctx.config),
      policy_(std::move(ctx.policy)),
      sink_(ctx.sink),
      sizing_(size_pool(ctx, gpu_memory_utilization, num_gpu_blocks)),
      block_tokens_(ctx.config.block_tokens),
      // vLLM keeps block 0 as its null block: num_gpu_blocks - 1 hold KV.
      pool_(std::max<std::int64_t>(0, sizing_.blocks - 1), block_tokens_,
            double(block_tokens_) * ctx.cost.kv_bytes_per_token()),
      ddr_(ctx.ddr_bytes),
      nvme_(ctx.nvme_bytes),
      no_prefix_(ctx.config.prefix_block_tokens, 1, 0) {
  if (pool_.total_blocks() < 1) {
    throw std::invalid_argument(fmt::format(
        "vllm-v1: the KV pool holds no block besides vLLM's null block: {}; raise gpu_memory_utilization or the "
        "GPU's memory, or set num_gpu_blocks",
        sizing_.arithmetic()));
  }
}

SchedulerRegistry::Entry vllm_v1_scheduler() {
  return {"vllm-v1",
          "vLLM v1 (0.19): a token budget per step, running requests first, KV blocks allocated as tokens are "
          "scheduled, the newest running request preempted when a block is short, waiting requests admitted first "
          "come first served when their whole current sequence fits (scheduler_reserve_full_isl); never uses the "
          "answer length to decide",
          {ParamSpec{.name = "gpu_memory_utilization",
                     .dim = Dim::kRatio,
                     .default_value = "0.9",
                     .min = 0,
                     .max = 1,
                     .min_exclusive = true,
                     .description = "share of each GPU's memory vLLM may use; the KV pool is what is left of it "
                                    "after the weights, the profiled activation peak and non-torch memory"},
           ParamSpec{.name = "num_gpu_blocks",
                     .dim = Dim::kCount,
                     .default_value = "0",
                     .min = 0,
                     .max = 1e9,  // a billion 16-token blocks: far beyond any GPU's memory
                     .description = "KV blocks of the pool, as vLLM's num_gpu_blocks_override (one is the null "
                                    "block); 0: sized from the memory"}},
          [](const Params& p, SchedulerContext ctx) {
            return std::make_unique<VllmV1Scheduler>(std::move(ctx), p.number("gpu_memory_utilization"),
                                                     std::int64_t(p.number("num_gpu_blocks")));
          }};
}

void VllmV1Scheduler::on_round_arrival(const RoundRequest& r, double now) {
  Session& s = sessions_[r.session];
  // Validation only, not a decision: a request longer than the pool would preempt itself for ever in vLLM.
  const std::int64_t end = s.context + r.prompt_tokens + r.answer_tokens - 1;
  if (blocks_for(end) > pool_.total_blocks()) {
    throw ImpossibleRound(fmt::format(
        "session {} round {} needs the KV of {} tokens (conversation {} + prompt {} + answer {} - 1) = {} blocks "
        "of {} tokens, but vLLM's pool has {} (besides the null block): {}; it can never fit",
        r.session, r.round + 1, end, s.context, r.prompt_tokens, r.answer_tokens, blocks_for(end), block_tokens_,
        pool_.total_blocks(), sizing_.arithmetic()));
  }
  Request& q = requests_[r.session];
  q = Request{};
  q.round = r;
  q.history = s.context;
  q.prompt = s.context + r.prompt_tokens;
  waiting_.push_back(&q);
  sink_.on_round_arrival(r.session, r.round, now);
}

const Plan& VllmV1Scheduler::schedule(double now, bool gpu_free) {
  plan_.clear();
  plan_.steps = 1;
  plan_.wake_at_s = std::numeric_limits<double>::infinity();
  if (gpu_free) {
    work_.clear();
    preempted_ = false;
    budget_ = config_.max_batch_tokens;
    schedule_running(now);
    if (!preempted_) schedule_waiting(now);  // vLLM admits nothing in a step that preempted
    if (!plan_.batch.empty()) build_step(now);
  }
  report(now);
  return plan_;
}

// Running requests in order, each given what it has left to compute within the budget; when its blocks cannot
// be had, the newest running request is preempted, until they can or it was the one preempted.
void VllmV1Scheduler::schedule_running(double now) {
  for (std::size_t i = 0; i < running_.size() && budget_ > 0;) {
    Request& r = *running_[i];
    const std::int64_t n = std::min(r.tokens() - r.computed, budget_);
    if (r.where != Where::kHbm || n <= 0) {  // its KV is still coming back from DDR
      ++i;
      continue;
    }
    bool ok = allocate_slots(r, n);
    while (!ok) {
      auto last = std::find_if(running_.rbegin(), running_.rend(), [](Request* q) { return q->where == Where::kHbm; });
      Request& victim = **last;
      running_.erase(std::next(last).base());
      preempt(victim, now);
      if (&victim == &r) break;
      ok = allocate_slots(r, n);
    }
    if (!ok) break;
    add_entry(r, n, now);
    ++i;
  }
}

// Waiting requests first come, first served while the budget and max_num_seqs allow; the first that cannot be
// admitted stops the loop.
void VllmV1Scheduler::schedule_waiting(double now) {
  while (!waiting_.empty() && budget_ > 0) {
    if (running_.size() >= static_cast<std::size_t>(config_.max_batch_size)) break;
    Request& r = *waiting_.front();
    if (r.where == Where::kSwappingOut || !admit(r, now)) break;
    waiting_.pop_front();
    running_.push_back(&r);
  }
}

// The cached blocks of the request's leading full blocks, stopping at the first miss; at most (tokens - 1) /
// block_tokens blocks, so the last token is always computed to get its logits (get_computed_blocks).
std::vector<BlockId> VllmV1Scheduler::lookup_hits(const Request& r) const {
  std::vector<BlockId> hits;
  if (!config_.prefix_cache) return hits;
  const std::int64_t most = (r.tokens() - 1) / block_tokens_;
  for (std::int64_t j = 0; j < most; ++j) {
    const auto b = pool_.lookup(block_hash(r, j));
    if (!b) break;
    hits.push_back(*b);
  }
  return hits;
}

// allocate_slots(..., full_sequence_must_fit=True): the blocks of the whole current sequence (prompt and tokens
// generated so far, less the prefix hits, plus the hits that sit in the free queue) must be free; then the chunk's
// blocks are taken.
bool VllmV1Scheduler::admit(Request& r, double now) {
  if (r.where == Where::kSwapped) {
    if (blocks_for(r.tokens()) > pool_.num_free()) return false;
    swap_in(r, now);
    return true;
  }
  std::vector<BlockId> hits = lookup_hits(r);
  const auto nh = static_cast<std::int64_t>(hits.size());
  const std::int64_t evictable =
      std::count_if(hits.begin(), hits.end(), [&](BlockId b) { return pool_.ref_count(b) == 0; });
  if (blocks_for(r.tokens()) - nh + evictable > pool_.num_free()) return false;
  const std::int64_t cached = nh * block_tokens_;
  const std::int64_t n = std::min(r.tokens() - cached, budget_);
  pool_.touch(hits);
  r.blocks = std::move(hits);
  r.hashed = nh;
  r.computed = r.base = cached;
  allocate_slots(r, n);  // fits: the chunk needs no more than the whole sequence
  if (config_.prefix_cache) {
    sink_.on_prefix_lookup(r.round.session, r.tokens() / block_tokens_, nh, 0, cached, now);
  }
  static spdlog::logger& logger = log("vllm-v1");
  logger.debug("t={:.6f} admit session {} round {} ({} tokens, {} cached)", now, r.round.session, r.round.round + 1,
               r.tokens(), cached);
  add_entry(r, n, now);
  return true;
}

bool VllmV1Scheduler::allocate_slots(Request& r, std::int64_t new_tokens) {
  const std::int64_t need = blocks_for(r.computed + new_tokens) - static_cast<std::int64_t>(r.blocks.size());
  if (need > 0) {
    auto got = pool_.allocate(need);
    if (!got) return false;
    r.blocks.insert(r.blocks.end(), got->begin(), got->end());
  }
  cache_full_blocks(r, std::min(r.computed + new_tokens, r.tokens()));
  return true;
}

// A block's hash stands for its tokens and all before them. A request carries no token ids, so: the conversation's
// j-th block of a session is the same in every round (a later round's prompt repeats the conversation); a prompt
// block a trace names by hash id (prefix_blocks, one-round sessions) is that id's; the rest are the session's own.
std::uint64_t VllmV1Scheduler::block_hash(const Request& r, std::int64_t j) const {
  const auto& ids = r.round.prefix_blocks;
  const std::int64_t end = (j + 1) * block_tokens_;
  if (!ids.empty() && r.history == 0 && end <= r.round.prompt_tokens) {
    const auto idx = static_cast<std::size_t>((end - 1) / config_.prefix_block_tokens);
    if (idx < ids.size()) return mix(mix(ids[idx], std::uint64_t(j)), 1);
  }
  return mix(mix(r.round.session, std::uint64_t(j)), 2);
}

void VllmV1Scheduler::cache_full_blocks(Request& r, std::int64_t tokens) {
  if (!config_.prefix_cache) return;
  const std::int64_t full = std::min(tokens / block_tokens_, static_cast<std::int64_t>(r.blocks.size()));
  for (std::int64_t j = r.hashed; j < full; ++j) pool_.cache(r.blocks[std::size_t(j)], block_hash(r, j));
  r.hashed = std::max(r.hashed, full);
}

void VllmV1Scheduler::add_entry(Request& r, std::int64_t n, double now) {
  const bool decode = r.outputs > 0 && r.computed == r.tokens() - 1;
  if (!r.prefill_started) {
    r.prefill_started = true;
    sink_.on_prefill_start(r.round.session, now);
  }
  work_.push_back(SeqWork{double(n), double(r.computed), decode, decode ? 0.0 : double(r.computed - r.base),
                          r.computed + n == r.tokens()});
  plan_.batch.push_back(BatchEntry{r.round.session, n, r.computed, !decode});
  budget_ -= n;
}

void VllmV1Scheduler::build_step(double now) {
  price_step(plan_, steps_, cost_, work_);
  inflight_ = plan_.batch;
  step_start_ = now;
  step_in_flight_ = true;
  inflight_offset_ = 0;
  inflight_steps_ = plan_.steps = stretch_length();
  if (plan_.steps > 1) {
    stretch_base_ = work_;
    plan_.cost = stretch_cost(steps_, stretch_base_, 0, plan_.steps);
    plan_.prefill_flops = 0;
    plan_.decode_flops = plan_.cost.flops_per_gpu * cost_.deployment().tensor_parallel;
  }
  inflight_cost_ = plan_.cost;
  inflight_prefill_flops_ = plan_.prefill_flops;
  inflight_decode_flops_ = plan_.decode_flops;
}

}  // namespace kvsim
