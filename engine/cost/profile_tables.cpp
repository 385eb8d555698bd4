#include "engine/cost/profile_tables.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace kvsim {
namespace {

// Linear through (x0, y0) and (x1, y1) at x: interpolation inside, extrapolation outside.
double line(double x0, double y0, double x1, double y1, double x) {
  return y0 + (x - x0) / (x1 - x0) * (y1 - y0);
}

// Where `x` falls among ascending distinct `keys`: the two indices to blend (equal when one sample decides: an
// exact hit, a single sample, or below the bottom, which takes the bottom sample).
std::pair<std::size_t, std::size_t> bracket(const std::vector<double>& keys, double x) {
  const std::size_t n = keys.size();
  if (n == 1) return {0, 0};
  const auto i = std::size_t(std::lower_bound(keys.begin(), keys.end(), x) - keys.begin());
  if (i < n && keys[i] == x) return {i, i};
  if (i == 0) return {0, 0};
  if (i == n) return {n - 2, n - 1};
  return {i - 1, i};
}

}  // namespace

double Table1D::at(double q) const {
  if (x.empty()) return 0.0;
  const auto [a, b] = bracket(x, q);
  return a == b ? us[a] : line(x[a], us[a], x[b], us[b], q);
}

NestedGrid::NestedGrid(std::vector<std::vector<double>> points, std::vector<double> values) {
  if (points.empty()) return;
  dims_ = points.front().size();
  std::vector<std::size_t> idx(points.size());
  std::iota(idx.begin(), idx.end(), std::size_t{0});
  std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return points[a] < points[b]; });
  root_ = build(idx, 0, idx.size(), 0, points, values);
}

NestedGrid::Node NestedGrid::build(std::vector<std::size_t>& idx, std::size_t begin, std::size_t end, std::size_t axis,
                                   const std::vector<std::vector<double>>& points, const std::vector<double>& values) {
  Node n;
  const bool last = axis + 1 == points.front().size();
  for (std::size_t i = begin; i < end;) {
    const double key = points[idx[i]][axis];
    std::size_t j = i;
    while (j < end && points[idx[j]][axis] == key) ++j;
    n.keys.push_back(key);
    if (last) {
      double sum = 0;
      for (std::size_t k = i; k < j; ++k) sum += values[idx[k]];
      n.leaves.push_back(sum / double(j - i));
    } else {
      n.children.push_back(build(idx, i, j, axis + 1, points, values));
    }
    i = j;
  }
  return n;
}

double NestedGrid::value_at(const Node& n, std::size_t i, std::span<const double> q, std::size_t axis) const {
  return axis + 1 == dims_ ? n.leaves[i] : eval(n.children[i], q, axis + 1);
}

double NestedGrid::eval(const Node& n, std::span<const double> q, std::size_t axis) const {
  const auto [a, b] = bracket(n.keys, q[axis]);
  const double va = value_at(n, a, q, axis);
  if (a == b) return va;
  return line(n.keys[a], va, n.keys[b], value_at(n, b, q, axis), q[axis]);
}

double NestedGrid::at(std::span<const double> q) const {
  return dims_ == 0 ? 0.0 : eval(root_, q, 0);
}

AttentionTable::AttentionTable(std::vector<AttentionRow> rows) : rows_(std::move(rows)) {
  std::vector<std::vector<double>> points;
  std::vector<double> values;
  for (const auto& r : rows_) {
    points.push_back({r.prefill_chunk, r.kv_prefill, r.n_decode, r.kv_decode});
    values.push_back(r.us);
  }
  grid_ = NestedGrid(std::move(points), std::move(values));
}

double AttentionTable::at(double prefill_chunk, double kv_prefill, double n_decode, double kv_decode) const {
  const double q[] = {prefill_chunk, kv_prefill, n_decode, kv_decode};
  return grid_.at(q);
}

AttentionShape attention_shape(std::span<const SeqWork> batch) {
  AttentionShape a;
  double weighted_key = 0, decode_context = 0;
  for (const auto& s : batch) {
    if (s.decode) {
      a.kv_decode_min = a.n_decode == 0 ? s.cached_tokens : std::min(a.kv_decode_min, s.cached_tokens);
      a.kv_decode_max = std::max(a.kv_decode_max, s.cached_tokens);
      a.n_decode += 1;
      decode_context += s.cached_tokens;
    } else {
      a.prefill_chunk += s.new_tokens;
      weighted_key += s.new_tokens * (s.cached_tokens + s.new_tokens / 2);
    }
  }
  if (a.prefill_chunk > 0) a.kv_prefill = weighted_key / a.prefill_chunk - a.prefill_chunk / 2;
  if (a.n_decode > 0) a.kv_decode = decode_context / a.n_decode;
  return a;
}

std::string SkewFit::label(const std::vector<double>& bins, const std::vector<std::string>& labels, double v) {
  for (std::size_t i = 0; i < labels.size() && i + 1 < bins.size(); ++i) {
    if (v <= bins[i + 1]) return labels[i];
  }
  return labels.empty() ? std::string() : labels.back();
}

std::string SkewFit::bucket_key(const std::string& pc, const std::string& n, const std::string& sr,
                                const std::string& kvb, const std::string& kp) {
  return pc + "|" + n + "|" + sr + "|" + kvb + "|" + kp;
}

double SkewFit::alpha_for(double pc, double n, double skew_rate, double kv_big, double kp) const {
  const auto whole = [](double v) { return std::trunc(v); };
  const std::string key =
      bucket_key(std::to_string(static_cast<long long>(whole(pc))), label(n_bins, n_labels, whole(n)),
                 label(skew_rate_bins, skew_rate_labels, skew_rate), label(kv_big_bins, kv_big_labels, whole(kv_big)),
                 label(kp_bins, kp_labels, whole(kp)));
  const auto it = alpha.find(key);
  return it == alpha.end() ? alpha_default : it->second;
}

double ProfileTables::attention_us(const AttentionShape& a) const {
  const double mean = attention.at(a.prefill_chunk, a.kv_prefill, a.n_decode, a.kv_decode);
  if (!skew || a.n_decode <= 1 || a.kv_decode_max == a.kv_decode) return mean;
  const double gap = a.kv_decode_max - a.kv_decode_min;
  const double rate = gap > 0 ? std::clamp((a.kv_decode - a.kv_decode_min) / gap, 0.0, 1.0) : 0.5;
  const double alpha = skew->alpha_for(a.prefill_chunk, a.n_decode, rate, a.kv_decode_max, a.kv_prefill);
  if (alpha == 0) return mean;
  const double top = attention.at(a.prefill_chunk, a.kv_prefill, a.n_decode, a.kv_decode_max);
  return top <= mean ? mean : mean + alpha * (top - mean);
}

double ProfileTables::moe_experts() const {
  double e = 0;
  for (const auto& r : moe) e = std::max(e, r.activated_experts);
  return e;
}

double ProfileTables::moe_top_k() const {
  if (moe.empty()) return 0;
  const auto fewest = std::min_element(moe.begin(), moe.end(), [](const MoeRow& a, const MoeRow& b) {
    return a.tokens != b.tokens ? a.tokens < b.tokens : a.activated_experts < b.activated_experts;
  });
  return fewest->activated_experts / fewest->tokens;
}

double ProfileTables::activated_experts(double tokens) const {
  const double e = moe_experts(), k = moe_top_k();
  if (e <= 0 || tokens <= 0) return 0;
  return std::min(e, e * (1.0 - std::pow(1.0 - std::min(1.0, k / e), tokens)));
}

ProfileTables::Breakdown ProfileTables::step(std::span<const SeqWork> batch, int num_layers) const {
  Breakdown b;
  if (batch.empty()) return b;
  double tokens = 0;
  for (const auto& s : batch) tokens += s.new_tokens;
  const double sequences = double(batch.size());
  for (const auto& [name, table] : dense) {
    if (name == "embedding") {
      b.embedding_us = table.at(tokens);
    } else if (name == "final_layernorm") {
      b.final_norm_us = table.at(tokens);
    } else {
      // A decoder layer runs its RMSNorm twice, before attention and after it, while the bundle measures it
      // once: LLMServingSim's trace generator walks each architecture's `sequence` (profiler/models/llama.yaml:
      // pre_attn [layernorm, qkv_proj, rotary_emb, attention], post_attn [o_proj, layernorm]; qwen3.yaml
      // likewise), charging the `layernorm` row at both places. Every other row is charged once.
      b.dense_per_layer_us += (name == "layernorm" ? 2.0 : 1.0) * table.at(tokens);
    }
  }
  b.attention_per_layer_us = attention_us(attention_shape(batch));
  if (!moe.empty()) {
    std::vector<std::vector<double>> points;
    std::vector<double> values;
    for (const auto& r : moe) {
      points.push_back({r.tokens, r.activated_experts});
      values.push_back(r.us);
    }
    const double q[] = {tokens, activated_experts(tokens)};
    b.moe_per_layer_us = NestedGrid(std::move(points), std::move(values)).at(q);
  }
  for (const auto& [name, table] : per_sequence) b.per_sequence_us += table.at(sequences);
  b.layers_us = num_layers * (b.dense_per_layer_us + b.attention_per_layer_us + b.moe_per_layer_us);
  b.total_us = b.embedding_us + b.layers_us + b.final_norm_us + b.per_sequence_us;
  return b;
}

}  // namespace kvsim
