// ReplicaScheduler's offload and victim policies under HBM pressure, driven by hand on the tiny replica of
// scheduler_test.cpp (whose rig is repeated here so that each file stands alone):
//   KV per token = layers 1 x kv_heads 1 x head_dim 8 x 2 (K, V) x 2 B (bf16) = 32 B; block = 4 tokens = 128 B.
//   weights = 1000 params x 2 B = 2000 B; HBM = 2000 + 10 x 128 B  ->  10 KV blocks = 40 tokens.
#include <gtest/gtest.h>

#include <map>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "engine/scheduler.hpp"

namespace kvsim {

// Exact comparisons and readable failures for plan entries (internal linkage, found by ADL).
static bool operator==(const BatchEntry& a, const BatchEntry& b) {
  return a.session == b.session && a.new_tokens == b.new_tokens && a.cached_tokens == b.cached_tokens &&
         a.prefill == b.prefill;
}
static void PrintTo(const BatchEntry& e, std::ostream* os) {
  *os << "{s" << e.session << " new " << e.new_tokens << " cached " << e.cached_tokens
      << (e.prefill ? " prefill}" : " decode}");
}

namespace {

/// @brief One sink call: the hook's name and its arguments (n = round, tokens or answer tokens).
struct Event {
  std::string hook;
  SessionId session = 0;
  std::int64_t n = 0;
  double bytes = 0;
  bool to_host = false;
  double now = 0;
};

/// @brief Stores every MetricsSink call.
class RecordingSink final : public MetricsSink {
 public:
  std::vector<Event> events;
  std::vector<StepRecord> steps;
  ReplicaState state;

  void on_round_arrival(SessionId s, int round, double now) override { add("arrival", s, round, 0, false, now); }
  void on_prefill_start(SessionId s, double now) override { add("prefill_start", s, 0, 0, false, now); }
  void on_prefill_done(SessionId s, double now) override { add("prefill_done", s, 0, 0, false, now); }
  void on_round_done(SessionId s, std::int64_t answer, double now) override { add("round_done", s, answer, 0, false, now); }
  void on_session_end(SessionId s, double now) override { add("session_end", s, 0, 0, false, now); }
  void on_swap_start(SessionId s, bool to_host, double bytes, double now) override {
    add("swap_start", s, 0, bytes, to_host, now);
  }
  void on_swap_done(SessionId s, bool to_host, double bytes, double now) override {
    add("swap_done", s, 0, bytes, to_host, now);
  }
  void on_kv_dropped(SessionId s, std::int64_t tokens, double bytes, double now) override {
    add("kv_dropped", s, tokens, bytes, false, now);
  }
  void on_step(const StepRecord& step) override { steps.push_back(step); }
  void on_state(const ReplicaState& st, double) override { state = st; }

  std::vector<Event> of(const std::string& hook) const {
    std::vector<Event> out;
    for (const auto& e : events) {
      if (e.hook == hook) out.push_back(e);
    }
    return out;
  }
  int count(const std::string& hook, SessionId s = 0) const {
    int n = 0;
    for (const auto& e : events) n += (e.hook == hook && (s == 0 || e.session == s)) ? 1 : 0;
    return n;
  }

 private:
  void add(const char* hook, SessionId s, std::int64_t n, double bytes, bool to_host, double now) {
    events.push_back(Event{hook, s, n, bytes, to_host, now});
  }
};

ModelSpec tiny_model() {
  ModelSpec m;
  m.name = "tiny";
  m.layers = 1;
  m.hidden_size = 8;
  m.num_attention_heads = 1;
  m.num_kv_heads = 1;
  m.head_dim = 8;
  m.params = m.params_active = 1000;
  return m;  // bf16 weights and KV: 32 B of KV per token, 2000 B of weights
}

Deployment tiny_gpu(std::int64_t blocks) {
  Deployment d;
  d.gpu.flops_bf16 = 1e6;
  d.gpu.hbm_bandwidth = 1e6;
  d.gpu.hbm_capacity = 2000 + double(blocks) * 128;  // weights + `blocks` blocks of 4 x 32 B
  d.host_link.bandwidth = 1000;
  return d;
}

/// @brief A scheduler on the tiny replica with 4-token blocks, driven by hand; checks the HBM ledger after
/// every call. Steps last their roofline time; transfers bytes / 1000 B/s.
struct Rig {
  explicit Rig(const std::string& policy = "swap", const std::string& victims = "lru", std::int64_t blocks = 10,
               std::int64_t budget = 64, double ddr = 1e6)
      : cost(tiny_model(), tiny_gpu(blocks)),
        sched(cost, SchedulerConfig{budget, 256, 4}, ddr, make_offload_policy(policy), make_victim_policy(victims),
              sink) {
    EXPECT_EQ(sched.hbm().total_blocks(), blocks);
  }

  void check() const {
    const HbmLedger& h = sched.hbm();
    ASSERT_EQ(h.allocated_total() - h.released_total(), h.used_blocks());
    ASSERT_GE(h.used_blocks(), 0);
    ASSERT_LE(h.used_blocks(), h.total_blocks());
    ASSERT_GE(sched.ddr().used_bytes(), 0);
    ASSERT_LE(sched.ddr().used_bytes(), sched.ddr().capacity());
  }
  void arrive(SessionId s, int round, std::int64_t prompt, std::int64_t answer, bool last, double think = 0) {
    sched.on_round_arrival(RoundRequest{s, round, prompt, answer, last, think}, now);
    check();
  }
  Plan plan() {
    Plan p = sched.schedule(now, !busy);
    busy = busy || p.has_step;
    step_s = p.has_step ? p.cost.seconds : step_s;
    check();
    return p;
  }
  std::vector<FinishedRound> done() {
    now += step_s;
    busy = false;
    auto f = sched.on_step_done(now);
    check();
    return f;
  }
  void landed(const TransferOrder& t) {
    now += t.bytes / 1000.0;
    sched.on_transfer_done(t.id, now);
    check();
  }
  /// @brief Plans and runs steps until `s`'s current round ends; returns the steps taken.
  int finish(SessionId s) {
    for (int n = 1; n < 1000; ++n) {
      EXPECT_TRUE(plan().has_step);
      for (const auto& f : done()) {
        if (f.session == s) return n;
      }
    }
    ADD_FAILURE() << "session " << s << " never finished its round";
    return -1;
  }
  /// @brief A round arrives and runs to its end.
  int run_round(SessionId s, int round, std::int64_t prompt, std::int64_t answer, bool last, double think = 0) {
    arrive(s, round, prompt, answer, last, think);
    return finish(s);
  }

  RecordingSink sink;
  CostModel cost;
  ReplicaScheduler sched;
  double now = 0;
  double step_s = 0;
  bool busy = false;
};

// 4. Swap: A (session 1) ends round 0 with 10 + 2 = 12 tokens = 3 blocks and idles. B (2) needs 28 + 4 = 32
// tokens = 8 blocks with 7 free: A's 12 x 32 = 384 B go to DDR (exactly its 384 B), B waits for them to land.
TEST(SchedulerSwap, IdleSessionSwapsOutAndBackIn) {
  Rig r("swap", "lru", 10, 64, /*ddr=*/384);
  r.run_round(1, 0, 10, 2, false);
  EXPECT_EQ(r.sched.hbm().used_blocks(), 3);
  r.arrive(2, 0, 28, 4, true);
  Plan p = r.plan();
  EXPECT_FALSE(p.has_step);
  ASSERT_EQ(p.transfers.size(), 1u);
  const TransferOrder out = p.transfers[0];
  EXPECT_EQ(out.session, 1u);
  EXPECT_TRUE(out.to_host);
  EXPECT_DOUBLE_EQ(out.bytes, 384);
  EXPECT_DOUBLE_EQ(r.sched.ddr().used_bytes(), 384);  // reserved when the swap-out starts
  EXPECT_EQ(r.sched.hbm().used_blocks(), 3);          // freed when it lands
  EXPECT_EQ(r.sink.count("swap_start", 1), 1);
  p = r.plan();  // nothing new while the blocks are on their way out
  EXPECT_FALSE(p.has_step);
  EXPECT_TRUE(p.transfers.empty());
  r.landed(out);
  EXPECT_EQ(r.sched.hbm().used_blocks(), 0);
  EXPECT_DOUBLE_EQ(r.sched.ddr().used_bytes(), 384);
  EXPECT_EQ(r.sink.count("swap_done", 1), 1);
  p = r.plan();
  ASSERT_EQ(p.batch.size(), 1u);
  EXPECT_EQ(p.batch[0], (BatchEntry{2, 28, 0, true}));
  EXPECT_EQ(r.sched.hbm().used_blocks(), 8);  // 28 + 1 tokens
  r.done();
  // A's last round (2 + 2 tokens, 16 in all = 4 blocks) cannot come back while B holds 8 of 10 blocks.
  r.arrive(1, 1, 2, 2, true);
  EXPECT_EQ(r.finish(2), 3);  // B's 3 decode steps
  EXPECT_EQ(r.sink.count("swap_start", 1), 1);
  EXPECT_EQ(r.sched.hbm().used_blocks(), 0);
  // B ended; C (3) arrives behind A. A is admitted and swapped in (3 blocks); C (1 + 3 tokens) runs meanwhile.
  r.arrive(3, 0, 1, 3, true);
  p = r.plan();
  ASSERT_EQ(p.transfers.size(), 1u);
  const TransferOrder in = p.transfers[0];
  EXPECT_EQ(in.session, 1u);
  EXPECT_FALSE(in.to_host);
  EXPECT_DOUBLE_EQ(in.bytes, 384);
  EXPECT_EQ(p.batch, (std::vector<BatchEntry>{{3, 1, 0, true}}));
  EXPECT_EQ(r.sched.hbm().used_blocks(), 3 + 1);
  EXPECT_EQ(r.sink.state.stalled_rounds, 1);
  r.done();
  p = r.plan();  // A stalls: no entry for it until its KV lands
  EXPECT_EQ(p.batch, (std::vector<BatchEntry>{{3, 1, 2, false}}));
  EXPECT_TRUE(p.transfers.empty());
  r.done();
  EXPECT_DOUBLE_EQ(r.sched.ddr().used_bytes(), 384);
  r.landed(in);
  EXPECT_DOUBLE_EQ(r.sched.ddr().used_bytes(), 0);
  EXPECT_EQ(r.sink.state.stalled_rounds, 0);
  p = r.plan();  // A prefills only its new prompt on top of its 12 swapped-in tokens
  EXPECT_EQ(p.batch, (std::vector<BatchEntry>{{3, 1, 3, false}, {1, 2, 12, true}}));
  EXPECT_EQ(r.done().size(), 1u);  // C ends
  EXPECT_EQ(r.sched.hbm().used_blocks(), 4);  // A: 12 + 2 + 1 = 15 tokens
  p = r.plan();
  EXPECT_EQ(p.batch, (std::vector<BatchEntry>{{1, 1, 15, false}}));
  EXPECT_EQ(r.done().size(), 1u);
  EXPECT_EQ(r.sink.count("kv_dropped"), 0);
  EXPECT_TRUE(r.sched.idle());
  EXPECT_EQ(r.sched.hbm().used_blocks(), 0);
}

// 5. Recompute under the same pressure: A's 12 tokens are dropped at once, B starts in the same plan, and A's next
// round prefills its 12 old tokens and its 2 new ones from scratch: 14 tokens on 0 cached.
TEST(SchedulerRecompute, DroppedSessionRePrefillsItsWholeContext) {
  Rig r("recompute");
  r.run_round(1, 0, 10, 2, false);
  r.arrive(2, 0, 28, 4, true);
  Plan p = r.plan();
  EXPECT_TRUE(p.transfers.empty());
  EXPECT_EQ(p.batch, (std::vector<BatchEntry>{{2, 28, 0, true}}));
  const auto dropped = r.sink.of("kv_dropped");
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0].session, 1u);
  EXPECT_EQ(dropped[0].n, 12);
  EXPECT_DOUBLE_EQ(dropped[0].bytes, 384);
  EXPECT_EQ(r.sched.hbm().used_blocks(), 8);
  EXPECT_DOUBLE_EQ(r.sched.ddr().used_bytes(), 0);
  r.done();
  r.arrive(1, 1, 2, 2, true);
  EXPECT_EQ(r.finish(2), 3);
  p = r.plan();
  EXPECT_EQ(p.batch, (std::vector<BatchEntry>{{1, 14, 0, true}}));
  EXPECT_EQ(r.sched.hbm().used_blocks(), 4);  // 14 + 1 tokens
  EXPECT_TRUE(r.done().empty());
  EXPECT_EQ(r.sink.steps.back().prefill_tokens, 14);
  EXPECT_EQ(r.sink.count("prefill_done", 1), 2);
  p = r.plan();
  EXPECT_EQ(p.batch, (std::vector<BatchEntry>{{1, 1, 15, false}}));
  EXPECT_EQ(r.done().size(), 1u);
  EXPECT_EQ(r.sink.count("swap_start"), 0);
  EXPECT_TRUE(r.sched.idle());
}

// 6. Swap with 383 B of DDR cannot hold A's 384 B: the KV is dropped instead and B starts at once.
TEST(SchedulerSwap, FallsBackToDropWhenDdrIsTooSmall) {
  Rig r("swap", "lru", 10, 64, /*ddr=*/383);
  r.run_round(1, 0, 10, 2, false);
  r.arrive(2, 0, 28, 4, true);
  const Plan p = r.plan();
  EXPECT_TRUE(p.transfers.empty());
  EXPECT_EQ(p.batch, (std::vector<BatchEntry>{{2, 28, 0, true}}));
  ASSERT_EQ(r.sink.count("kv_dropped", 1), 1);
  EXPECT_EQ(r.sink.of("kv_dropped")[0].n, 12);
  EXPECT_EQ(r.sink.count("swap_start"), 0);
  EXPECT_DOUBLE_EQ(r.sched.ddr().used_bytes(), 0);
  r.done();
  r.arrive(1, 1, 2, 2, true);
  r.finish(2);
  EXPECT_EQ(r.plan().batch, (std::vector<BatchEntry>{{1, 14, 0, true}}));
}

// 7. Victim order. Three idle sessions, run one after the other (so last used 1 < 2 < 3):
//   1: 6 + 2 = 8 tokens = 2 blocks, 256 B, think 5   -> expected back at ~5
//   2: 10 + 2 = 12 tokens = 3 blocks, 384 B, think 100 -> ~100
//   3: 2 + 2 = 4 tokens = 1 block, 128 B, think 50   -> ~50
// A newcomer of 16 + 4 = 20 tokens = 5 blocks against 4 free evicts exactly the first victim; one of 36 + 4 = 40
// tokens = 10 blocks evicts all three, in the policy's order.
TEST(SchedulerVictims, EachPolicyPicksItsVictimFirst) {
  const std::vector<std::pair<std::string, std::vector<SessionId>>> cases{
      {"lru", {1, 2, 3}}, {"largest", {2, 1, 3}}, {"smallest", {3, 1, 2}}, {"longest-idle", {2, 3, 1}}};
  const std::map<SessionId, double> bytes{{1, 256}, {2, 384}, {3, 128}};
  for (const auto& [name, order] : cases) {
    for (const std::int64_t prompt : {16, 36}) {
      SCOPED_TRACE(name + " prompt " + std::to_string(prompt));
      Rig r("swap", name);
      r.run_round(1, 0, 6, 2, false, 5);
      r.run_round(2, 0, 10, 2, false, 100);
      r.run_round(3, 0, 2, 2, false, 50);
      EXPECT_EQ(r.sched.hbm().used_blocks(), 6);
      r.arrive(4, 0, prompt, 4, true);
      const Plan p = r.plan();
      EXPECT_FALSE(p.has_step);
      const std::size_t n = prompt == 16 ? 1 : 3;
      ASSERT_EQ(p.transfers.size(), n);
      for (std::size_t i = 0; i < n; ++i) {
        EXPECT_EQ(p.transfers[i].session, order[i]) << i;
        EXPECT_TRUE(p.transfers[i].to_host);
        EXPECT_DOUBLE_EQ(p.transfers[i].bytes, bytes.at(order[i]));
      }
      for (const auto& t : p.transfers) r.landed(t);
      EXPECT_EQ(r.finish(4), 4);  // one prefill and three decodes once the blocks are free
    }
  }
}

}  // namespace
}  // namespace kvsim
