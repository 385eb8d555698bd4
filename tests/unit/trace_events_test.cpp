// The trace-event writer fed by hand: which hook becomes which event on which track, with what times and args.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "engine/trace_events.hpp"

namespace kvsim {
namespace {

using nlohmann::json;

// pids and tids of docs/outputs.md: replica r's hardware is pid 2r+1 (GPU tid 1, link k lane l tid
// (k+1)*1000000+l), its sessions pid 2r+2 (session s tid s+1).
constexpr int kHw = 1, kSessions = 2, kGpu = 1, kOut = 1000000, kIn = 2000000, kDemote = 3000000;

json parse(const std::string& text) { return json::parse(text); }

std::vector<json> events(const json& doc, const std::string& ph, int pid, int tid) {
  std::vector<json> out;
  for (const auto& e : doc["traceEvents"]) {
    if (e["ph"] == ph && e["pid"] == pid && e["tid"] == tid) out.push_back(e);
  }
  return out;
}

std::string thread_name(const json& doc, int pid, int tid) {
  for (const auto& e : events(doc, "M", pid, tid)) {
    if (e["name"] == "thread_name") return e["args"]["name"];
  }
  return "";
}

StepRecord step(double start, double end, std::int64_t prefill, std::int64_t decode, int batch) {
  return StepRecord{start, end, prefill, decode, batch, 1e12, 2e9, 0, 0};
}

// Session 0: a round, then a return whose KV was swapped out and comes back (stall). Session 1 waits, stalls on a
// swap-in that overlaps session 0's, has its KV dropped, then loads more layerwise. Session 2 is demoted.
std::string fed_trace() {
  std::ostringstream out;
  TraceEventWriter w(out, TraceInfo{1, "1 x tiny", {{"scenario", "a \"quoted\" name.yaml"}, {"seed", "7"}}});
  MetricsSink& k = w.sink(0);
  k.on_round_arrival(0, 0, 0.0);
  k.on_prefill_start(0, 0.0);
  k.on_step(step(0.0, 1.0, 100, 0, 1));
  k.on_prefill_done(0, 1.0);
  k.on_step(step(1.0, 1.5, 0, 1, 1));
  k.on_round_done(0, 2, 1.5);
  k.on_round_arrival(1, 0, 1.5);
  k.on_swap_start(0, true, 1000, 1.5);
  k.on_swap_done(0, true, 1000, 2.0);
  k.on_round_arrival(0, 1, 3.0);
  k.on_swap_start(0, false, 1000, 3.25);
  k.on_swap_start(1, false, 500, 3.5);  // overlaps: a second lane of the link
  k.on_swap_done(0, false, 1000, 4.0);
  k.on_swap_done(1, false, 500, 4.25);
  k.on_prefill_start(0, 4.5);
  k.on_step(step(4.5, 5.0, 10, 0, 1));
  k.on_prefill_done(0, 5.0);
  k.on_round_done(0, 1, 5.0);  // one answer token: the decode lasts no time and gets no event
  k.on_session_end(0, 1111, 5.0);
  k.on_kv_dropped(1, 40, 400, 5.5);
  k.on_prefill_start(1, 6.0);
  k.on_swap_start(1, false, 300, 6.0);  // layerwise: planned with the step, after its prefill started
  k.on_kv_loaded_in_step(1, 300, 6.0, 6.75, 0.25);
  k.on_step(step(6.0, 6.75, 20, 3, 4));
  k.on_prefill_done(1, 6.75);
  k.on_demotion_start(2, 700, 7.0);
  k.on_demotion_done(2, 700, 8.0000000004);  // rounded to the nanosecond
  w.finish();
  return out.str();
}

TEST(TraceEvents, IsOneJsonDocumentWithNamedTracksAndHeader) {
  const json doc = parse(fed_trace());
  EXPECT_EQ(doc["displayTimeUnit"], "ms");
  EXPECT_EQ(doc["otherData"]["scenario"], "a \"quoted\" name.yaml");
  EXPECT_EQ(doc["otherData"]["seed"], "7");
  EXPECT_EQ(thread_name(doc, kHw, kGpu), "GPU: forward steps");
  EXPECT_EQ(thread_name(doc, kHw, kOut), "host link out: HBM -> DDR/NVMe");
  EXPECT_EQ(thread_name(doc, kHw, kIn), "host link in: DDR/NVMe -> HBM");
  EXPECT_EQ(thread_name(doc, kHw, kIn + 1), "host link in: DDR/NVMe -> HBM #2");
  EXPECT_EQ(thread_name(doc, kHw, kDemote), "NVMe write: DDR -> NVMe");
  EXPECT_EQ(thread_name(doc, kSessions, 1), "session 0");
  EXPECT_EQ(thread_name(doc, kSessions, 2), "session 1");
  int processes = 0;
  for (const auto& e : doc["traceEvents"]) {
    ASSERT_TRUE(e.contains("ph") && e.contains("pid") && e.contains("tid") && e.contains("ts") && e.contains("name"));
    if (e["name"] == "process_name") ++processes;
  }
  EXPECT_EQ(processes, 2);
}

TEST(TraceEvents, StepsAreCompleteEventsInMicrosecondsWithTheirTokens) {
  const auto steps = events(parse(fed_trace()), "X", kHw, kGpu);
  ASSERT_EQ(steps.size(), 4u);
  EXPECT_EQ(steps[0]["name"], "prefill");
  EXPECT_EQ(steps[1]["name"], "decode");
  EXPECT_EQ(steps[3]["name"], "prefill+decode");
  EXPECT_EQ(steps[1]["ts"].get<double>(), 1e6);
  EXPECT_EQ(steps[1]["dur"].get<double>(), 0.5e6);
  EXPECT_EQ(steps[3]["args"]["batch_size"], 4);
  EXPECT_EQ(steps[3]["args"]["prefill_tokens"], 20);
  EXPECT_EQ(steps[3]["args"]["decode_tokens"], 3);
  EXPECT_EQ(steps[3]["args"]["flops"].get<double>(), 1e12);
  EXPECT_EQ(steps[3]["args"]["hbm_bytes"].get<double>(), 2e9);
}

TEST(TraceEvents, TransfersTakeTheFirstFreeLaneOfTheirLink) {
  const json doc = parse(fed_trace());
  const auto out = events(doc, "X", kHw, kOut);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["name"], "swap out");
  EXPECT_EQ(out[0]["args"]["bytes"].get<double>(), 1000);
  EXPECT_EQ(out[0]["args"]["session"], 0);
  const auto lane0 = events(doc, "X", kHw, kIn), lane1 = events(doc, "X", kHw, kIn + 1);
  ASSERT_EQ(lane0.size(), 2u);  // session 0's swap-in, then session 1's layerwise load once the lane is free
  ASSERT_EQ(lane1.size(), 1u);  // session 1's swap-in, which overlapped session 0's
  EXPECT_EQ(lane0[0]["args"]["session"], 0);
  EXPECT_EQ(lane1[0]["args"]["session"], 1);
  EXPECT_EQ(lane1[0]["ts"].get<double>(), 3.5e6);
  EXPECT_EQ(lane1[0]["dur"].get<double>(), 0.75e6);
  EXPECT_EQ(lane0[1]["name"], "layerwise load");
  EXPECT_EQ(lane0[1]["args"]["bytes"].get<double>(), 300);
  EXPECT_EQ(lane0[1]["args"]["stall_s"].get<double>(), 0.25);
  const auto demote = events(doc, "X", kHw, kDemote);
  ASSERT_EQ(demote.size(), 1u);
  EXPECT_EQ(demote[0]["name"], "demote");
  EXPECT_EQ(demote[0]["ts"].get<double>(), 7e6);
  EXPECT_EQ(demote[0]["dur"].get<double>(), 1e6);
}

TEST(TraceEvents, SessionTrackShowsEachPhaseOfEachRound) {
  const json doc = parse(fed_trace());
  const auto s0 = events(doc, "X", kSessions, 1);
  // Round 1: prefill 0-1 s, decode 1-1.5 s; think 1.5-3 s; round 2: queued 3-3.25 s, stall 3.25-4 s, queued
  // 4-4.5 s, prefill 4.5-5 s. Phases of no length (round 1's queue, round 2's decode) have no event.
  const std::vector<std::string> names{"prefill", "decode", "think", "queued", "swap-in stall", "queued", "prefill"};
  const std::vector<double> ts{0, 1, 1.5, 3, 3.25, 4, 4.5}, dur{1, 0.5, 1.5, 0.25, 0.75, 0.5, 0.5};
  ASSERT_EQ(s0.size(), names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(s0[i]["name"], names[i]) << i;
    EXPECT_EQ(s0[i]["ts"].get<double>(), ts[i] * 1e6) << i;
    EXPECT_EQ(s0[i]["dur"].get<double>(), dur[i] * 1e6) << i;
  }
  EXPECT_EQ(s0[1]["args"]["round"], 1);
  EXPECT_EQ(s0[1]["args"]["answer_tokens"], 2);
  EXPECT_EQ(s0[2]["args"]["round"], 1);  // the think time after round 1
  EXPECT_EQ(s0[6]["args"]["round"], 2);
  const auto s1 = events(doc, "X", kSessions, 2);
  // Queued 1.5-3.5 s, stalled on its swap-in until 4.25 s, queued again until its layerwise prefill at 6 s, which
  // does not count as a stall on the session track but carries the step's stall as an argument.
  const std::vector<std::string> names1{"queued", "swap-in stall", "queued", "prefill"};
  ASSERT_EQ(s1.size(), names1.size());
  for (std::size_t i = 0; i < names1.size(); ++i) EXPECT_EQ(s1[i]["name"], names1[i]) << i;
  EXPECT_EQ(s1[1]["dur"].get<double>(), 0.75e6);
  EXPECT_EQ(s1[3]["args"]["layerwise_stall_s"].get<double>(), 0.25);
  const auto drops = events(doc, "i", kSessions, 2);
  ASSERT_EQ(drops.size(), 1u);
  EXPECT_EQ(drops[0]["name"], "KV dropped");
  EXPECT_EQ(drops[0]["args"]["tokens"], 40);
  EXPECT_EQ(drops[0]["ts"].get<double>(), 5.5e6);
}

TEST(TraceEvents, SameHooksGiveTheSameBytes) { EXPECT_EQ(fed_trace(), fed_trace()); }

TEST(TraceEvents, AFailedStreamIsAnErrorAtFinish) {
  std::ostringstream out;
  TraceEventWriter w(out, TraceInfo{});
  out.setstate(std::ios::badbit);
  EXPECT_THROW(w.finish(), std::runtime_error);
}

}  // namespace
}  // namespace kvsim
