// Trace statistics on small traces with hand-computed figures.
#include <gtest/gtest.h>

#include "workloads/trace_stats.hpp"

namespace kvsim {
namespace {

TraceRound round_at(double t, std::int64_t in, std::int64_t out, std::vector<std::uint64_t> blocks) {
  return TraceRound{t, 0, in, out, std::move(blocks), 0};
}

TEST(TraceStats, IdealPrefixHitRatioByChain) {
  Trace t;
  t.block_tokens = 512;
  t.sessions = {{"a", true, {round_at(0, 1024, 10, {1, 2})}},
                {"b", true, {round_at(1, 1200, 20, {1, 2, 3})}},  // shares blocks 1, 2: 1024 tokens
                {"c", true, {round_at(2, 600, 30, {5, 2})}},      // block 2 after 5 is another chain: no hit
                {"d", true, {round_at(4, 700, 40, {1, 7})}}};     // shares block 1: 512 tokens
  const TraceStats s = trace_stats(t);
  EXPECT_DOUBLE_EQ(s.requests, 4);
  EXPECT_DOUBLE_EQ(s.span_s, 4);
  EXPECT_DOUBLE_EQ(s.rate_per_s, 1);
  EXPECT_DOUBLE_EQ(s.prompt_tokens, 1024 + 1200 + 600 + 700);
  EXPECT_DOUBLE_EQ(s.ideal_cached_tokens, 1024 + 512);
  EXPECT_DOUBLE_EQ(s.ideal_prefix_hit_ratio, 1536.0 / 3524.0);
  EXPECT_DOUBLE_EQ(s.input_tokens.mean, 3524.0 / 4);
  EXPECT_DOUBLE_EQ(s.output_tokens.p50, 25);  // 20 + (30 - 20) x 0.5
  EXPECT_DOUBLE_EQ(s.output_tokens.max, 40);
}

TEST(TraceStats, RoundsAndGaps) {
  Trace t;
  TraceRound think = round_at(-1, 10, 1, {});
  think.think_s = 7;
  t.sessions = {{"a", false, {round_at(0, 10, 1, {}), round_at(3, 10, 1, {}), think}},
                {"b", false, {round_at(1, 10, 1, {})}}};
  const TraceStats s = trace_stats(t);
  EXPECT_DOUBLE_EQ(s.sessions, 2);
  EXPECT_DOUBLE_EQ(s.rounds_per_session.mean, 2);
  EXPECT_DOUBLE_EQ(s.rounds_per_session.max, 3);
  EXPECT_DOUBLE_EQ(s.gap_s.count, 2);
  EXPECT_DOUBLE_EQ(s.gap_s.mean, 5);  // 3 and 7
  EXPECT_DOUBLE_EQ(s.span_s, 3);      // recorded arrivals only
}

}  // namespace
}  // namespace kvsim
