// Plausible ranges (sim/plausible.hpp) and the rules between keys (sim/scenario_checks.cpp): absurd magnitudes
// are refused before the run, with the key, the value in the key's unit and the range, or with the arithmetic.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <limits>

#include "sim/plausible.hpp"
#include "sim/scenario.hpp"
#include "tests/unit/paper_deployment.hpp"

namespace kvsim {
namespace {

const char* kBase =
    "model: yi-34b-200k\n"
    "hardware: {gpu: a100-sxm-80g}\n"
    "workload: {document_tokens: 4K, arrival: {type: closed, users: 1}, duration: 2min}\n";

// The message of the one refusal of `text` (the base scenario with `text` merged by --set overrides), or "".
std::string refusal(const std::vector<std::string>& sets, const std::string& text = kBase) {
  try {
    load_scenario_text(text, "plausible_test.yaml", sets, paper_test::catalog());
  } catch (const InputError& e) {
    EXPECT_EQ(e.items().size(), 1u) << e.what();
    return e.items().empty() ? "" : e.items().front().key + ": " + e.items().front().message;
  }
  return "";
}

KeySpec bandwidth_key() {
  return plausible::within(KeySpec{.path = "bw", .type = KeyType::kQuantity, .dim = Dim::kBandwidth},
                           plausible::kBandwidth);
}

TEST(PlausibleRange, NamesTheValueAndTheRangeInTheKeysUnit) {
  EXPECT_EQ(check_range(bandwidth_key(), 1e15), "1 PB/s is outside the plausible range [1 MB/s, 100 TB/s]");
  EXPECT_EQ(check_range(bandwidth_key(), 1e5), "100 kB/s is outside the plausible range [1 MB/s, 100 TB/s]");
  EXPECT_EQ(check_range(bandwidth_key(), 1e14), "");  // both bounds are inclusive
  EXPECT_EQ(check_range(bandwidth_key(), 1e6), "");
  KeySpec time =
      plausible::within(KeySpec{.path = "t", .type = KeyType::kQuantity, .dim = Dim::kTime}, plausible::kDuration);
  EXPECT_EQ(check_range(time, 1e12), "1.157e+07 d is outside the plausible range [1 ms, 365 d]");
}

TEST(PlausibleRange, ExclusiveLowerBoundAndWholeNumbers) {
  KeySpec share{.path = "f", .type = KeyType::kQuantity, .dim = Dim::kRatio, .min = 0, .min_exclusive = true, .max = 1};
  EXPECT_EQ(check_range(share, 0), "0 is outside the plausible range (0, 1]");
  EXPECT_EQ(check_range(share, 1e-300), "");
  KeySpec tokens = plausible::within(KeySpec{.path = "w.tokens", .type = KeyType::kDistribution, .dim = Dim::kTokens},
                                     plausible::kTokens);
  tokens.whole = true;
  EXPECT_EQ(check_range(tokens, 99.5), "99.5 is not a whole number of tokens");
  EXPECT_EQ(check_range(tokens, 1e9), "1000000000 is outside the plausible range [1, 100000000]");
}

TEST(PlausibleRange, SeedAboveInt64MaxIsRefusedNotClamped) {
  const KeySpec* seed = scenario_schema().find("seed");
  ASSERT_NE(seed, nullptr);
  std::string err;
  EXPECT_FALSE(Schema::parse_scalar(*seed, "9223372036854775808", err));
  EXPECT_EQ(err, "9223372036854775808 is outside the plausible range [0, 9223372036854775807]");
  const auto max = Schema::parse_scalar(*seed, "9223372036854775807", err);
  ASSERT_TRUE(max);
  EXPECT_EQ(std::get<long>(*max), std::numeric_limits<long>::max());
}

TEST(PlausibleRange, EveryNumericScenarioKeyDeclaresBothBounds) {
  for (const auto& k : scenario_schema().keys()) {
    const bool numeric = k.type == KeyType::kQuantity || k.type == KeyType::kInteger ||
                         k.type == KeyType::kDistribution || k.type == KeyType::kQuantityList;
    if (!numeric) continue;
    EXPECT_TRUE(k.min && k.max) << k.path << " has no plausible range";
    if (k.min && k.max) EXPECT_LT(*k.min, *k.max) << k.path;
    std::string err;  // a default outside its own range would silently leave the key unset
    if (!k.default_value.empty()) EXPECT_TRUE(Schema::parse_scalar(k, k.default_value, err)) << k.path << ": " << err;
  }
}

TEST(PlausibleRange, TokenAndRoundKeysAreWhole) {
  for (const char* path : {"workload.document_tokens", "workload.question_tokens", "workload.answer_tokens",
                           "workload.rounds", "model.max_context", "model.kv_compression.attention.window"}) {
    const KeySpec* k = scenario_schema().find(path);
    ASSERT_NE(k, nullptr) << path;
    EXPECT_TRUE(k->whole) << path;
  }
}

TEST(DistributionRules, ParametersAreCheckedAgainstTheKeysRange) {
  EXPECT_EQ(refusal({"workload.answer_tokens={dist: exponential, mean: 1e300}"}),
            "workload.answer_tokens.mean: 1e+300 is outside the plausible range [0, 100000000]");
  EXPECT_EQ(refusal({"workload.answer_tokens={dist: lognormal, mean: 250, sigma: 11}"}),
            "workload.answer_tokens.sigma: 11 is outside the plausible range [0, 10]");
  EXPECT_EQ(refusal({"workload.question_tokens={dist: uniform, low: 10.5, high: 20}"}),
            "workload.question_tokens.low: 10.5 is not a whole number of tokens");
  EXPECT_EQ(refusal({"workload.rounds={dist: empirical, values: [1, 2.5]}"}),
            "workload.rounds: 2.5 is not a whole number");
  // The mean of whole tokens need not be whole.
  EXPECT_EQ(refusal({"workload.answer_tokens={dist: exponential, mean: 250.5}"}), "");
}

TEST(DistributionRules, ClampsNeedMinAtMostMax) {
  EXPECT_EQ(refusal({"workload.answer_tokens={dist: exponential, mean: 250, min: 500, max: 100}"}),
            "workload.answer_tokens: the clamps need min <= max (got min 500, max 100)");
  EXPECT_EQ(refusal({"workload.answer_tokens={dist: exponential, mean: 250, min: 100, max: 500}"}), "");
  EXPECT_EQ(refusal({"workload.answer_tokens={dist: exponential, mean: 250, min: 100}"}), "");  // no upper clamp
}

TEST(ArrivalList, TimesMustBeFiniteInOrderAndNotNegative) {
  EXPECT_EQ(refusal({"workload.arrival={type: list, times: [0s, 20s, 10s]}"}),
            "workload.arrival.times: start times must be in order: time 3 (10 s) is before time 2 (20 s)");
  EXPECT_EQ(refusal({"workload.arrival={type: list, times: [-5s, 10s]}"}),
            "workload.arrival.times: -5 s is outside the plausible range [0 s, 365 d]");
  EXPECT_EQ(refusal({"workload.arrival={type: list, times: [0s, inf]}"}),
            "workload.arrival.times: 'inf' is not a finite number; expected a duration with a unit, e.g. 60s, 500ms, "
            "2min, 1h");
  EXPECT_EQ(refusal({"workload.arrival={type: list, times: [0s, 0s, 10s]}"}), "");  // ties are in order
}

TEST(ArrivalList, AtMost100000Times) {
  std::string times = "0s";
  for (int i = 1; i <= 100000; ++i) times += ",1s";  // 100,001 times
  EXPECT_EQ(refusal({"workload.arrival.type=list", "workload.arrival.times=[" + times + "]"}),
            "workload.arrival.times: 100001 items, more than the 100000 this list may hold");
}

TEST(ArrivalList, AMillionTimesAreRefusedBeforeParsing) {
  // A file of a million times is 3 MB, above the 2 MiB a YAML file may have: refused by its size, not after the
  // seconds yaml-cpp would take to parse it.
  const auto file = std::filesystem::temp_directory_path() / "plausible_test_million_times.yaml";
  {
    std::ofstream out(file);
    out << "model: yi-34b-200k\nworkload: {arrival: {type: list, times: [0s";
    for (int i = 1; i < 1000000; ++i) out << ",1s";
    out << "]}}\n";
  }
  const auto start = std::chrono::steady_clock::now();
  try {
    load_scenario(file, {}, paper_test::catalog());
    ADD_FAILURE() << "accepted a million arrival times";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("a YAML file kvsim reads is at most 2097152 bytes"), std::string::npos)
        << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  std::filesystem::remove(file);
}

TEST(CrossKeyRules, ShowTheArithmetic) {
  EXPECT_EQ(refusal({"hardware.count=65536"}),
            "hardware.count: 65536 GPUs / tensor_parallel 1 = 65536 replicas, above the 4096 kvsim simulates");
  const std::string hourly = "output.timeline_period=1h";  // a year of timeline rows at the default 1 s is refused
  EXPECT_EQ(refusal({"workload.arrival={type: poisson, rate: 1000/s}", "workload.duration=365d", hourly}),
            "workload.arrival.rate: 1000/s x workload.duration 3.154e+07 s = 3.154e+10 expected sessions, above the "
            "1e+08 kvsim runs; lower the rate or the duration, or cap workload.sessions");
  EXPECT_EQ(refusal({"workload.arrival={type: poisson, rate: 1000/s}", "workload.duration=365d", hourly,
                     "workload.sessions=1000"}),
            "");
  EXPECT_EQ(refusal({"workload.duration=365d"}),  // at the default period of 1 s
            "output.timeline_period: workload.duration 3.154e+07 s / timeline_period 1 s = 3.154e+07 rows, above the "
            "1e+07 timeline.csv may hold; raise the period");
}

TEST(CrossKeyRules, TensorParallelMustDivideTheKvHeads) {
  // Yi-34B-200K as the paper models it: 32 query heads, 8 KV heads.
  EXPECT_EQ(refusal({"hardware.count=3", "hardware.tensor_parallel=3"}),
            "hardware.tensor_parallel: model yi-34b-200k has 8 KV heads, which tensor_parallel 3 does not divide "
            "(8 / 3 = 2.667): each GPU must hold whole KV heads");
  EXPECT_EQ(refusal({"hardware.count=16", "hardware.tensor_parallel=16"}),
            "hardware.tensor_parallel: model yi-34b-200k has 8 KV heads, fewer than tensor_parallel 16: serving "
            "engines then replicate each KV head on 2 GPUs, which kvsim does not model; use a tensor_parallel that "
            "divides 8");
  EXPECT_EQ(refusal({"hardware.count=8", "hardware.tensor_parallel=8"}), "");
  EXPECT_EQ(refusal({"model.num_kv_heads=6"}),
            "model.num_kv_heads: num_kv_heads must divide num_attention_heads: 32 heads / 6 KV heads = 5.333 query "
            "heads per KV head");
}

TEST(CrossKeyRules, MoeUpcycleDoesNotWrap) {
  EXPECT_EQ(refusal({"model.moe_upcycle=99999999999x1"}),
            "model.moe_upcycle: expected EXPERTSxTOPK with 1 <= TOPK <= EXPERTS <= 1000000, such as 8x2, or dense");
  EXPECT_EQ(refusal({"model.moe_upcycle=4294967304x2"}),  // 2^32 + 8 wraps to 8 in an int
            "model.moe_upcycle: expected EXPERTSxTOPK with 1 <= TOPK <= EXPERTS <= 1000000, such as 8x2, or dense");
}

}  // namespace
}  // namespace kvsim
