// `kvsim analyze --compare-compression`: the paper's Table 2 as measured ratios, as a table, JSON or CSV.
#include "sim/cli/compression_output.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "engine/units.hpp"
#include "sim/cli/analyze_output.hpp"
#include "sim/diagnostics.hpp"

namespace kvsim::cli {
namespace {

std::string fs_parent(const std::string& run_dir) {
  return std::filesystem::path(run_dir).parent_path().string();
}

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

double ratio_or_nan(const SimulatedThroughput& a, const SimulatedThroughput& b) {
  return a.ok && b.ok && b.per_hour > 0 ? a.per_hour / b.per_hour : std::nan("");
}

// A figure, or empty text when there is none (CSV) .
std::string csv_number(double v) {
  return std::isfinite(v) ? fmt::format("{:.6g}", v) : std::string();
}

nlohmann::ordered_json sim_json(const SimulatedThroughput& t) {
  nlohmann::ordered_json j;
  j["ok"] = t.ok;
  j["session_completion_rate_per_hour"] = t.ok ? nlohmann::ordered_json(t.per_hour) : nlohmann::ordered_json();
  j["gpu_idle_fraction"] = t.ok ? nlohmann::ordered_json(t.idle) : nlohmann::ordered_json();
  j["users"] = t.users;
  j["duration_s"] = t.duration_s;
  j["run_dir"] = t.run_dir;
  j["what_if"] = t.what_if;
  if (!t.ok) j["error"] = t.error;
  return j;
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

// The simulated columns of one row: users, baseline and method sessions/h, their ratio, the method's over the 4K
// reference; all empty without a simulation.
std::string sim_csv(const CompressionSimulation* sim, std::size_t i) {
  if (!sim) return ",,,,,";
  const SimulatedRow& r = sim->rows[i];
  return fmt::format("{},{},{},{},{},{}", r.method.users, csv_number(r.baseline.ok ? r.baseline.per_hour : NAN),
                     csv_number(r.method.ok ? r.method.per_hour : NAN), csv_number(ratio_or_nan(r.method, r.baseline)),
                     csv_number(ratio_or_nan(r.method, sim->reference)), csv_number(r.method.ok ? r.method.idle : NAN));
}

void write_csv(std::ostream& out, const std::vector<CompressionDelta>& rows, const CompressionSimulation* sim) {
  out << "method,dimension,context_tokens,paper_improves,measured_improves,agrees,concurrency_ratio,prefill_ratio,"
         "decode_ratio,context_switch_ratio,kv_bytes_baseline,kv_bytes,kv_prefill_bytes,concurrency,prefill_s,"
         "decode_s,context_switch_s,sim_users,sim_baseline_sessions_per_hour,sim_sessions_per_hour,"
         "sim_throughput_ratio,sim_vs_reference_ratio,sim_gpu_idle_fraction\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& d = rows[i];
    out << fmt::format(
        "\"{}\",{},{:.0f},{},{},{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},"
        "{:.6g},{:.6g},{}\n",
        d.method, d.dimension, d.context_tokens, d.improves, d.measured, agreement(d), d.concurrency_ratio,
        d.prefill_ratio, d.decode_ratio, d.switch_ratio, d.baseline.kv_bytes, d.compressed.kv_bytes,
        d.compressed.kv_prefill_bytes, d.compressed.concurrency, d.compressed.prefill_s, d.compressed.decode_s,
        d.compressed.context_switch_s, sim_csv(sim, i));
  }
}

// "355.6" sessions/h, or why there is no figure.
std::string per_hour_text(const SimulatedThroughput& t) {
  if (t.ok) return fmt::format("{:.4g}", t.per_hour);
  return t.error.find("never fit") != std::string::npos ? "never fits" : "failed";
}

std::string ratio_text(double r) {
  return std::isfinite(r) ? fmt::format("{:.3g}x", r) : "-";
}

// Names the contexts whose runs raised model.max_context (sessions longer than the model's context), if any.
std::string what_if_note(const std::vector<CompressionDelta>& rows, const CompressionSimulation& sim) {
  std::vector<std::string> what_ifs;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::string ctx = tokens_label(rows[i].context_tokens);
    if (sim.rows[i].baseline.what_if && std::find(what_ifs.begin(), what_ifs.end(), ctx) == what_ifs.end()) {
      what_ifs.push_back(ctx);
    }
  }
  if (what_ifs.empty()) return "";
  return fmt::format(
      "note: the runs at {} raise model.max_context to hold their sessions: what-ifs past {}'s context of {:.0f} "
      "tokens.\n",
      join(what_ifs, ", "), rows.front().baseline.model, rows.front().baseline.model_max_context);
}

void write_sim_table(std::ostream& out, const std::vector<CompressionDelta>& rows, const CompressionSimulation& sim) {
  out << fmt::format(
      "\nSession throughput from runs (sessions/h, a saturated closed loop per cell; runs in {}):\n"
      "reference: the uncompressed model at a {:g}K document, {} sessions/h. \"vs ref\" = method / reference;\n"
      "idle = the method run's GPU idle time (near 0: the users kept the GPU busy).\n",
      fs_parent(sim.reference.run_dir), sim.reference_tokens / 1e3, per_hour_text(sim.reference));
  out << fmt::format("{:<34} {:>8} {:>6} {:>11} {:>11} {:>9} {:>9} {:>6}\n", "method", "context", "users",
                     "baseline/h", "method/h", "ratio", "vs ref", "idle");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const SimulatedRow& r = sim.rows[i];
    out << fmt::format("{:<34} {:>8} {:>6} {:>11} {:>11} {:>9} {:>9} {:>6}\n", rows[i].method,
                       tokens_label(rows[i].context_tokens), r.method.users, per_hour_text(r.baseline),
                       per_hour_text(r.method), ratio_text(ratio_or_nan(r.method, r.baseline)),
                       ratio_text(ratio_or_nan(r.method, sim.reference)),
                       r.method.ok ? fmt::format("{:.0f}%", 100 * r.method.idle) : "-");
  }
  out << what_if_note(rows, sim);
  for (const auto& r : sim.rows) {
    for (const auto* t : {&r.baseline, &r.method}) {
      if (!t->ok && t->error.find("never fit") == std::string::npos) {
        out << fmt::format("failed: {}: {}\n", t->run_dir, t->error);
      }
    }
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
  std::vector<PeakReport> baselines;
  for (const auto& d : rows) baselines.push_back(d.baseline);
  out << model_notes(baselines);
  if (!b.weights_fit) {
    out << fmt::format("note: the weights ({}) do not fit in {} of HBM, so concurrency is 0 and C cannot change; "
                       "add GPUs with --tp.\n",
                       format_bytes(b.weight_bytes), format_bytes(b.hbm_bytes));
  }
}

}  // namespace

void write_compression(std::ostream& out, const std::vector<CompressionDelta>& rows, const std::string& format,
                       const CompressionSimulation* sim) {
  if (format == "json") {
    nlohmann::ordered_json j;
    j["rows"] = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < rows.size(); ++i) {
      auto row = delta_json(rows[i]);
      if (sim) {
        row["simulated"]["baseline"] = sim_json(sim->rows[i].baseline);
        row["simulated"]["method"] = sim_json(sim->rows[i].method);
      }
      j["rows"].push_back(std::move(row));
    }
    if (sim) j["reference"] = sim_json(sim->reference);
    out << j.dump(2) << "\n";
  } else if (format == "csv") {
    write_csv(out, rows, sim);
  } else {
    write_table(out, rows);
    if (sim) write_sim_table(out, rows, *sim);
  }
}

}  // namespace kvsim::cli
