#include "engine/cost/fitted.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "engine/cost/nnls.hpp"
#include "engine/kv_compression.hpp"

namespace kvsim {
namespace {

std::size_t idx(Feature f) {
  return static_cast<std::size_t>(f);
}

FitError error_of(std::vector<double> rel) {
  FitError e;
  e.steps = rel.size();
  if (rel.empty()) return e;
  std::sort(rel.begin(), rel.end());
  double sum = 0;
  for (double r : rel) sum += r;
  e.mean = sum / double(rel.size());
  // Nearest rank: the smallest value with at least 90% of the errors at or below it.
  const auto rank = static_cast<std::size_t>(std::ceil(0.9 * double(rel.size())));
  e.p90 = rel[std::max<std::size_t>(rank, 1) - 1];
  e.max = rel.back();
  return e;
}

// Powers of `factor` from `lo` to `hi`.
std::vector<double> geometric(double lo, double hi, double factor) {
  std::vector<double> v;
  for (double x = lo; x <= hi; x *= factor) v.push_back(x);
  return v;
}

// Zeroes (and gives a zero norm to) each unit-norm column equal to an earlier one: a feature proportional to an
// earlier one over every step cannot be told apart from it, and NNLS would pick between them by rounding.
void drop_repeated_columns(DenseMatrix& a, std::array<double, kFeatureCount>& norm) {
  for (std::size_t k = 0; k < a.cols; ++k) {
    for (std::size_t j = 0; j < k && norm[k] > 0; ++j) {
      if (norm[j] == 0) continue;
      double diff = 0;
      for (std::size_t i = 0; i < a.rows; ++i) diff = std::max(diff, std::abs(a(i, k) - a(i, j)));
      if (diff > 1e-12) continue;
      for (std::size_t i = 0; i < a.rows; ++i) a(i, k) = 0;
      norm[k] = 0;
    }
  }
}

SeqWork prefill_chunk(double chunk, double history) {
  return SeqWork{chunk, history, false, history, true};
}

}  // namespace

const std::array<std::string_view, kFeatureCount>& feature_names() {
  static const std::array<std::string_view, kFeatureCount> names{
      "gemm_compute", "gemm_memory",     "gemm_roofline", "prefill_attention", "prefill_kv",
      "decode_kv",    "mixed_decode_kv", "per_layer",     "per_step",          "per_sequence"};
  return names;
}

bool is_memory_feature(std::size_t k) {
  return k == idx(Feature::kGemmMemory) || k == idx(Feature::kPrefillKv) || k == idx(Feature::kDecodeKv) ||
         k == idx(Feature::kMixedDecodeKv);
}

std::array<double, kFeatureCount> step_features(const CostModel& cost, std::span<const SeqWork> batch) {
  const ModelSpec& m = cost.model();
  const Deployment& d = cost.deployment();
  const bool causal = cost.attention() == AttentionFlops::kCausal;
  const double tp = d.tensor_parallel, peak = d.peak_flops() * tp, bw = d.gpu.hbm_bandwidth * tp;
  double dense = 0, attention = 0, prefill_kv = 0, decode_kv = 0, tokens = 0;
  for (const SeqWork& s : batch) {
    const SeqTerms t = seq_terms(m, s, causal);
    dense += t.dense_flops;
    tokens += s.new_tokens;
    if (s.decode) {
      decode_kv += t.kv_bytes;
    } else {
      attention += t.attention_flops;
      prefill_kv += t.kv_bytes;
    }
  }
  std::array<double, kFeatureCount> f{};
  f[idx(Feature::kGemmCompute)] = dense / peak;
  f[idx(Feature::kGemmMemory)] = batch.empty() ? 0.0 : weight_bytes_read(m, tokens) * weight_read_factor(m) / bw;
  f[idx(Feature::kGemmRoofline)] = std::max(f[idx(Feature::kGemmCompute)], f[idx(Feature::kGemmMemory)]);
  f[idx(Feature::kPrefillAttention)] = attention / peak;
  f[idx(Feature::kPrefillKv)] = prefill_kv / bw;
  const bool mixed = attention > 0 || prefill_kv > 0;
  f[idx(Feature::kDecodeKv)] = mixed ? 0.0 : decode_kv / bw;
  f[idx(Feature::kMixedDecodeKv)] = mixed ? decode_kv / bw : 0.0;
  f[idx(Feature::kLayers)] = batch.empty() ? 0.0 : double(m.layers);
  f[idx(Feature::kStep)] = batch.empty() ? 0.0 : 1.0;
  f[idx(Feature::kSequences)] = double(batch.size());
  return f;
}

std::string_view phase_name(StepPhase p) {
  switch (p) {
    case StepPhase::kPrefill:
      return "prefill";
    case StepPhase::kDecode:
      return "decode";
    case StepPhase::kMixed:
      return "mixed";
  }
  return "?";
}

double FittedCoefficients::seconds(const std::array<double, kFeatureCount>& features) const {
  double t = 0;
  for (std::size_t k = 0; k < kFeatureCount; ++k) t += coef[k] * features[k];
  return t;
}

double FittedCoefficients::memory_seconds(const std::array<double, kFeatureCount>& features) const {
  double t = 0;
  for (std::size_t k = 0; k < kFeatureCount; ++k) {
    if (is_memory_feature(k)) t += coef[k] * features[k];
  }
  return t;
}

std::array<double, kFeatureCount> fit_coefficients(std::span<const TrainingStep> steps) {
  if (steps.empty()) throw std::invalid_argument("no steps to fit on");
  DenseMatrix a(steps.size(), kFeatureCount);
  std::vector<double> b(steps.size(), 1.0);  // each row divided by its measured time: relative error
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const double t = steps[i].seconds;
    if (!(t > 0) || !std::isfinite(t)) throw std::invalid_argument("a step's measured time is not positive");
    for (std::size_t k = 0; k < kFeatureCount; ++k) a(i, k) = steps[i].features[k] / t;
  }
  std::array<double, kFeatureCount> norm{};
  for (std::size_t k = 0; k < kFeatureCount; ++k) {
    for (std::size_t i = 0; i < a.rows; ++i) norm[k] += a(i, k) * a(i, k);
    norm[k] = std::sqrt(norm[k]);
    for (std::size_t i = 0; i < a.rows; ++i) a(i, k) = norm[k] > 0 ? a(i, k) / norm[k] : 0.0;
  }
  drop_repeated_columns(a, norm);
  const std::vector<double> x = nnls(a, b);
  std::array<double, kFeatureCount> c{};
  for (std::size_t k = 0; k < kFeatureCount; ++k) c[k] = norm[k] > 0 ? x[k] / norm[k] : 0.0;
  return c;
}

FitReport fit_report(const FittedCoefficients& c, std::span<const TrainingStep> steps) {
  std::vector<double> all, by_phase[3];
  for (const auto& s : steps) {
    const double rel = std::abs(c.seconds(s.features) / s.seconds - 1.0);
    all.push_back(rel);
    by_phase[static_cast<int>(s.phase)].push_back(rel);
  }
  return FitReport{error_of(all), error_of(by_phase[0]), error_of(by_phase[1]), error_of(by_phase[2])};
}

std::vector<TrainingShape> training_shapes(double max_context) {
  std::vector<TrainingShape> shapes;
  std::vector<double> histories{0.0};
  for (double h : geometric(16, max_context, 4)) histories.push_back(h);
  for (double c : geometric(16, 2048, 2)) {
    for (double h : histories) {
      if (h + c <= max_context) shapes.push_back({{prefill_chunk(c, h)}, StepPhase::kPrefill});
    }
  }
  for (double n : geometric(1, 256, 2)) {
    for (double ctx : geometric(16, max_context, 2)) {
      shapes.push_back({std::vector<SeqWork>(std::size_t(n), SeqWork{1, ctx, true}), StepPhase::kDecode});
    }
  }
  for (double c : {32.0, 256.0, 1024.0}) {
    for (double h : {0.0, std::min(4096.0, max_context / 2)}) {
      for (double n : {4.0, 32.0, 128.0}) {
        for (double ctx : {256.0, std::min(4096.0, max_context)}) {
          TrainingShape s{std::vector<SeqWork>(std::size_t(n), SeqWork{1, ctx, true}), StepPhase::kMixed};
          s.batch.push_back(prefill_chunk(c, h));
          shapes.push_back(std::move(s));
        }
      }
    }
  }
  return shapes;
}

}  // namespace kvsim
