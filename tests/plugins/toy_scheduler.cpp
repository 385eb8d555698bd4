// `toy-fifo`: one round at a time, first come first served. A round's whole prompt is one prefill step (which also
// produces its first token), then one decode step per further answer token. A session's KV stays in HBM until it
// ends; a round waits while HBM cannot hold its session's KV at the round's end. No offload, no prefix cache.
#include <algorithm>
#include <deque>
#include <limits>
#include <unordered_map>

#include "engine/kv_fit.hpp"
#include "tests/plugins/toys.hpp"

namespace kvsim::toys {
namespace {

class FifoScheduler final : public Scheduler {
 public:
  explicit FifoScheduler(SchedulerContext ctx)
      : steps_(ctx.steps),
        sink_(ctx.sink),
        hbm_(kv_pool(ctx.cost, ctx.config.block_tokens)),
        ddr_(0),
        nvme_(0),
        prefix_(ctx.config.block_tokens, 1, hbm_.bytes_per_block()) {}

  std::string_view name() const override { return "toy-fifo"; }
  void on_round_arrival(const RoundRequest& r, double now) override {
    queue_.push_back(r);
    sink_.on_round_arrival(r.session, r.round, now);
  }
  const Plan& schedule(double now, bool gpu_free) override {
    plan_ = Plan{};
    plan_.wake_at_s = std::numeric_limits<double>::infinity();
    if (!gpu_free || step_) return plan_;
    if (!running_ && !admit()) return plan_;
    Held& h = held_[running_->session];
    const bool prefill = decoded_ == 0;
    const SeqWork w{prefill ? double(running_->prompt_tokens) : 1.0, double(h.kv), !prefill};
    plan_.has_step = true;
    plan_.batch = {BatchEntry{running_->session, std::int64_t(w.new_tokens), h.kv, prefill}};
    plan_.cost = steps_.step(std::span<const SeqWork>(&w, 1));
    if (prefill) sink_.on_prefill_start(running_->session, now);
    step_ = true;
    start_ = now;
    return plan_;
  }
  const std::vector<FinishedRound>& on_step_done(double now) override {
    finished_.clear();
    step_ = false;
    Held& h = held_[running_->session];
    const bool prefill = decoded_ == 0;
    StepRecord rec{start_, now, prefill ? running_->prompt_tokens : 0, prefill ? 0 : 1, 1, 0, 0, 0, 0, 1};
    sink_.on_step(rec);
    h.kv += prefill ? running_->prompt_tokens + 1 : 1;  // the prefill also writes the first token's KV
    if (prefill) sink_.on_prefill_done(running_->session, now);
    if (++decoded_ == running_->answer_tokens) finish(now);
    sink_.on_state(state(), now);
    return finished_;
  }
  void on_transfer_done(std::uint64_t, double) override {}
  StepCost split_stretch(double, double) override { return {}; }
  bool idle() const override { return queue_.empty() && !running_; }
  ReplicaState state() const override {
    return ReplicaState{static_cast<int>(held_.size()),
                        running_ ? 1 : 0,
                        static_cast<int>(queue_.size()),
                        0,
                        hbm_.used_bytes(),
                        0,
                        step_};
  }
  const HbmLedger& hbm() const override { return hbm_; }
  const DdrLedger& ddr() const override { return ddr_; }
  const DdrLedger& nvme() const override { return nvme_; }
  const PrefixCache& prefix() const override { return prefix_; }
  KvCensus census() const override {
    KvCensus c;
    for (const auto& [id, h] : held_) {
      c.kv_tokens_hbm += h.kv;
      c.blocks += h.blocks;
    }
    return c;
  }

 private:
  struct Held {
    std::int64_t kv = 0;      ///< KV tokens written
    std::int64_t blocks = 0;  ///< HBM blocks held: enough for the round in progress to end
  };

  // The queue's first round starts when HBM can hold its session's KV at the round's end.
  bool admit() {
    if (queue_.empty()) return false;
    const RoundRequest& r = queue_.front();
    Held& h = held_[r.session];
    const std::int64_t need = hbm_.blocks_for(h.kv + r.prompt_tokens + r.answer_tokens) - h.blocks;
    if (need > hbm_.total_blocks() - h.blocks) throw ImpossibleRound("toy-fifo: a round can never fit");
    if (need > 0 && !hbm_.allocate(need)) return false;
    h.blocks += std::max<std::int64_t>(need, 0);
    round_ = r;
    running_ = &round_;
    queue_.pop_front();
    decoded_ = 0;
    return true;
  }
  void finish(double now) {
    const RoundRequest r = *running_;
    running_ = nullptr;
    sink_.on_round_done(r.session, r.answer_tokens, now);
    finished_.push_back(FinishedRound{r.session, r.round, r.last});
    if (!r.last) return;
    const Held h = held_[r.session];
    hbm_.release(h.blocks);
    held_.erase(r.session);
    sink_.on_session_end(r.session, h.kv, now);
  }

  const StepModel& steps_;
  MetricsSink& sink_;
  HbmLedger hbm_;
  DdrLedger ddr_, nvme_;
  PrefixCache prefix_;
  std::deque<RoundRequest> queue_;
  std::unordered_map<SessionId, Held> held_;
  RoundRequest round_;
  const RoundRequest* running_ = nullptr;
  std::int64_t decoded_ = 0;
  bool step_ = false;
  double start_ = 0;
  Plan plan_;
  std::vector<FinishedRound> finished_;
};

}  // namespace

SchedulerRegistry::Entry fifo_scheduler() {
  return {"toy-fifo", "one round at a time, first come first served", {}, [](const Params&, SchedulerContext ctx) {
            return std::make_unique<FifoScheduler>(std::move(ctx));
          }};
}

}  // namespace kvsim::toys
