// A prefill's FLOPs and compute-bound time do not depend on how chunked prefill splits it (issue 19, item 4), for
// both attention counts and with the knobs that change the attention term; and `full` of one whole prefill is the
// paper's Eq. 7. The deployment is the paper's A100 (312 TFLOP/s, 2 TB/s) at TP 4 over 300 GB/s NVLink, on which
// every chunk of 1000 tokens or more of Yi-34B is compute-bound, so chunked time sums to one chunk's time; a 1-token
// chunk is memory-bound (it reads all 68 GB of weights for one token), and the roofline says so.
#include <gtest/gtest.h>

#include <cmath>
#include <span>
#include <string>

#include "engine/cost_model.hpp"
#include "tests/unit/paper_deployment.hpp"
#include "tests/unit/scheduler_rig.hpp"

namespace kvsim {
namespace {

constexpr double kTp = 4;
constexpr double kWidth = 4096;  // Yi-34B's attention width, 32 heads x 128
// Sums of a hundred doubles carry ~1e-14 of rounding; 1e-12 leaves room for it and nothing else.
constexpr double kRel = 1e-12;

Deployment tp4() {
  Deployment d = paper_test::paper_a100();
  d.tensor_parallel = int(kTp);
  d.gpu.nvlink.bandwidth = 300e9;  // NVLink3 per direction
  return d;
}

ModelSpec yi(const KvCompression& c = {}) {
  ModelSpec m = paper_test::catalog().model("yi-34b-200k");
  m.compression = c;
  return m;
}

// One step of a prefill chunk alone on the replica, as the scheduler describes it.
StepCost chunk_step(const CostModel& cost, double n, double done, double k) {
  const SeqWork w{k, done, false, done, done + k == n};
  return cost.step(std::span<const SeqWork>(&w, 1));
}

// A prefill of n tokens on an empty cache in chunks of `chunk` tokens (the last one shorter): summed FLOPs and
// seconds, and the last chunk's step.
struct Chunked {
  double flops = 0;
  double seconds = 0;
  StepCost last;
  int memory_bound = 0;
};

Chunked chunked(const CostModel& cost, double n, double chunk) {
  Chunked r;
  for (double done = 0; done < n; done += chunk) {
    r.last = chunk_step(cost, n, done, std::min(chunk, n - done));
    r.flops += r.last.flops_per_gpu;
    r.seconds += r.last.seconds;
    if (r.last.bound != Bound::kCompute) ++r.memory_bound;
  }
  return r;
}

struct Variant {
  std::string name;
  KvCompression knobs;
};

class PrefillChunking : public testing::TestWithParam<std::tuple<AttentionFlops, Variant>> {
 protected:
  CostModel cost() const { return CostModel(yi(std::get<1>(GetParam()).knobs), tp4(), std::get<0>(GetParam())); }
};

// 128K in chunks of 1K and 4K: every chunk is compute-bound, so FLOPs and time both sum to one chunk's.
TEST_P(PrefillChunking, PowerOfTwoChunksSumToOneChunk) {
  const CostModel c = cost();
  const double n = 131072;
  const StepCost whole = c.prefill(n, 0);
  ASSERT_EQ(whole.bound, Bound::kCompute);
  for (double chunk : {1024.0, 4096.0}) {
    const Chunked sum = chunked(c, n, chunk);
    EXPECT_EQ(sum.memory_bound, 0) << chunk;
    EXPECT_NEAR(sum.flops, whole.flops_per_gpu, kRel * whole.flops_per_gpu) << chunk;
    EXPECT_NEAR(sum.seconds, whole.seconds, kRel * whole.seconds) << chunk;
  }
}

// 129001 = 43 x 3000 + 1 tokens: the last chunk is a single prompt token, still charged as prefill. FLOPs sum to
// one chunk's; so does time, except that the 1-token step is memory-bound and takes its weight-read time instead
// of its compute time.
TEST_P(PrefillChunking, OddChunksLeavingOneTokenSumToOneChunk) {
  const CostModel c = cost();
  const double n = 43 * 3000 + 1;
  const StepCost whole = c.prefill(n, 0);
  const Chunked sum = chunked(c, n, 3000);
  EXPECT_NEAR(sum.flops, whole.flops_per_gpu, kRel * whole.flops_per_gpu);
  ASSERT_EQ(sum.memory_bound, 1);
  ASSERT_EQ(sum.last.bound, Bound::kMemory);
  const Deployment& d = c.deployment();
  const double last_compute_s = sum.last.flops_per_gpu / (d.peak_flops() * d.compute_efficiency);
  EXPECT_NEAR(sum.seconds - sum.last.seconds + last_compute_s, whole.seconds, kRel * whole.seconds);
}

INSTANTIATE_TEST_SUITE_P(
    AttentionAndKnobs, PrefillChunking,
    testing::Combine(testing::Values(AttentionFlops::kFull, AttentionFlops::kCausal),
                     testing::Values(Variant{"plain", {}}, Variant{"window4096", {.window = 4096}},
                                     Variant{"halfwindow", {.window = 4096, .window_layer_fraction = 0.5}},
                                     Variant{"yoco1024", {.yoco_window = 1024}},
                                     Variant{"dmc_colt5", {.token_merge_ratio = 4, .heavy_token_fraction = 0.25}},
                                     Variant{"linear", {.linear_layer_fraction = 0.5}})),
    [](const auto& info) {
      return attention_flops_name(std::get<0>(info.param)) + "_" + std::get<1>(info.param).name;
    });

// Full attention of one whole prefill is the paper's Eq. 7: n x (2 x 34B + 2 x 60 x n x 4096), split over 4 GPUs.
TEST(PrefillChunkingFull, OneWholePrefillIsEq7) {
  const CostModel full(yi(), tp4(), AttentionFlops::kFull);
  for (double n : {50000.0, 131072.0}) {
    EXPECT_DOUBLE_EQ(full.prefill(n, 0).flops_per_gpu * kTp, n * (2 * 34e9 + 2.0 * 60 * n * kWidth)) << n;
  }
}

// The chunk [p, p + k) of a prefill that started on an empty cache is charged its growth of Eq. 7's n^2,
// (p + k)^2 - p^2 = k (2p + k) pairs; causal charges k p + k (k + 1) / 2. Both are checked on one chunk by hand.
TEST(PrefillChunkingFull, OneChunkByHand) {
  const CostModel full(yi(), tp4(), AttentionFlops::kFull);
  const CostModel causal(yi(), tp4(), AttentionFlops::kCausal);
  const double p = 5000, k = 1000, dense = k * 68e9;
  EXPECT_DOUBLE_EQ(chunk_step(full, 10000, p, k).flops_per_gpu * kTp, dense + 2.0 * 60 * kWidth * k * (2 * p + k));
  EXPECT_DOUBLE_EQ(chunk_step(causal, 10000, p, k).flops_per_gpu * kTp,
                   dense + 2.0 * 60 * kWidth * (k * p + k * (k + 1) / 2));
}

// A decode step is the same in both counts (the new token sees the cache and itself), and differs from a 1-token
// prefill chunk, which in `full` is also charged the earlier prompt queries against its key.
TEST(PrefillChunkingFull, DecodeIsNotAOneTokenChunk) {
  const CostModel full(yi(), tp4(), AttentionFlops::kFull);
  const CostModel causal(yi(), tp4(), AttentionFlops::kCausal);
  const double p = 50000;
  const SeqWork decode{1, p, true};
  EXPECT_DOUBLE_EQ(full.seq_flops(decode), 68e9 + 2.0 * 60 * kWidth * (p + 1));
  EXPECT_DOUBLE_EQ(causal.seq_flops(decode), full.seq_flops(decode));
  EXPECT_DOUBLE_EQ(full.seq_flops({1, p, false, p, true}), 68e9 + 2.0 * 60 * kWidth * (2 * p + 1));
  EXPECT_DOUBLE_EQ(causal.seq_flops({1, p, false, p, true}), full.seq_flops(decode));
}

// A follow-up question of q tokens on a cached context of c tokens: one chunk is charged q (c + q) pairs in `full`
// (Eq. 7 generalised), and chunks of it add up to that, not to the growth of a prefill of the whole context.
TEST(PrefillChunkingFull, FollowUpPrefillChunksSumToOneChunk) {
  const CostModel full(yi(), tp4(), AttentionFlops::kFull);
  const double c = 50350, q = 3000;
  const double whole = full.seq_flops({q, c});
  EXPECT_DOUBLE_EQ(whole, q * 68e9 + 2.0 * 60 * kWidth * q * (c + q));
  double sum = 0;
  for (double done = 0; done < q; done += 1024) {
    const double k = std::min(1024.0, q - done);
    sum += full.seq_flops({k, c + done, false, done, done + k == q});
  }
  EXPECT_NEAR(sum, whole, kRel * whole);
}

// The scheduler describes its chunks so: a 9-token prompt under a 4-token budget runs as chunks of 4, 4 and 1 on the
// tiny replica (1 layer, width 8, 1000 parameters), the 1-token chunk counted as prefill, not decode. Their prefill
// FLOPs add up to one whole prefill's: full 9 x 2000 + 16 x 9 x 9 = 19296, causal 9 x 2000 + 16 x 9 x 10 / 2 = 18720.
TEST(PrefillChunkingScheduler, ChunksOfARoundAddUpToItsPrefill) {
  using scheduler_test::Rig;
  for (auto [attention, expected] : {std::pair{AttentionFlops::kFull, 19296.0}, {AttentionFlops::kCausal, 18720.0}}) {
    Rig r(scheduler_test::tiny_model(), scheduler_test::tiny_gpu(10), 4, attention);
    r.arrive(1, 0, 9, 2, true);
    EXPECT_EQ(r.finish(1), 4);  // 3 prefill chunks and 1 decode step
    ASSERT_EQ(r.sink.steps.size(), 4u);
    double prefill = 0;
    for (int i = 0; i < 3; ++i) {
      prefill += r.sink.steps[i].prefill_flops;
      EXPECT_EQ(r.sink.steps[i].decode_flops, 0) << i;
    }
    EXPECT_EQ(r.sink.steps[2].prefill_tokens, 1);
    EXPECT_DOUBLE_EQ(prefill, expected);
    EXPECT_DOUBLE_EQ(prefill, r.cost.seq_flops({9, 0}));
  }
}

}  // namespace
}  // namespace kvsim
