// The compute dtype sets the compute peak (issue 19, item 5): FP8 weights on a GPU with FP8 tensor cores compute in
// FP8 at the catalog's FP8 peak, on one without them (A100) in bf16, and an explicit dtype the GPU lacks is refused
// naming the key, the value and the dtypes the GPU has.
#include <gtest/gtest.h>

#include <span>

#include "engine/cost_model.hpp"
#include "engine/peak_analysis.hpp"
#include "sim/scenario.hpp"
#include "tests/unit/paper_deployment.hpp"

namespace kvsim {
namespace {

const Catalog& catalog() {
  return paper_test::catalog();
}

ModelSpec yi(DType weights) {
  ModelSpec m = catalog().model("yi-34b-200k");
  m.weights_dtype = weights;
  return m;
}

Deployment on(const std::string& gpu, DType weights) {
  Deployment d;
  d.gpu = catalog().gpu(gpu);
  d.host_link = d.gpu.host_link;
  d.compute_dtype = *choose_compute_dtype("auto", weights, d.gpu);
  return d;
}

TEST(ComputeDtype, AutoPicksFp8WhereTheGpuHasIt) {
  EXPECT_EQ(choose_compute_dtype("auto", DType::kFp8, catalog().gpu("h100-sxm")), DType::kFp8);
  EXPECT_EQ(choose_compute_dtype("auto", DType::kBf16, catalog().gpu("h100-sxm")), DType::kBf16);
  // Weight-only int4 dequantizes to 16 bits; fp4 weights compute in fp4 on Blackwell only.
  EXPECT_EQ(choose_compute_dtype("auto", DType::kInt4, catalog().gpu("b200")), DType::kBf16);
  EXPECT_EQ(choose_compute_dtype("auto", DType::kFp4, catalog().gpu("b200")), DType::kFp4);
  EXPECT_EQ(choose_compute_dtype("auto", DType::kFp4, catalog().gpu("h100-sxm")), DType::kBf16);
  // The A100 has no FP8 tensor cores: FP8 weights fall back to bf16 compute (W8A16), and asking for fp8 is refused.
  EXPECT_EQ(choose_compute_dtype("auto", DType::kFp8, catalog().gpu("a100-sxm-80g")), DType::kBf16);
  EXPECT_EQ(choose_compute_dtype("fp8", DType::kFp8, catalog().gpu("a100-sxm-80g")), std::nullopt);
  EXPECT_EQ(compute_dtype_names(catalog().gpu("a100-sxm-80g")), "bf16, fp16, int8");
  EXPECT_EQ(choose_compute_dtype("int8", DType::kInt8, catalog().gpu("a100-sxm-80g")), DType::kInt8);
}

// A 50K prefill is compute-bound on an H100 in both dtypes and its FLOPs do not depend on the dtype, so FP8 takes
// the bf16 time x 989.4 / 1978.9 (the catalog's dense peaks), just under half.
TEST(ComputeDtype, Fp8HalvesComputeBoundPrefillOnH100) {
  const CostModel bf16(yi(DType::kBf16), on("h100-sxm", DType::kBf16));
  const CostModel fp8(yi(DType::kFp8), on("h100-sxm", DType::kFp8));
  const StepCost a = bf16.prefill(50000, 0), b = fp8.prefill(50000, 0);
  ASSERT_EQ(a.bound, Bound::kCompute);
  ASSERT_EQ(b.bound, Bound::kCompute);
  EXPECT_DOUBLE_EQ(a.flops_per_gpu, b.flops_per_gpu);
  EXPECT_NEAR(b.seconds / a.seconds, 989.4 / 1978.9, 1e-12);
  EXPECT_NEAR(a.seconds, a.flops_per_gpu / 989.4e12, 1e-12 * a.seconds);
  // The critical intensity (Eq. 5) doubles with the peak.
  EXPECT_NEAR(fp8.critical_intensity() / bf16.critical_intensity(), 1978.9 / 989.4, 1e-12);
  // analyze reports the peak it used.
  const PeakReport r = analyze_peak(fp8, 50000, 250);
  EXPECT_EQ(r.compute_dtype, "fp8");
  EXPECT_DOUBLE_EQ(r.peak_flops, 1978.9e12);
  EXPECT_EQ(r.attention_flops, "causal");
}

// On the A100, FP8 weights halve the weight bytes (decode reads 34 GB, not 68) but prefill stays at bf16's 312T.
TEST(ComputeDtype, Fp8WeightsOnA100KeepTheBf16Peak) {
  const CostModel bf16(yi(DType::kBf16), on("a100-sxm-80g", DType::kBf16));
  const CostModel fp8(yi(DType::kFp8), on("a100-sxm-80g", DType::kFp8));
  EXPECT_EQ(fp8.deployment().compute_dtype, DType::kBf16);
  EXPECT_DOUBLE_EQ(fp8.prefill(50000, 0).seconds, bf16.prefill(50000, 0).seconds);
  EXPECT_DOUBLE_EQ(fp8.weight_bytes(), 34e9);
}

std::string scenario_text(const std::string& gpu, const std::string& model_extra) {
  return "model:\n  catalog: yi-34b-200k\n" + model_extra + "hardware:\n  gpu: " + gpu +
         "\nworkload:\n  arrival: {type: closed, users: 1}\n";
}

TEST(ComputeDtype, ScenarioPicksThePeak) {
  const Scenario h100 =
      load_scenario_text(scenario_text("h100-sxm", "  weights_dtype: fp8\n"), "fp8.yaml", {}, catalog());
  EXPECT_EQ(h100.compute_dtype, "auto");
  EXPECT_EQ(h100.deployment.compute_dtype, DType::kFp8);
  EXPECT_DOUBLE_EQ(h100.deployment.peak_flops(), 1978.9e12);
  const Scenario a100 =
      load_scenario_text(scenario_text("a100-sxm-80g", "  weights_dtype: fp8\n"), "fp8.yaml", {}, catalog());
  EXPECT_EQ(a100.deployment.compute_dtype, DType::kBf16);
  EXPECT_DOUBLE_EQ(a100.deployment.peak_flops(), 312e12);
  // An override gives a GPU the peak it lacks, and compute_dtype can then use it.
  const Scenario forced = load_scenario_text(scenario_text("a100-sxm-80g", "  compute_dtype: fp8\n"), "x.yaml",
                                             {"hardware.gpu.flops_fp8=624Tf"}, catalog());
  EXPECT_DOUBLE_EQ(forced.deployment.peak_flops(), 624e12);
}

TEST(ComputeDtype, ScenarioRefusesADtypeTheGpuLacks) {
  try {
    load_scenario_text(scenario_text("a100-sxm-80g", "  weights_dtype: fp8\n  compute_dtype: fp8\n"), "a.yaml", {},
                       catalog());
    FAIL() << "fp8 compute on an A100 was accepted";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("a.yaml:4:18: model.compute_dtype"), std::string::npos) << msg;
    EXPECT_NE(msg.find("lists no fp8 peak"), std::string::npos) << msg;
    EXPECT_NE(msg.find("it has bf16, fp16, int8"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace kvsim
