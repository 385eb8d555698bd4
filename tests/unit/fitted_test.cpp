// The fitted step model: the NNLS solver on hand-solved cases, the fit recovering coefficients it generated, the
// step model's time against its formula worked out by hand, and the coefficient file.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "engine/cost/fitted.hpp"
#include "engine/cost/nnls.hpp"
#include "engine/cost/step_model.hpp"
#include "sim/catalog.hpp"
#include "sim/cli/calibrate_cmd.hpp"
#include "sim/diagnostics.hpp"
#include "sim/fitted_file.hpp"

namespace kvsim {
namespace {

DenseMatrix three_by_two() {
  DenseMatrix a(3, 2);
  a(0, 0) = 1;
  a(1, 1) = 1;
  a(2, 0) = 1;
  a(2, 1) = 1;
  return a;
}

// A = [1 0; 0 1; 1 1], b = (1, 2, 4): A'A = [2 1; 1 2], A'b = (5, 6), x = [2 -1; -1 2] / 3 x (5, 6) = (4/3, 7/3),
// both positive, so NNLS gives the unconstrained solution.
TEST(Nnls, HandSolvedThreeByTwo) {
  const auto x = nnls(three_by_two(), {1, 2, 4});
  ASSERT_EQ(x.size(), 2u);
  EXPECT_NEAR(x[0], 4.0 / 3.0, 1e-14);
  EXPECT_NEAR(x[1], 7.0 / 3.0, 1e-14);
}

// b = (-1, 2, 1): unconstrained A'b = (0, 3), x = (-1, 2). With x >= 0 the first hits zero; the second then fits
// column (0, 1, 1) to b alone: x2 = (2 + 1) / 2 = 1.5. KKT: the residual (-1, 0.5, -0.5) gives the first column a
// gradient of -1 - 0.5 = -1.5 < 0, so x1 = 0 is optimal.
TEST(Nnls, CoefficientAtTheZeroBound) {
  const auto x = nnls(three_by_two(), {-1, 2, 1});
  EXPECT_EQ(x[0], 0.0);
  EXPECT_NEAR(x[1], 1.5, 1e-14);
}

// Two identical columns: the second adds nothing once the first is in, so it stays at zero.
TEST(Nnls, CollinearColumnKeepsTheFirst) {
  DenseMatrix a(3, 2);
  for (std::size_t i = 0; i < 3; ++i) a(i, 0) = a(i, 1) = double(i + 1);
  const auto x = nnls(a, {2, 4, 6});
  EXPECT_NEAR(x[0], 2.0, 1e-14);
  EXPECT_EQ(x[1], 0.0);
}

const Catalog& catalog() {
  static const Catalog c = Catalog::load(KVSIM_PLATFORMS_DIR);
  return c;
}

Deployment on(const std::string& gpu, int tp) {
  Deployment d;
  d.gpu = catalog().gpu(gpu);
  d.tensor_parallel = tp;
  return d;
}

constexpr std::array<double, kFeatureCount> kCoef{1.5, 1.2, 0.3, 2.0, 1.1, 1.3, 2.6, 10e-6, 50e-6, 3e-6};

// Steps timed by the model itself with known coefficients, on three models so that the weight read, the per-layer
// and the per-step overheads are told apart (constant on each dense model; 32 and 80 layers, and an MoE whose
// weight read grows with the tokens): the fit must give them back to rounding (NNLS is exact on consistent data;
// 1e-9 leaves room for the QR's rounding on columns scaled over eight decades).
TEST(FittedModel, FitRecoversTheCoefficientsThatMadeTheSteps) {
  FittedCoefficients truth;
  truth.coef = kCoef;
  std::vector<TrainingStep> steps;
  for (const char* model : {"llama-3.1-8b", "llama-3-70b", "mixtral-8x7b"}) {
    const CostModel cost(catalog().model(model), on("h100-sxm", 1));
    const auto shapes = training_shapes(16384);
    const auto more = cli::measure_steps(
        cost, shapes, [&](std::span<const SeqWork> b) { return truth.seconds(step_features(cost, b)); });
    steps.insert(steps.end(), more.begin(), more.end());
  }
  const FittedCoefficients fit = cli::calibrate_steps(steps);
  for (std::size_t k = 0; k < kFeatureCount; ++k) {
    EXPECT_NEAR(fit.coef[k] / kCoef[k], 1.0, 1e-9) << feature_names()[k];
  }
  EXPECT_LT(fit.error.all.max, 1e-9);
  EXPECT_EQ(fit.error.all.steps, steps.size());
}

// A toy model small enough to work its features out by hand.
ModelSpec toy_model() {
  ModelSpec m;
  m.name = "toy";
  m.layers = 2;
  m.hidden_size = 8;
  m.num_attention_heads = 2;
  m.num_kv_heads = 1;
  m.head_dim = 4;
  m.intermediate_size = 16;
  m.vocab_size = 32;
  m.params = m.params_active = 1e6;
  return m;
}

Deployment toy_gpu(int tp) {
  Deployment d;
  d.gpu.flops_bf16 = 1e12;
  d.gpu.hbm_bandwidth = 1e9;
  d.gpu.hbm_capacity = 80e9;
  d.gpu.nvlink.bandwidth = 300e9;
  d.tensor_parallel = tp;
  d.compute_efficiency = 0.5;  // not used: the features are at the datasheet peaks
  return d;
}

// The fitted time of one step of a 100-token prefill chunk (no history) and one decode at 1000 tokens of context,
// on the toy model (2 layers, width 2 x 4 = 8, KV 2 layers x 1 head x 4 x 2 (K, V) x 2 bytes = 32 B per token,
// 2 MB of bf16 weights) at 1 TFLOP/s and 1 GB/s per GPU, over `tp` GPUs (each feature divided by tp but the
// overheads), then the all-reduce: 2 per layer of 101 tokens x 8 x 2 bytes, ring 2 (tp - 1) / tp, at 300 GB/s.
double toy_step_seconds(int tp, double* memory) {
  const double gemm_compute = 2 * 1e6 * 101 / 1e12 / tp;  // 2 x params x tokens
  const double gemm_memory = 2e6 / 1e9 / tp;              // weights once
  const double roofline = std::max(gemm_compute, gemm_memory);
  const double attention = 2 * 8 * 2 * 100 * (101 / 2.0) / 1e12 / tp;  // 2 width layers n (n + 1) / 2
  const double prefill_kv = 100 * 32 / 1e9 / tp;                       // writes its 100 tokens
  const double decode_kv = 1001 * 32 / 1e9 / tp;  // reads 1000, writes 1; beside a prefill: mixed_decode_kv
  const double nvlink = tp > 1 ? 2 * 2 * 101 * 8 * 2 * 2.0 * (tp - 1) / tp / 300e9 : 0.0;
  const auto& c = kCoef;
  *memory = c[1] * gemm_memory + c[4] * prefill_kv + c[6] * decode_kv;
  return c[0] * gemm_compute + c[1] * gemm_memory + c[2] * roofline + c[3] * attention + c[4] * prefill_kv +
         c[6] * decode_kv + c[7] * 2 + c[8] + c[9] * 2 + nvlink;
}

TEST(FittedModel, StepTimeIsTheFormula) {
  auto fit = std::make_shared<FittedCoefficients>();
  fit->coef = kCoef;
  const std::vector<SeqWork> batch{SeqWork{100, 0}, SeqWork{1, 1000, true}};
  for (int tp : {1, 2}) {
    const CostModel cost(toy_model(), toy_gpu(tp));
    const auto model = step_models().make("fitted", {}, StepModelInputs{cost, nullptr, fit});
    const StepCost c = model->step(batch);
    double memory = 0;
    const double expected = toy_step_seconds(tp, &memory);
    EXPECT_NEAR(c.seconds / expected, 1.0, 1e-12) << "tp " << tp;
    // Memory is the larger share here (the 2 MB weight read dominates): HBM holds the step, compute its share.
    EXPECT_EQ(c.bound, Bound::kMemory);
    EXPECT_NEAR(c.hbm_s, c.seconds, 1e-18);
    const double nvlink = cost.step(batch).nvlink_s;
    EXPECT_NEAR(c.compute_s, expected - nvlink - memory, 1e-15);
    EXPECT_EQ(c.flops_per_gpu, cost.step(batch).flops_per_gpu);  // work is the roofline's
  }
}

// On one dense model the weight read, the layer count and the step constant are all constant: the weight read
// takes the whole constant part (here 1.2 x weights / bandwidth + 32 x 10 us + 50 us), the other two stay at 0.
TEST(FittedModel, OneDenseModelPutsTheConstantOnTheWeightRead) {
  FittedCoefficients truth;
  truth.coef = kCoef;
  const CostModel cost(catalog().model("llama-3.1-8b"), on("h100-sxm", 1));
  const auto shapes = training_shapes(16384);
  const auto steps = cli::measure_steps(
      cost, shapes, [&](std::span<const SeqWork> b) { return truth.seconds(step_features(cost, b)); });
  const FittedCoefficients fit = cli::calibrate_steps(steps);
  const double weights_s = step_features(cost, shapes.front().batch)[1];  // 16.06 GB / 3.35 TB/s
  EXPECT_NEAR(fit.coef[1] * weights_s, 1.2 * weights_s + 32 * 10e-6 + 50e-6, 1e-9 * weights_s);
  EXPECT_EQ(fit.coef[7], 0.0);
  EXPECT_EQ(fit.coef[8], 0.0);
  EXPECT_LT(fit.error.all.max, 1e-9);
}

TEST(FittedModel, RefusedWithoutCoefficients) {
  const CostModel cost(toy_model(), toy_gpu(1));
  EXPECT_THROW(step_models().make("fitted", {}, StepModelInputs{cost, nullptr, nullptr}), std::invalid_argument);
}

std::filesystem::path write_temp(const std::string& name, const std::string& text) {
  const auto p = std::filesystem::temp_directory_path() / ("kvsim_fitted_" + name);
  std::ofstream(p) << text;
  return p;
}

TEST(FittedFile, RoundTrip) {
  FittedCoefficients c;
  c.coef = {1.0 / 3, 0.7, 0, 2.5, 1e-3, 1.25, 3.5, 1.1e-5, 3.3e-5, 7e-7};
  c.source = "profiles/X/m/bf16";
  c.hardware = "h100-sxm";
  c.model = "llama-3.1-8b";
  c.tensor_parallel = 2;
  c.error.all = FitError{10, 0.05, 0.09, 0.2};
  c.error.decode = FitError{4, 0.01, 0.02, 0.03};
  const auto p = write_temp("round.json", fitted_to_json(c));
  const FittedCoefficients r = load_fitted_coefficients(p);
  for (std::size_t k = 0; k < kFeatureCount; ++k) EXPECT_EQ(r.coef[k], c.coef[k]) << feature_names()[k];
  EXPECT_EQ(r.source, c.source);
  EXPECT_EQ(r.hardware, c.hardware);
  EXPECT_EQ(r.model, c.model);
  EXPECT_EQ(r.tensor_parallel, 2);
  EXPECT_EQ(r.error.all.steps, 10u);
  EXPECT_EQ(r.error.all.p90, 0.09);
  EXPECT_EQ(r.error.decode.max, 0.03);
  EXPECT_EQ(fitted_to_json(r), fitted_to_json(c));
}

// The first diagnostic of loading `text`.
Diagnostic load_error(const std::string& name, const std::string& text) {
  try {
    load_fitted_coefficients(write_temp(name, text));
  } catch (const InputError& e) {
    return e.items().at(0);
  }
  ADD_FAILURE() << name << " was accepted";
  return {};
}

std::string with_coefficient(const std::string& key, const std::string& value) {
  FittedCoefficients c;
  c.coef = kCoef;
  std::string text = fitted_to_json(c);
  const std::string field = "\"" + key + "\": ";
  const auto at = text.find(field) + field.size();
  return text.replace(at, text.find_first_of(",\n", at) - at, value);
}

TEST(FittedFile, BadFilesNameTheKey) {
  Diagnostic d = load_error("negative.json", with_coefficient("decode_kv", "-0.5"));
  EXPECT_EQ(d.key, "coefficients.decode_kv");
  EXPECT_EQ(d.value, "-0.5");
  EXPECT_NE(d.message.find("expected a number in [0, 1000]"), std::string::npos) << d.message;
  EXPECT_NE(d.file.find("kvsim_fitted_negative.json"), std::string::npos);

  d = load_error("overhead.json", with_coefficient("per_layer", "5"));  // five seconds a layer
  EXPECT_EQ(d.key, "coefficients.per_layer");
  EXPECT_NE(d.message.find("[0, 1]"), std::string::npos) << d.message;

  d = load_error("string.json", with_coefficient("gemm_compute", "\"fast\""));
  EXPECT_EQ(d.key, "coefficients.gemm_compute");
  EXPECT_EQ(d.message, "expected a number");

  std::string text = with_coefficient("per_step", "1e-5");
  text.replace(text.find("\"per_step\""), 10, "\"per_stepp\"");
  d = load_error("unknown.json", text);
  EXPECT_EQ(d.key, "coefficients.per_stepp");
  EXPECT_NE(d.message.find("unknown feature"), std::string::npos);

  d = load_error("notjson.json", "{\"format\": ");
  EXPECT_NE(d.message.find("invalid JSON"), std::string::npos);

  text = with_coefficient("per_step", "1e-5");
  text.replace(text.find("\"version\": 1"), 12, "\"version\": 7");
  d = load_error("version.json", text);
  EXPECT_EQ(d.key, "version");
  EXPECT_EQ(d.value, "7");
}

}  // namespace
}  // namespace kvsim
