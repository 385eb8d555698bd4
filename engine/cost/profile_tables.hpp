#pragma once
/// @file profile_tables.hpp
/// @brief Measured kernel times of one model on one GPU at one tensor-parallel degree (an LLMServingSim profile
/// bundle, read by sim/profile_bundle.hpp) and the step time they give: embedding(T) + layers x (dense ops of one
/// layer at T tokens + attention of the step's shape [+ MoE block]) + final norm(T) + lm_head and sampler at S
/// sequences, all in microseconds. Lookups interpolate linearly between measured points and extrapolate linearly
/// from the top two above the grid. Pure C++: no file access.

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/cost_model.hpp"

namespace kvsim {

/// @brief A piecewise-linear table over one axis (`x` ascending, distinct): linear between samples, linear from
/// the top two samples above the last, the first sample's value below the first.
struct Table1D {
  std::vector<double> x, us;
  /// @brief Microseconds at `x`.
  double at(double x) const;
};

/// @brief Multilinear interpolation over points that need not fill a tensor product: axis by axis, the query is
/// bracketed among the values present under the coordinates already fixed, the two sub-grids are evaluated and
/// blended linearly; above the top value it extrapolates from the top two, below the bottom it takes the bottom.
class NestedGrid {
 public:
  NestedGrid() = default;
  /// @brief `points[i]` (all of one dimension) has value `values[i]`; repeated points are averaged.
  NestedGrid(std::vector<std::vector<double>> points, std::vector<double> values);
  /// @brief The interpolated value at `q` (of the points' dimension); 0 for an empty grid.
  double at(std::span<const double> q) const;

 private:
  struct Node {
    std::vector<double> keys;    ///< distinct values of this axis under the fixed coordinates, ascending
    std::vector<Node> children;  ///< one per key; empty at the last axis
    std::vector<double> leaves;  ///< one value per key at the last axis
  };
  static Node build(std::vector<std::size_t>& idx, std::size_t begin, std::size_t end, std::size_t axis,
                    const std::vector<std::vector<double>>& points, const std::vector<double>& values);
  double eval(const Node& n, std::span<const double> q, std::size_t axis) const;
  double value_at(const Node& n, std::size_t i, std::span<const double> q, std::size_t axis) const;

  Node root_;
  std::size_t dims_ = 0;
};

/// @brief One row of a legacy attention.csv: a step holding a prefill chunk of `prefill_chunk` tokens over
/// `kv_prefill` tokens of history plus `n_decode` decoding sequences over `kv_decode` tokens each.
struct AttentionRow {
  double prefill_chunk, kv_prefill, n_decode, kv_decode, us;
};

/// @brief Attention of one layer, interpolated over the four axes of the nested geometric grid.
class AttentionTable {
 public:
  AttentionTable() = default;
  explicit AttentionTable(std::vector<AttentionRow> rows);
  /// @brief Microseconds of one layer's attention for a step of this shape.
  double at(double prefill_chunk, double kv_prefill, double n_decode, double kv_decode) const;
  /// @brief The measured rows, as given.
  const std::vector<AttentionRow>& rows() const { return rows_; }

 private:
  std::vector<AttentionRow> rows_;
  NestedGrid grid_;
};

/// @brief One row of moe.csv: one MoE block over `tokens` tokens touching `activated_experts` distinct experts.
struct MoeRow {
  double tokens, activated_experts, us;
};

/// @brief The attention axes of a step, in the legacy layout: `prefill_chunk` = sum of chunks c_i, `kv_prefill` =
/// sum(c_i (k_i + c_i / 2)) / sum(c_i) - prefill_chunk / 2 (the query-weighted key of LLMServingSim's
/// output-bundle.md, relabelled to the legacy column), `n_decode` = decoding sequences, `kv_decode` = their mean
/// cached tokens.
struct AttentionShape {
  double prefill_chunk = 0, kv_prefill = 0, n_decode = 0, kv_decode = 0;
  double kv_decode_min = 0, kv_decode_max = 0;  ///< the shortest and longest decode context, for the skew fit
};
AttentionShape attention_shape(std::span<const SeqWork> batch);

/// @brief LLMServingSim's legacy skew correction of attention for decodes of unequal context (meta.yaml
/// `skew_fit`, tp<N>/skew_fit.csv): a batch is bucketed by its prefill chunk (the raw grid value), decode count,
/// skew rate (mean - min) / (max - min), longest decode context and kv_prefill; each bucket edge list holds
/// (edge[i], edge[i+1]] per label, the last label catching the rest.
struct SkewFit {
  double alpha_default = 0;  ///< per_tp[tp].alpha_default: the pooled fit, for a bucket without its own
  std::vector<double> n_bins, skew_rate_bins, kv_big_bins, kp_bins;
  std::vector<std::string> n_labels, skew_rate_labels, kv_big_labels, kp_labels;
  std::map<std::string, double> alpha;  ///< by bucket_key()

  /// @brief The label of `v`: the first whose upper edge is >= v, else the last.
  static std::string label(const std::vector<double>& bins, const std::vector<std::string>& labels, double v);
  /// @brief "pc|n_label|skew_rate_label|kv_big_label|kp_label", as skew_fit.csv spells a row.
  static std::string bucket_key(const std::string& pc, const std::string& n, const std::string& sr,
                                const std::string& kvb, const std::string& kp);
  /// @brief Alpha of a batch's bucket (integer pc, n, kv_big and kp as LLMServingSim truncates them), or the
  /// default.
  double alpha_for(double pc, double n, double skew_rate, double kv_big, double kp) const;
};

/// @brief The measured tables of one bundle at one tensor-parallel degree.
struct ProfileTables {
  std::string hardware, model;  ///< from meta.yaml (hardware:, model:)
  int tp = 1;
  std::map<std::string, Table1D> dense;         ///< by layer name, by tokens in the step
  std::map<std::string, Table1D> per_sequence;  ///< lm_head, sampler, by sequences in the step
  AttentionTable attention;
  std::vector<MoeRow> moe;      ///< empty for dense models
  std::optional<SkewFit> skew;  ///< absent when the bundle's skew fit is disabled: no correction

  /// @brief Microseconds of each part of one step, for tests and the fitted model's training data.
  struct Breakdown {
    double embedding_us = 0, layers_us = 0 /* num_layers x per-layer */, dense_per_layer_us = 0,
           attention_per_layer_us = 0, moe_per_layer_us = 0, final_norm_us = 0, per_sequence_us = 0, total_us = 0;
  };
  /// @brief The parts of one forward step over `batch` of a model of `num_layers` decoder layers (all zero for an
  /// empty batch).
  Breakdown step(std::span<const SeqWork> batch, int num_layers) const;

  /// @brief One layer's attention for a step of shape `a`: the table at the mean decode context, moved toward the
  /// table at the longest by the skew fit's alpha when the decodes' contexts differ (m + alpha (M - m), never
  /// below m; none for a single decode), as LLMServingSim's trace generator corrects it.
  double attention_us(const AttentionShape& a) const;
  /// @brief Routed experts of the MoE block: the most activated_experts in moe.csv (0 without MoE).
  double moe_experts() const;
  /// @brief Experts per token: activated_experts at the fewest tokens over those tokens (0 without MoE).
  double moe_top_k() const;
  /// @brief Expected distinct experts `tokens` tokens touch with uniform top-k routing over E experts,
  /// E x (1 - (1 - k/E)^tokens) (as weight_bytes_read counts them), at most E.
  double activated_experts(double tokens) const;
};

}  // namespace kvsim
