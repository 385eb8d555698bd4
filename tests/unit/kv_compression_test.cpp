// Section 3's compression knobs (engine/kv_compression.hpp) on the paper's running example, Yi-34B as the paper
// models it: 60 layers, 8 KV heads of 128, attention width 32 x 128 = 4096, 34B bf16 parameters (68 GB).
// One layer's KV per token is 8 x 128 x 2 (K and V) x 2 bytes = 4096 B; the model's is 60 x 4096 = 245760 B.
// Every expected value is the knob's equation evaluated by hand in the comment; "P" is prefill (50K tokens on an
// empty cache), "D" a decode step at 50K of context, "KV" the session's KV after prefill. Prefill attention is
// counted as the paper's Eq. 7 (AttentionFlops::kFull) unless a test says causal.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/cost_model.hpp"
#include "engine/peak_analysis.hpp"
#include "sim/catalog.hpp"
#include "tests/unit/paper_deployment.hpp"

namespace kvsim {
namespace {

constexpr double kLayerKv = 4096;  // B per token per layer
constexpr double kWidth = 4096;    // attention width
constexpr double kP = 34e9;
constexpr double kN = 50000;  // prompt
#define EXPECT_REL(actual, expected) EXPECT_NEAR((actual), (expected), std::abs(expected) * 1e-12)

ModelSpec yi(const KvCompression& c = {}) {
  ModelSpec m = paper_test::catalog().model("yi-34b-200k");
  m.compression = c;
  return m;
}

Deployment a100() {
  return paper_test::paper_a100();
}

// Full-mode prefill of n tokens on an empty cache, uncompressed: 2 P n + 2 x 60 x 4096 x n^2 (Eq. 7).
double base_prefill_flops(double n) {
  return 2 * kP * n + 2.0 * 60 * kWidth * n * n;
}

StepCost decode_step(const CostModel& c, double context) {
  const SeqWork s{1, context, true};
  return c.step(std::span<const SeqWork>(&s, 1));
}

TEST(KvCompression, DefaultIsTheUncompressedModel) {
  const CostModel cost(yi(), a100(), AttentionFlops::kFull);
  EXPECT_TRUE(is_identity(KvCompression{}));
  EXPECT_DOUBLE_EQ(cost.kv_bytes_per_token(), 245760);
  EXPECT_DOUBLE_EQ(cost.session_kv_bytes(kN, true), 245760 * kN);
  EXPECT_DOUBLE_EQ(cost.session_kv_bytes(kN, false), 245760 * kN);
  EXPECT_REL(cost.prefill(kN, 0).flops_per_gpu, base_prefill_flops(kN));
  EXPECT_REL(decode_step(cost, kN).hbm_bytes_per_gpu, 68e9 + 245760 * (kN + 1));
}

TEST(KvCompression, LayerSkipCutsEverythingInBothPhases) {
  // CALM/LayerSkip, half the layers: 30 layers run, so FLOPs, weight reads and KV all halve; weights stay resident.
  const CostModel cost(yi({.layer_skip_fraction = 0.5}), a100(), AttentionFlops::kFull);
  EXPECT_REL(cost.prefill(kN, 0).flops_per_gpu, base_prefill_flops(kN) / 2);             // P
  EXPECT_REL(cost.kv_bytes_per_token(), 30 * kLayerKv);                                  // 122880 B
  EXPECT_REL(cost.session_kv_bytes(kN, false), 30 * kLayerKv * kN);                      // written = kept
  EXPECT_REL(decode_step(cost, kN).hbm_bytes_per_gpu, 34e9 + 30 * kLayerKv * (kN + 1));  // D
  EXPECT_REL(cost.weight_bytes(), 68e9);
}

TEST(KvCompression, YocoKeepsOneGlobalKvAndSkipsTheCrossDecoderInPrefill) {
  // YOCO, window 1024: 30 self-decoder layers with a 1024-token window, 30 cross-decoder layers sharing one KV.
  const CostModel cost(yi({.yoco_window = 1024}), a100(), AttentionFlops::kFull);
  // KV at 50K: 1 x 4096 x 50000 + 30 x 4096 x 1024 = 204.8e6 + 125.83e6 B.
  EXPECT_REL(cost.session_kv_bytes(kN, true), kLayerKv * kN + 30 * kLayerKv * 1024);
  // The ledger's unit is what one more token adds inside the window: the global layer and 30 windowed ones. At 50K
  // it charges (4096 x 50000 + 30 x 4096 x 1024) / (31 x 4096) = 80720 / 31 = 2603.9 -> 2604 ledger tokens.
  EXPECT_REL(cost.kv_bytes_per_token(), 31 * kLayerKv);
  EXPECT_EQ(cost.ledger_tokens(std::int64_t(kN)), 2604);
  // P: self-decoder runs all 50000 tokens (dense 2P x 50000 x 30/60, window 50000 x 1024 keys), the
  // cross-decoder one token that sees all 50000: dense 2P x 1 x 30/60, attention 30 x 50000 keys.
  const double dense = 2 * kP * (kN * 30 + 30) / 60;
  const double attention = 2 * kWidth * (30 * kN * 1024 + 30 * 1 * kN);
  EXPECT_REL(cost.prefill(kN, 0).flops_per_gpu, dense + attention);
  // D: 30 cross layers read the global KV (50000 tokens), the new token is written once, 30 self layers read
  // their 1024-token window.
  EXPECT_REL(decode_step(cost, kN).hbm_bytes_per_gpu, 68e9 + 30 * kLayerKv * kN + kLayerKv + 30 * kLayerKv * 1024);
}

TEST(KvCompression, HeadPruningAfterPrefillLeavesPrefillAlone) {
  // Retrieval heads / Voita et al., keep 25% of KV heads after prefill.
  const CostModel base(yi(), a100(), AttentionFlops::kFull);
  const CostModel cost(yi({.head_keep_after_prefill = 0.25}), a100(), AttentionFlops::kFull);
  EXPECT_DOUBLE_EQ(cost.prefill(kN, 0).flops_per_gpu, base.prefill(kN, 0).flops_per_gpu);  // P unchanged
  EXPECT_DOUBLE_EQ(cost.prefill(kN, 0).seconds, base.prefill(kN, 0).seconds);
  EXPECT_DOUBLE_EQ(cost.session_kv_bytes(kN, false), 245760 * kN);  // the prefill step writes it all
  EXPECT_REL(cost.session_kv_bytes(kN, true), 245760 * 0.25 * kN);  // C, S: 3.072e9 B kept
  EXPECT_REL(cost.kv_bytes_per_token(), 61440);                     // the ledger sees the kept size
  // D: read 50000 kept tokens at 61440 B, write the new one at 245760 B; attention over 0.25 x 50000 + 1 keys.
  EXPECT_REL(decode_step(cost, kN).hbm_bytes_per_gpu, 68e9 + 61440 * kN + 245760);
  EXPECT_REL(cost.seq_flops({1, kN, true}), 2 * kP + 2.0 * 60 * kWidth * (0.25 * kN + 1));
  // A prefill step, whether a later chunk of the same prompt or a follow-up question, is charged the unpruned
  // cache: 100 new tokens over 50000 cached cost exactly what they cost uncompressed.
  EXPECT_DOUBLE_EQ(cost.seq_flops({100, kN}), base.seq_flops({100, kN}));
  const SeqWork chunk{8192, 40000};
  EXPECT_DOUBLE_EQ(cost.step(std::span<const SeqWork>(&chunk, 1)).seconds,
                   base.step(std::span<const SeqWork>(&chunk, 1)).seconds);
}

TEST(KvCompression, TokenDroppingAfterPrefillVsMergingDuringPrefill) {
  // H2O/FastGen keep 50% after prefill: P unchanged, KV halves once prefill is done.
  const CostModel h2o(yi({.token_keep_after_prefill = 0.5}), a100(), AttentionFlops::kFull);
  EXPECT_REL(h2o.prefill(kN, 0).flops_per_gpu, base_prefill_flops(kN));
  EXPECT_REL(h2o.session_kv_bytes(kN, true), 122880 * kN);
  EXPECT_REL(h2o.session_kv_bytes(kN, false), 245760 * kN);
  // DMC merges 4 tokens into one as it writes: KV and the attention keys shrink 4x in prefill too.
  const CostModel dmc(yi({.token_merge_ratio = 4}), a100(), AttentionFlops::kFull);
  EXPECT_REL(dmc.prefill(kN, 0).flops_per_gpu, 2 * kP * kN + 2.0 * 60 * kWidth * kN * kN / 4);
  EXPECT_REL(dmc.session_kv_bytes(kN, false), 61440 * kN);
  EXPECT_REL(dmc.prefill(kN, 0).hbm_bytes_per_gpu, 68e9 + 61440 * kN);
}

TEST(KvCompression, SnapKvReadsLessButStoresAll) {
  // SnapKV selects 25% of the cache per question: only the decode read shrinks; C and S keep the full KV.
  const CostModel cost(yi({.decode_read_fraction = 0.25}), a100(), AttentionFlops::kFull);
  EXPECT_REL(cost.session_kv_bytes(kN, true), 245760 * kN);
  EXPECT_REL(cost.prefill(kN, 0).flops_per_gpu, base_prefill_flops(kN));
  EXPECT_REL(decode_step(cost, kN).hbm_bytes_per_gpu, 68e9 + 245760 * (0.25 * kN + 1));
}

TEST(KvCompression, QuantizationLowRankAndDequantCost) {
  // KIVI 2-bit: 60 x 8 x 128 x 2 x 0.25 B = 30720 B per token (1/8 of bf16), in both phases.
  const CostModel kivi(yi({.kv_bits = 2, .dequant_flops_per_element = 3}), a100(), AttentionFlops::kFull);
  EXPECT_REL(kivi.kv_bytes_per_token(), 30720);
  EXPECT_REL(kivi.session_kv_bytes(kN, false), 30720 * kN);
  // D: the step reads 30720 x 50001 B = 4 x 30720 x 50001 elements, each dequantized at 3 FLOPs.
  EXPECT_REL(kivi.seq_flops({1, kN, true}), 2 * kP + 2.0 * 60 * kWidth * (kN + 1) + 3.0 * 4 * 30720 * (kN + 1));
  const CostModel low_rank(yi({.low_rank_ratio = 0.5}), a100(), AttentionFlops::kFull);
  EXPECT_REL(low_rank.kv_bytes_per_token(), 122880);
}

TEST(KvCompression, QuantizationGroupsAddTheirScaleAndZeroPoint) {
  // KIVI-2 in groups of 32: each group adds an fp16 scale and zero point, 32 bits over 32 elements, so an element
  // takes 2 + 1 = 3 bits: 60 x 8 x 128 x 2 x 3/8 B = 46080 B per token (3/16 of bf16), in both phases.
  const CostModel kivi(yi({.kv_bits = 2, .kv_group_size = 32, .dequant_flops_per_element = 3}), a100(),
                       AttentionFlops::kFull);
  EXPECT_REL(kivi.kv_bytes_per_token(), 46080);
  EXPECT_REL(kivi.session_kv_bytes(kN, false), 46080 * kN);
  // The metadata is read but not dequantized: the step still dequantizes 60 x 8 x 128 x 2 elements per token.
  EXPECT_REL(kivi.seq_flops({1, kN, true}), 2 * kP + 2.0 * 60 * kWidth * (kN + 1) + 3.0 * 122880 * (kN + 1));
  // C: (80e9 - 68e9) / (46080 x 50000) against / (245760 x 50000) is 16/3 the sessions.
  EXPECT_REL(analyze_peak(kivi, kN, 250).concurrency /
                 analyze_peak(CostModel(yi(), a100(), AttentionFlops::kFull), kN, 250).concurrency,
             16.0 / 3);
}

TEST(KvCompression, SlidingWindowStopsTheQuadraticTermAndTheKv) {
  // W = 4096 on all layers. Full-mode P: each of 50000 tokens sees min(50000, 4096) keys.
  const CostModel cost(yi({.window = 4096}), a100(), AttentionFlops::kFull);
  EXPECT_REL(cost.prefill(kN, 0).flops_per_gpu, 2 * kP * kN + 2.0 * 60 * kWidth * kN * 4096);
  EXPECT_REL(cost.session_kv_bytes(kN, true), 245760 * 4096);    // stops growing at W
  EXPECT_REL(cost.session_kv_bytes(1000, true), 245760 * 1000);  // grows below W
  // No layer grows, so the ledger charges the windowed KV per token (an over-count past W, never zero).
  EXPECT_REL(cost.kv_bytes_per_token(), 245760);
  // Causal: tokens 1..4096 see their position, the other 45904 see 4096: 4096 x 4097 / 2 + 45904 x 4096.
  const CostModel causal(yi({.window = 4096}), a100(), AttentionFlops::kCausal);
  EXPECT_REL(causal.prefill(kN, 0).flops_per_gpu,
             2 * kP * kN + 2.0 * 60 * kWidth * (4096.0 * 4097 / 2 + 45904.0 * 4096));
}

TEST(KvCompression, WindowOnHalfTheLayersKeepsTheOtherHalfGrowing) {
  // W = 4096 on 30 layers (Gemma-style interleaving), full attention on the other 30.
  const CostModel cost(yi({.window = 4096, .window_layer_fraction = 0.5}), a100(), AttentionFlops::kFull);
  // KV: 30 x 4096 B x 50000 + 30 x 4096 B x 4096. The ledger's unit is what a token adds inside the window, all 60
  // layers' 4096 B, so 50K charges (30 x 50000 + 30 x 4096) / 60 = 27048 ledger tokens.
  EXPECT_REL(cost.session_kv_bytes(kN, true), 30 * kLayerKv * kN + 30 * kLayerKv * 4096);
  EXPECT_REL(cost.kv_bytes_per_token(), 60 * kLayerKv);
  EXPECT_EQ(cost.ledger_tokens(std::int64_t(kN)), 27048);
  // P (full mode): 30 layers see 50000 keys per token, 30 see 4096.
  EXPECT_REL(cost.prefill(kN, 0).flops_per_gpu, 2 * kP * kN + 2.0 * kWidth * (30 * kN * kN + 30 * kN * 4096));
  // D: the full layers read 50000 tokens and write one; the windowed layers read their 4096.
  EXPECT_REL(decode_step(cost, kN).hbm_bytes_per_gpu, 68e9 + 30 * kLayerKv * (kN + 1) + 30 * kLayerKv * 4096);
}

TEST(KvCompression, LinearLayersHoldConstantState) {
  // Half the layers linear: 30 full layers grow, 30 hold 32 heads x 128 x 128 x 2 B = 1 MiB of state each.
  const CostModel cost(yi({.linear_layer_fraction = 0.5}), a100(), AttentionFlops::kFull);
  const double state = 32.0 * 128 * 128 * 2;
  EXPECT_REL(cost.session_kv_bytes(kN, true), 30 * kLayerKv * kN + 30 * state);
  EXPECT_REL(cost.kv_bytes_per_token(), 30 * kLayerKv);
  // P: 30 quadratic layers plus 30 linear ones at 4 x width x head_dim per token.
  EXPECT_REL(cost.prefill(kN, 0).flops_per_gpu,
             2 * kP * kN + 2.0 * 30 * kWidth * kN * kN + 4.0 * 30 * kWidth * 128 * kN);
}

TEST(KvCompression, SpeculativeDecodingTradesHbmForFewerTargetSteps) {
  // TriForce-like: a 68M draft proposes k = 4 tokens, accepted at 0.8, and keeps 4096 tokens of target KV.
  // Expected tokens per target step: (1 - 0.8^5) / (1 - 0.8) = 3.3616.
  const KvCompression c{.draft_tokens = 4, .acceptance = 0.8, .draft_params = 68e6, .draft_kv_tokens = 4096};
  EXPECT_REL(tokens_per_target_step(c), (1 - std::pow(0.8, 5)) / 0.2);
  const CostModel cost(yi(c), a100(), AttentionFlops::kFull);
  EXPECT_REL(cost.weight_bytes(), 68e9 + 136e6);                             // C: draft weights in HBM
  EXPECT_REL(cost.session_kv_bytes(kN, true), 245760 * kN + 245760 * 4096);  // C, S: draft KV per session
  EXPECT_REL(cost.prefill(kN, 0).flops_per_gpu, base_prefill_flops(kN));     // P untouched
  // D: verify 5 tokens (weights once, KV 50000 + 5 tokens) + 4 draft steps (136 MB + 4096 tokens of KV), all
  // memory-bound on this GPU, per 3.3616 generated tokens.
  const double verify = (68e9 + 245760 * (kN + 5)) / 2e12;
  const double draft = (136e6 + 245760 * 4096) / 2e12;
  EXPECT_REL(decode_step(cost, kN).seconds, (verify + 4 * draft) / tokens_per_target_step(c));
  EXPECT_LT(decode_step(cost, kN).seconds, decode_step(CostModel(yi(), a100(), AttentionFlops::kFull), kN).seconds);
}

TEST(KvCompression, WeightQuantizationFreesHbmAndSpeedsDecode) {
  // WKVQuant W4: 34e9 x 0.5 B = 17 GB resident and read per step; the KV stays bf16 unless kv_bits is set.
  const CostModel cost(yi({.weight_bits = 4}), a100(), AttentionFlops::kFull);
  EXPECT_REL(cost.weight_bytes(), 17e9);
  EXPECT_REL(cost.kv_capacity_bytes(), 80e9 - 17e9);
  EXPECT_REL(decode_step(cost, kN).hbm_bytes_per_gpu, 17e9 + 245760 * (kN + 1));
}

TEST(KvCompression, ConditionalComputationRoutesAFractionOfTokens) {
  // CoLT5: 25% of tokens take the heavy branch, the light branch costs 50% of a layer for every token.
  const CostModel cost(yi({.heavy_token_fraction = 0.25, .light_branch_cost = 0.5}), a100(), AttentionFlops::kFull);
  // P: dense 2P x 50000 x 0.75; heavy attention 12500 queries x 12500 keys.
  EXPECT_REL(cost.prefill(kN, 0).flops_per_gpu, 2 * kP * kN * 0.75 + 2.0 * 60 * kWidth * 12500 * 12500);
  EXPECT_REL(cost.session_kv_bytes(kN, true), 245760 * 0.25 * kN);  // heavy KV only
  // D: the cache holds 12500 heavy tokens of 4096 B per layer, read whole, and the new token writes a quarter of its
  // KV (the expected share of a routed token): 60 x 1024 x 50001 B beside the weights.
  EXPECT_REL(decode_step(cost, kN).hbm_bytes_per_gpu, 68e9 + 60 * 1024 * (kN + 1));
  // D FLOPs: dense 2P x 0.75; a quarter of a query attends to 12500 + 0.25 keys in each of 60 layers.
  EXPECT_REL(cost.seq_flops({1, kN, true}), 2 * kP * 0.75 + 2.0 * kWidth * 60 * 0.25 * (0.25 * kN + 0.25));
}

TEST(KvCompression, KvOfOneLayerSharedByAllKeepsComputeAndReads) {
  // Cross-layer sharing, 1 of 60 layers stores KV: the KV is 60x smaller in both phases, but every layer still
  // attends to (and reads) the whole context, so prefill FLOPs are unchanged.
  const CostModel cost(yi({.kv_layer_fraction = 1.0 / 60}), a100(), AttentionFlops::kFull);
  EXPECT_REL(cost.kv_bytes_per_token(), kLayerKv);
  EXPECT_REL(cost.session_kv_bytes(kN, false), kLayerKv * kN);
  EXPECT_REL(cost.prefill(kN, 0).flops_per_gpu, base_prefill_flops(kN));
  // D: 60 layers read 50000 tokens of the shared layer's KV; the new token is written once.
  EXPECT_REL(decode_step(cost, kN).hbm_bytes_per_gpu, 68e9 + 60 * kLayerKv * kN + kLayerKv);
}

TEST(KvCompression, StackedOneLayerTenPercentHeadsHalfTheTokens) {
  // The paper's "1 layer x 10 heads-worth x 50% tokens" (Sec. 3.1): KV of 1 layer of 60 (both phases), 10% of heads
  // and 50% of tokens kept after prefill. Kept KV per token: 4096 x 0.1 x 0.5 = 204.8 B, 1200x less than 245760.
  const CostModel cost(
      yi({.kv_layer_fraction = 1.0 / 60, .head_keep_after_prefill = 0.1, .token_keep_after_prefill = 0.5}), a100(),
      AttentionFlops::kFull);
  EXPECT_NEAR(cost.kv_bytes_per_token(), 204.8, 1e-9);
  EXPECT_NEAR(245760 / cost.kv_bytes_per_token(), 1200, 1e-9);
  EXPECT_NEAR(cost.session_kv_bytes(kN, false), 4096 * kN, 1e-3);         // prefill writes the one layer's full KV
  EXPECT_REL(cost.prefill(kN, 0).flops_per_gpu, base_prefill_flops(kN));  // P: pruning acts after prefill
  // Concurrency at 50K on 80 GB: (80e9 - 68e9) / (204.8 x 50000) = 1171.875 sessions.
  EXPECT_NEAR(analyze_peak(cost, kN, 250).concurrency, 12e9 / (204.8 * kN), 1e-6);
  // Adding CALM-style skipping of the other 59 layers also cuts P to 1/60.
  const CostModel skip(
      yi({.layer_skip_fraction = 59.0 / 60, .head_keep_after_prefill = 0.1, .token_keep_after_prefill = 0.5}), a100(),
      AttentionFlops::kFull);
  EXPECT_NEAR(skip.kv_bytes_per_token(), 204.8, 1e-9);
  EXPECT_NEAR(skip.prefill(kN, 0).flops_per_gpu, base_prefill_flops(kN) / 60, base_prefill_flops(kN) * 1e-12);
}

TEST(KvCompression, TheLedgerChargesWhatTheKvHolds) {
  // Uncompressed: one ledger token per token, nothing extra during prefill.
  const CostModel base(yi(), a100(), AttentionFlops::kFull);
  EXPECT_EQ(base.ledger_tokens(50000), 50000);
  EXPECT_EQ(base.prefill_extra_tokens(0, 50000), 0);
  // Linear layers, half: 30 growing layers (unit 30 x 4096 B) plus 30 constant states of 32 heads x 128 x 128 x 2 B
  // = 1048576 B each, 31457280 B = 256 ledger tokens: 50000 + 256.
  const CostModel linear(yi({.linear_layer_fraction = 0.5}), a100(), AttentionFlops::kFull);
  EXPECT_REL(linear.kv_bytes_per_token(), 30 * kLayerKv);
  EXPECT_EQ(linear.ledger_tokens(50000), 50256);
  // Sliding window of 4096 on every layer: the KV stops at 4096 tokens.
  const CostModel window(yi({.window = 4096}), a100(), AttentionFlops::kFull);
  EXPECT_EQ(window.ledger_tokens(100), 100);
  EXPECT_EQ(window.ledger_tokens(50000), 4096);
  // Heads kept 25% after prefill: unit 61440 B (kept); a 50000-token prefill also holds the pruned 75%, 3 x 50000
  // ledger tokens, until it ends. A round of prefill end 50001 and end 50250 peaks at 4 x 50001 = 200004.
  const CostModel heads(yi({.head_keep_after_prefill = 0.25}), a100(), AttentionFlops::kFull);
  EXPECT_REL(heads.kv_bytes_per_token(), 0.25 * 245760);
  EXPECT_EQ(heads.ledger_tokens(50000), 50000);
  EXPECT_EQ(heads.prefill_extra_tokens(0, 50000), 150000);
  EXPECT_EQ(heads.prefill_extra_tokens(10000, 50000), 120000);
  EXPECT_EQ(heads.peak_ledger_tokens(50001, 50250), 200004);
  // TriForce's draft cache, 4096 tokens of the target's KV shape: 4096 x 245760 B on top, 4096 ledger tokens.
  const CostModel draft(yi({.draft_tokens = 4, .acceptance = 0.8, .draft_params = 68e6, .draft_kv_tokens = 4096}),
                        a100(), AttentionFlops::kFull);
  EXPECT_REL(draft.kv_bytes_per_token(), 2 * 245760.0);  // inside the draft window both grow
  EXPECT_EQ(draft.ledger_tokens(50000), 25000 + 2048);   // (50000 + 4096) x 245760 / (2 x 245760)
}

TEST(KvCompression, ValidationNamesTheKnob) {
  EXPECT_EQ(validate_compression({}), "");
  EXPECT_EQ(validate_compression({.kv_layer_fraction = 0}).rfind("layer.kv_fraction:", 0), 0u);
  EXPECT_EQ(validate_compression({.kv_bits = 3}).rfind("hidden.kv_bits:", 0), 0u);
  EXPECT_EQ(validate_compression({.kv_group_size = 32}).rfind("hidden.kv_group_size:", 0), 0u);
  EXPECT_EQ(validate_compression({.kv_bits = 2, .kv_group_size = -1}).rfind("hidden.kv_group_size:", 0), 0u);
  EXPECT_EQ(validate_compression({.token_merge_ratio = 0.5}).rfind("token.merge_ratio:", 0), 0u);
  EXPECT_EQ(validate_compression({.yoco_window = 1024, .window = 4096}).rfind("layer.yoco_window:", 0), 0u);
  EXPECT_EQ(validate_compression({.window = 4096, .linear_layer_fraction = 0.5}).rfind("attention.linear", 0), 0u);
  EXPECT_EQ(validate_compression({.draft_tokens = 4, .acceptance = 1}).rfind("speculative.acceptance:", 0), 0u);
}

}  // namespace
}  // namespace kvsim
