#include "sim/cli/analyze_output.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "engine/units.hpp"
#include "sim/cli/csv.hpp"
#include "sim/diagnostics.hpp"

namespace kvsim::cli {

nlohmann::ordered_json peak_json(const PeakReport& r) {
  nlohmann::ordered_json j;
  j["model"] = r.model;
  j["gpu"] = r.gpu;
  j["tensor_parallel"] = r.tensor_parallel;
  j["host_link"] = r.host_link;
  j["context_tokens"] = r.context_tokens;
  j["answer_tokens"] = r.answer_tokens;
  j["kv_bytes_per_token"] = r.kv_bytes_per_token;
  j["kv_bytes"] = r.kv_bytes;
  j["weight_bytes"] = r.weight_bytes;
  j["hbm_bytes"] = r.hbm_bytes;
  j["critical_intensity_flop_per_byte"] = r.critical_intensity;
  j["compute_dtype"] = r.compute_dtype;
  j["peak_flops_per_gpu"] = r.peak_flops;
  j["attention_flops"] = r.attention_flops;
  j["prefill_flops"] = r.prefill_flops;
  j["prefill_s"] = r.prefill_s;
  j["prefill_bound"] = bound_name(r.prefill_bound);
  j["decode_s"] = r.decode_s;
  j["decode_bound"] = bound_name(r.decode_bound);
  j["decode_tokens_per_s"] = r.decode_tokens_per_s;
  j["weights_fit"] = r.weights_fit;
  j["concurrency"] = r.concurrency;
  j["concurrency_sessions"] = r.concurrency_sessions;
  j["concurrency_bound"] = bound_name(Bound::kCapacity);
  j["host_link_bytes_per_s"] = r.host_link_bandwidth;
  j["context_switch_s"] = r.context_switch_s;
  j["context_switch_bound"] = bound_name(Bound::kHostLink);
  j["model_max_context"] = r.model_max_context;
  j["model_variant"] = r.model_variant;
  return j;
}

std::string model_notes(const std::vector<PeakReport>& rows) {
  std::string out;
  std::set<std::string> named;  // variants already printed: a sweep's derived models (-mha, -moe8x2) share one
  for (const auto& r : rows) {
    if (!r.model_variant.empty() && named.insert(r.model_variant).second) {
      out += fmt::format("model {}: {}\n", r.model, r.model_variant);
    }
  }
  std::map<double, std::pair<std::string, std::vector<std::string>>> past;  // context -> model, what-if rows
  for (const auto& r : rows) {
    if (r.model_max_context > 0 && r.context_tokens + r.answer_tokens > r.model_max_context) {
      auto& [model, list] = past[r.model_max_context];
      if (model.empty()) model = r.model;
      const std::string ctx = fmt::format("{:.0f}", r.context_tokens);
      if (std::find(list.begin(), list.end(), ctx) == list.end()) list.push_back(ctx);
    }
  }
  for (const auto& [context, what] : past) {
    out += fmt::format(
        "note: with their answers, the rows at {} tokens exceed {}'s context of {:.0f} tokens: they "
        "are what-ifs\n",
        join(what.second, ", "), what.first, context);
  }
  return out;
}

namespace {

void write_csv(std::ostream& out, const std::vector<PeakReport>& rows) {
  bool header = true;
  for (const auto& r : rows) {
    const auto j = peak_json(r);
    std::string line;
    if (header) {
      for (const auto& [k, _] : j.items()) line += (line.empty() ? "" : ",") + k;
      out << line << "\n";
      line.clear();
      header = false;
    }
    for (const auto& [_, v] : j.items()) {
      line += line.empty() ? "" : ",";
      line += v.is_string() ? csv_field(v.get<std::string>())
                            : (v.is_number_float() ? fmt::format("{:.10g}", v.get<double>()) : v.dump());
    }
    out << line << "\n";
  }
}

// Which compute peak and attention count each GPU's prefill used, once per distinct combination.
void write_peaks(std::ostream& out, const std::vector<PeakReport>& rows) {
  std::vector<std::string> seen;
  for (const auto& r : rows) {
    const std::string line =
        fmt::format("prefill on {}: {} peak {}/s per GPU, attention FLOPs {}{}", r.gpu, r.compute_dtype,
                    format_flops(r.peak_flops), r.attention_flops, r.attention_flops == "full" ? " (Eq. 7)" : "");
    if (std::find(seen.begin(), seen.end(), line) != seen.end()) continue;
    seen.push_back(line);
    out << line << "\n";
  }
}

void write_table(std::ostream& out, const std::vector<PeakReport>& rows) {
  out << "Theoretical peak for one user (paper Sec. 2.1). GB = 1e9 bytes, GiB = 2^30 bytes.\n";
  out << fmt::format("{:<16} {:<13} {:>2} {:>9} {:>10} {:>22} {:>21} {:>17} {:>22}\n", "model", "gpu", "tp",
                     "context", "KV", "prefill (bound)", "decode N tok (bound)", "concurrency", "ctx switch (link)");
  for (const auto& r : rows) {
    out << fmt::format("{:<16} {:<13} {:>2} {:>9.0f} {:>10} {:>22} {:>21} {:>17} {:>22}\n", r.model, r.gpu,
                       r.tensor_parallel, r.context_tokens, format_bytes(r.kv_bytes),
                       format_seconds(r.prefill_s) + " (" + bound_name(r.prefill_bound) + ")",
                       format_seconds(r.decode_s) + " (" + bound_name(r.decode_bound) + ")",
                       fmt::format("{:.2f} (capacity)", r.concurrency),
                       format_seconds(r.context_switch_s) + " (" + format_bandwidth(r.host_link_bandwidth) + ")");
  }
  out << model_notes(rows);
  for (const auto& r : rows) {
    if (!r.weights_fit) {
      out << fmt::format("note: {} on {} x {}: weights {} exceed HBM {}; concurrency shown as 0\n", r.model,
                         r.tensor_parallel, r.gpu, format_bytes(r.weight_bytes), format_bytes(r.hbm_bytes));
    }
  }
  if (rows.size() == 1) {
    const auto& r = rows.front();
    out << fmt::format("\nweights {} on {} of HBM; critical arithmetic intensity {:.0f} FLOP/byte (Eq. 5).\n",
                       format_bytes(r.weight_bytes), format_bytes(r.hbm_bytes), r.critical_intensity);
  }
  write_peaks(out, rows);
  if (!rows.empty()) {
    out << fmt::format("decode = {:.0f} tokens (Eq. 13); concurrency = (HBM - weights) / KV (Eq. 14); "
                       "ctx switch = (KV out + KV in) / host link (Eq. 15).\n",
                       rows.front().answer_tokens);
  }
}

}  // namespace

void write_analyze(std::ostream& out, const std::vector<PeakReport>& rows, const std::string& format) {
  if (format == "json") {
    nlohmann::ordered_json j;
    j["rows"] = nlohmann::ordered_json::array();
    for (const auto& r : rows) j["rows"].push_back(peak_json(r));
    out << j.dump(2) << "\n";
  } else if (format == "csv") {
    write_csv(out, rows);
  } else {
    write_table(out, rows);
  }
}

}  // namespace kvsim::cli
