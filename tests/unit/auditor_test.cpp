// The auditor catches each broken invariant it exists for, and lets a correct event stream through unchanged.
#include <gtest/gtest.h>

#include <functional>

#include "engine/auditor.hpp"
#include "tests/unit/scheduler_rig.hpp"

namespace kvsim {
namespace {
using namespace scheduler_test;

std::string failure(const std::function<void()>& f) {
  try {
    f();
  } catch (const AuditFailure& e) {
    return e.what();
  }
  return "";
}

TEST(Auditor, ForwardsACorrectRunAndFindsNothing) {
  // The tiny replica of scheduler_rig.hpp behind an auditor: two rounds of one session, the second its last.
  RecordingSink sink;
  Auditor audit(0, sink);
  const CostModel cost(tiny_model(), tiny_gpu(10));
  FcfsReserveScheduler sched(cost, SchedulerConfig{64, 256, 4, true, 512, false}, 1e6, make_offload_policy("swap"),
                             make_victim_policy("lru"), audit);
  audit.attach(sched);
  double now = 0;
  for (int round = 0; round < 2; ++round) {
    sched.on_round_arrival(RoundRequest{1, round, 5, 3, round == 1, 0}, now);
    for (int steps = 0; steps < 3; ++steps) {
      const Plan& p = sched.schedule(now, true);
      ASSERT_TRUE(p.has_step);
      now += p.cost.seconds;
      sched.on_step_done(now);
    }
  }
  EXPECT_NO_THROW(audit.finish(now));
  EXPECT_EQ(sink.count("session_end", 1), 1);
  EXPECT_EQ(sink.count("round_done", 1), 2);
}

TEST(Auditor, CatchesTimeGoingBackwards) {
  RecordingSink sink;
  Auditor audit(3, sink);
  audit.on_round_arrival(1, 0, 10.0);
  const auto msg = failure([&] { audit.on_prefill_start(1, 9.0); });
  EXPECT_NE(msg.find("time went backwards"), std::string::npos) << msg;
  EXPECT_NE(msg.find("replica 3"), std::string::npos) << msg;
}

TEST(Auditor, CatchesRoundsAndSessionsThatDoNotEndExactlyOnce) {
  RecordingSink sink;
  Auditor audit(0, sink);
  EXPECT_NE(failure([&] { audit.on_round_done(7, 10, 1.0); }).find("not open"), std::string::npos);
  audit.on_round_arrival(8, 0, 1.0);
  EXPECT_NE(failure([&] { audit.on_round_arrival(8, 1, 1.0); }).find("while a round is open"), std::string::npos);
  EXPECT_NE(failure([&] { audit.on_session_end(8, 0, 2.0); }).find("with a round open"), std::string::npos);
  EXPECT_NE(failure([&] { audit.finish(3.0); }).find("never ended"), std::string::npos);
  EXPECT_NE(failure([&] { audit.on_session_end(9, 0, 3.0); }).find("ended twice or never started"), std::string::npos);
}

TEST(Auditor, CatchesAnUnbalancedKvLedger) {
  // A step claims 5 tokens were written, but no session holds them: written 5 != resident 0 + ... = 0.
  RecordingSink sink;
  Auditor audit(0, sink);
  const CostModel cost(tiny_model(), tiny_gpu(10));
  FcfsReserveScheduler sched(cost, SchedulerConfig{64, 256, 4, true, 512, false}, 1e6, make_offload_policy("swap"),
                             make_victim_policy("lru"), sink);
  audit.attach(sched);
  audit.on_step(StepRecord{0, 1, 5, 0, 1, 0, 0, 0, 0});
  const auto msg = failure([&] { audit.on_state(sched.state(), 1.0); });
  EXPECT_NE(msg.find("KV ledger: written 5 + imported 0 != resident 0"), std::string::npos) << msg;
}

}  // namespace
}  // namespace kvsim
