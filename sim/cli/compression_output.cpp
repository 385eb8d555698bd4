// `kvsim analyze --compare-compression`: the paper's Table 2 as measured ratios, as a table, JSON or CSV.
#include "sim/cli/compression_output.hpp"

#include <fmt/format.h>

#include <cmath>

#include "engine/units.hpp"

namespace kvsim::cli {
namespace {

// "yes" when the measured letters are the paper's, "no" when they differ, "-" for rows not in Table 2.
std::string agreement(const CompressionDelta& d) {
  if (d.improves.empty()) return "-";
  return d.measured == d.improves ? "yes" : "no";
}

// 50000 -> "50K", 1e6 -> "1M".
std::string tokens_label(double t) {
  if (t >= 1e6 && t == 1e6 * std::floor(t / 1e6)) return fmt::format("{:g}M", t / 1e6);
  if (t >= 1e3 && t == 1e3 * std::floor(t / 1e3)) return fmt::format("{:g}K", t / 1e3);
  return fmt::format("{:g}", t);
}

nlohmann::ordered_json delta_json(const CompressionDelta& d) {
  nlohmann::ordered_json j;
  j["method"] = d.method;
  j["dimension"] = d.dimension;
  j["context_tokens"] = d.context_tokens;
  j["paper_improves"] = d.improves;
  j["measured_improves"] = d.measured;
  j["agrees"] = agreement(d);
  j["concurrency_ratio"] = d.concurrency_ratio;
  j["prefill_ratio"] = d.prefill_ratio;
  j["decode_ratio"] = d.decode_ratio;
  j["context_switch_ratio"] = d.switch_ratio;
  j["kv_bytes_baseline"] = d.baseline.kv_bytes;
  j["kv_bytes"] = d.compressed.kv_bytes;
  j["kv_prefill_bytes"] = d.compressed.kv_prefill_bytes;
  j["concurrency"] = d.compressed.concurrency;
  j["prefill_s"] = d.compressed.prefill_s;
  j["decode_s"] = d.compressed.decode_s;
  j["context_switch_s"] = d.compressed.context_switch_s;
  return j;
}

void write_csv(std::ostream& out, const std::vector<CompressionDelta>& rows) {
  out << "method,dimension,context_tokens,paper_improves,measured_improves,agrees,concurrency_ratio,prefill_ratio,"
         "decode_ratio,context_switch_ratio,kv_bytes_baseline,kv_bytes,kv_prefill_bytes,concurrency,prefill_s,"
         "decode_s,context_switch_s\n";
  for (const auto& d : rows) {
    out << fmt::format(
        "\"{}\",{},{:.0f},{},{},{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},"
        "{:.6g},{:.6g}\n",
        d.method, d.dimension, d.context_tokens, d.improves, d.measured, agreement(d), d.concurrency_ratio,
        d.prefill_ratio, d.decode_ratio, d.switch_ratio, d.baseline.kv_bytes, d.compressed.kv_bytes,
        d.compressed.kv_prefill_bytes, d.compressed.concurrency, d.compressed.prefill_s, d.compressed.decode_s,
        d.compressed.context_switch_s);
  }
}

void write_table(std::ostream& out, const std::vector<CompressionDelta>& rows) {
  if (rows.empty()) return;
  const auto& b = rows.front().baseline;
  out << fmt::format(
      "Table 2 as measured: {} on {} x {}, {:.0f}-token answers. Ratios are method / baseline:\n"
      "C = concurrency (higher is better), P = prefill, D = decode, S = context switch (lower is "
      "better).\n",
      b.model, b.tensor_parallel, b.gpu, b.answer_tokens);
  out << fmt::format("{:<34} {:<9} {:>8} {:>10} {:>9} {:>9} {:>9} {:>9} {:>7} {:>8} {:>5}\n", "method", "dim",
                     "context", "KV", "C", "P", "D", "S", "paper", "measured", "agree");
  for (const auto& d : rows) {
    out << fmt::format("{:<34} {:<9} {:>8} {:>10} {:>8.3g}x {:>8.3g}x {:>8.3g}x {:>8.3g}x {:>7} {:>8} {:>5}\n",
                       d.method, d.dimension, tokens_label(d.context_tokens), format_bytes(d.compressed.kv_bytes),
                       d.concurrency_ratio, d.prefill_ratio, d.decode_ratio, d.switch_ratio, d.improves, d.measured,
                       agreement(d));
  }
  out << "GQA and MLA compare against the model's MHA variant; every other row against the model as given.\n";
  if (!b.weights_fit) {
    out << fmt::format("note: the weights ({}) do not fit in {} of HBM, so concurrency is 0 and C cannot change; "
                       "add GPUs with --tp.\n",
                       format_bytes(b.weight_bytes), format_bytes(b.hbm_bytes));
  }
}

}  // namespace

void write_compression(std::ostream& out, const std::vector<CompressionDelta>& rows, const std::string& format) {
  if (format == "json") {
    nlohmann::ordered_json j;
    j["rows"] = nlohmann::ordered_json::array();
    for (const auto& d : rows) j["rows"].push_back(delta_json(d));
    out << j.dump(2) << "\n";
  } else if (format == "csv") {
    write_csv(out, rows);
  } else {
    write_table(out, rows);
  }
}

}  // namespace kvsim::cli
