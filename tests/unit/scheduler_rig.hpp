#pragma once
// The hand-driven rig shared by scheduler_test.cpp and scheduler_policy_test.cpp: a tiny replica whose numbers
// are easy, a sink that records every hook, and a driver that calls the scheduler as sim/replica_actor.cpp does.
//   KV per token = layers 1 x kv_heads 1 x head_dim 8 x 2 (K, V) x 2 B (bf16) = 32 B; block = 4 tokens = 128 B.
//   weights = 1000 params x 2 B = 2000 B; HBM = 2000 + 10 x 128 B  ->  10 KV blocks = 40 tokens.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "engine/sched/fcfs_reserve.hpp"

namespace kvsim {

// Exact comparisons and readable failures for plan entries (internal linkage, found by ADL).
inline bool operator==(const BatchEntry& a, const BatchEntry& b) {
  return a.session == b.session && a.new_tokens == b.new_tokens && a.cached_tokens == b.cached_tokens &&
         a.prefill == b.prefill;
}
inline void PrintTo(const BatchEntry& e, std::ostream* os) {
  *os << "{s" << e.session << " new " << e.new_tokens << " cached " << e.cached_tokens
      << (e.prefill ? " prefill}" : " decode}");
}

namespace scheduler_test {

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
  void on_session_end(SessionId s, std::int64_t freed, double now) override {
    add("session_end", s, freed, 0, false, now);
  }
  void on_swap_start(SessionId s, bool to_host, double bytes, double now) override {
    add("swap_start", s, 0, bytes, to_host, now);
  }
  void on_swap_done(SessionId s, bool to_host, double bytes, double now) override {
    add("swap_done", s, 0, bytes, to_host, now);
  }
  void on_kv_dropped(SessionId s, std::int64_t tokens, double bytes, double now) override {
    add("kv_dropped", s, tokens, bytes, false, now);
  }
  /// @brief A layerwise load with its timing and stall.
  struct Load {
    SessionId session;
    double bytes, start, end, stall;
  };
  std::vector<Load> loads;

  void on_kv_loaded_in_step(SessionId s, double bytes, double start, double end, double stall) override {
    add("kv_loaded_in_step", s, 0, bytes, false, end);
    loads.push_back(Load{s, bytes, start, end, stall});
  }
  void on_demotion_start(SessionId s, double bytes, double now) override { add("demotion_start", s, 0, bytes, true, now); }
  void on_demotion_done(SessionId s, double bytes, double now) override { add("demotion_done", s, 0, bytes, true, now); }
  /// @brief A prefix cache lookup at admission.
  struct Lookup {
    SessionId session;
    std::int64_t blocks, hbm_hits, ddr_hits, tokens_saved;
  };
  std::vector<Lookup> lookups;
  std::vector<double> prefix_offloads;  ///< bytes of each prefix cache offload
  void on_prefix_lookup(SessionId s, std::int64_t blocks, std::int64_t hbm, std::int64_t ddr, std::int64_t saved,
                        double) override {
    lookups.push_back(Lookup{s, blocks, hbm, ddr, saved});
  }
  void on_prefix_offload(double bytes, double, double) override { prefix_offloads.push_back(bytes); }
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

inline ModelSpec tiny_model() {
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

inline Deployment tiny_gpu(std::int64_t blocks, double link = 1000) {
  Deployment d;
  d.gpu.flops_bf16 = 1e6;
  d.gpu.hbm_bandwidth = 1e6;
  d.gpu.hbm_capacity = 2000 + double(blocks) * 128;  // weights + `blocks` blocks of 4 x 32 B
  d.host_link.bandwidth = link;
  return d;
}

/// @brief A scheduler on the tiny replica with 4-token blocks, driven by hand; checks the HBM ledger after
/// every call. Steps last their roofline time, one step per plan (fast-forward off); transfers bytes / `link`
/// (1000 B/s by default).
struct Rig {
  explicit Rig(const std::string& policy = "swap", const std::string& victims = "lru", std::int64_t blocks = 10,
               std::int64_t budget = 64, double ddr = 1e6, double link_bps = 1000,
               std::int64_t prefix_block_tokens = 512, const PolicyEnv& env = {})
      : link(link_bps),
        cost(tiny_model(), tiny_gpu(blocks, link_bps)),
        sched(cost, SchedulerConfig{budget, 256, 4, true, prefix_block_tokens, false}, ddr, make_offload_policy(policy, env),
              make_victim_policy(victims), sink) {
    EXPECT_EQ(sched.hbm().total_blocks(), blocks);
  }
  /// @brief A swap/LRU scheduler for any model and GPU (compression tests), 4-token blocks of that model's KV.
  Rig(const ModelSpec& model, const Deployment& gpu, std::int64_t budget,
      AttentionFlops attention = AttentionFlops::kCausal)
      : link(gpu.host_link.bandwidth),
        cost(model, gpu, attention),
        sched(cost, SchedulerConfig{budget, 256, 4, true, 512, false}, 1e6, make_offload_policy("swap"),
              make_victim_policy("lru"), sink) {}

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
  /// @brief The step in flight ends; it lasted its planned time plus `extra_s`.
  std::vector<FinishedRound> done(double extra_s = 0) {
    now += step_s + extra_s;
    busy = false;
    auto f = sched.on_step_done(now);
    check();
    return f;
  }
  void landed(const TransferOrder& t) {
    now += t.bytes / link;
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
  /// @brief A first round of 10 + 2 tokens runs to its end: 12 tokens = 3 blocks = 384 B stay in HBM.
  void idle(SessionId s) {
    arrive(s, 0, 10, 2, false);
    finish(s);
  }
  /// @brief A round arrives and runs to its end.
  int run_round(SessionId s, int round, std::int64_t prompt, std::int64_t answer, bool last, double think = 0) {
    arrive(s, round, prompt, answer, last, think);
    return finish(s);
  }

  double link;
  RecordingSink sink;
  CostModel cost;
  FcfsReserveScheduler sched;
  double now = 0;
  double step_s = 0;
  bool busy = false;
};

}  // namespace scheduler_test
}  // namespace kvsim
