// The cost model beyond the paper's example: MoE, MLA, KV quantization, tensor parallelism and the roofline,
// each against values worked out by hand in the comments.
#include <gtest/gtest.h>

#include "engine/cost_model.hpp"
#include "sim/catalog.hpp"

namespace kvsim {
namespace {

const Catalog& catalog() {
  static const Catalog c = Catalog::load(KVSIM_PLATFORMS_DIR);
  return c;
}

Deployment simple_gpu(double flops, double bw, int tp = 1) {
  Deployment d;
  d.gpu.flops_bf16 = flops;
  d.gpu.hbm_bandwidth = bw;
  d.gpu.hbm_capacity = 80e9;
  d.gpu.nvlink.bandwidth = 300e9;
  d.host_link.bandwidth = 20e9;
  d.tensor_parallel = tp;
  return d;
}

TEST(CostModel, KvQuantizationScalesKvBytes) {
  ModelSpec m = catalog().model("yi-34b-200k");
  EXPECT_DOUBLE_EQ(kv_bytes_per_token(m), 60.0 * 8 * 128 * 2 * 2);  // 245760 B, bf16
  for (auto [t, bytes] : {std::pair{DType::kFp8, 1.0}, std::pair{DType::kInt4, 0.5}, std::pair{DType::kInt2, 0.25}}) {
    m.kv_dtype = t;
    EXPECT_DOUBLE_EQ(kv_bytes_per_token(m), 60.0 * 8 * 128 * 2 * bytes);
  }
  m.kv_dtype = DType::kBf16;
  m.weights_dtype = DType::kFp8;
  EXPECT_DOUBLE_EQ(weight_bytes(m), 34e9);  // fp8 weights: one byte per parameter
}

TEST(CostModel, MqaAndMhaKv) {
  ModelSpec m = catalog().model("llama-2-7b");  // MHA: 32 kv heads
  EXPECT_DOUBLE_EQ(kv_bytes_per_token(m), 32.0 * 32 * 128 * 2 * 2);  // 524288 B = 0.5 MiB per token
  m.num_kv_heads = 1;                                                 // MQA
  EXPECT_DOUBLE_EQ(kv_bytes_per_token(m), 32.0 * 1 * 128 * 2 * 2);
}

TEST(CostModel, MlaCachesTheLatentOnly) {
  const ModelSpec m = catalog().model("deepseek-v2");
  // 60 layers x (kv_lora_rank 512 + rope 64) x 2 bytes = 69120 B per token, no K/V pair.
  EXPECT_DOUBLE_EQ(kv_bytes_per_token(m), 60.0 * (512 + 64) * 2);
}

TEST(CostModel, MoeReadsOnlyRoutedExperts) {
  const ModelSpec m = catalog().model("mixtral-8x7b");  // 46.7B total, 12.9B active, 8 experts, top-2
  const double per_expert = (46.7e9 - 12.9e9) / 6;       // 5.633e9 parameters per expert (all layers)
  const double dense = 46.7e9 - 8 * per_expert;          // 1.633e9 shared parameters
  EXPECT_NEAR(weight_bytes(m), 46.7e9 * 2, 1);
  // One token touches exactly 2 experts: the active parameters.
  EXPECT_NEAR(weight_bytes_read(m, 1), 12.9e9 * 2, 1e3);
  // Two tokens touch 8 x (1 - (6/8)^2) = 3.5 experts in expectation.
  EXPECT_NEAR(weight_bytes_read(m, 2), (dense + 3.5 * per_expert) * 2, 1e3);
  // A long prefill touches every expert.
  EXPECT_NEAR(weight_bytes_read(m, 4096), weight_bytes(m), 1e3);
  // FLOPs follow the active parameters: 2 x 12.9e9 per token plus attention.
  const CostModel cost(m, simple_gpu(1e15, 2e12));
  EXPECT_NEAR(cost.seq_flops({1, 0, true}), 2 * 12.9e9 + 2.0 * 32 * 4096 * 1, 1);
}

TEST(CostModel, RooflinePicksTheBindingResource) {
  const CostModel cost(catalog().model("yi-34b-200k"), simple_gpu(312e12, 2e12));
  // A decode step of 1 token at 50K context: 92.6 GFLOP vs 80.3 GB -> memory-bound, 40.1 ms.
  const SeqWork decode{1, 50000, true};
  const auto d = cost.step(std::span<const SeqWork>(&decode, 1));
  EXPECT_EQ(d.bound, Bound::kMemory);
  EXPECT_NEAR(d.seconds, (68e9 + 245760.0 * 50001) / 2e12, 1e-12);
  // A 4K prefill: 279.9 TFLOP vs 69 GB -> compute-bound.
  EXPECT_EQ(cost.prefill(4000, 0).bound, Bound::kCompute);
}

TEST(CostModel, BatchReadsWeightsOnce) {
  const CostModel cost(catalog().model("yi-34b-200k"), simple_gpu(312e12, 2e12));
  const std::vector<SeqWork> batch{{1, 1000, true}, {1, 3000, true}};
  const auto s = cost.step(batch);
  EXPECT_DOUBLE_EQ(s.hbm_bytes_per_gpu, 68e9 + 245760.0 * (1001 + 3001));
  EXPECT_DOUBLE_EQ(s.flops_per_gpu, cost.seq_flops({1, 1000, true}) + cost.seq_flops({1, 3000, true}));
}

TEST(CostModel, TensorParallelSplitsWorkAndAddsAllReduce) {
  const ModelSpec m = catalog().model("yi-34b-200k");
  const CostModel one(m, simple_gpu(312e12, 2e12, 1));
  const CostModel four(m, simple_gpu(312e12, 2e12, 4));
  const SeqWork w{100, 1000};
  const auto s1 = one.step(std::span<const SeqWork>(&w, 1));
  const auto s4 = four.step(std::span<const SeqWork>(&w, 1));
  EXPECT_DOUBLE_EQ(s4.flops_per_gpu, s1.flops_per_gpu / 4);
  EXPECT_DOUBLE_EQ(s4.hbm_bytes_per_gpu, s1.hbm_bytes_per_gpu / 4);
  EXPECT_EQ(s1.nvlink_bytes_per_gpu, 0);
  // 2 all-reduces per layer of 100 tokens x 7168 x 2 bytes, ring: 2 (N-1)/N of the payload per GPU.
  EXPECT_DOUBLE_EQ(s4.nvlink_bytes_per_gpu, 2.0 * 60 * 100 * 7168 * 2 * 2 * 3 / 4);
}

TEST(CostModel, CausalAttentionCountsHalfTheSquare) {
  const ModelSpec m = catalog().model("yi-34b-200k");
  const CostModel full(m, simple_gpu(312e12, 2e12), AttentionFlops::kFull);
  const CostModel causal(m, simple_gpu(312e12, 2e12), AttentionFlops::kCausal);
  const double width = 32 * 128;
  EXPECT_DOUBLE_EQ(full.seq_flops({1000, 0}), 1000 * 68e9 + 2.0 * 60 * width * 1000 * 1000);
  EXPECT_DOUBLE_EQ(causal.seq_flops({1000, 0}), 1000 * 68e9 + 2.0 * 60 * width * 1000 * 500.5);
  // Causal counting is additive over chunks: two chunks of 500 cost the same as one of 1000.
  EXPECT_NEAR(causal.seq_flops({500, 0}) + causal.seq_flops({500, 500}), causal.seq_flops({1000, 0}), 1);
}

TEST(CostModel, EfficienciesScaleTime) {
  Deployment d = simple_gpu(312e12, 2e12);
  d.compute_efficiency = 0.7;
  const CostModel cost(catalog().model("yi-34b-200k"), d, AttentionFlops::kFull);  // 4.6288e15 is Eq. 7
  EXPECT_NEAR(cost.prefill(50000, 0).seconds, 4.6288e15 / (312e12 * 0.7), 1e-9);
}

}  // namespace
}  // namespace kvsim
