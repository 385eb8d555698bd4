#include "sim/cli/replay_compare.hpp"

#include "sim/cli/plot_data.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace kvsim::cli {
namespace {

const char* const kStats[] = {"mean", "p50", "p90", "p95", "p99"};

double stat(const std::vector<double>& v, const std::string& name) {
  if (v.empty()) return 0;
  if (name == "mean") return std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
  return percentile(v, std::stod(name.substr(1)));  // "p90" -> 90
}

nlohmann::ordered_json entry(double measured, double simulated) {
  nlohmann::ordered_json e;
  e["measured"] = measured;
  e["simulated"] = simulated;
  // simulated / measured - 1; null when nothing was measured (a 0 s figure has no relative error).
  e["error"] = measured > 0 ? nlohmann::ordered_json(simulated / measured - 1) : nlohmann::ordered_json(nullptr);
  return e;
}

double rmse(const std::vector<VllmSample>& m, const std::vector<QueueSample>& s, double VllmSample::*mf,
            double QueueSample::*sf) {
  if (m.empty()) return 0;
  double sum = 0;
  for (std::size_t i = 0; i < m.size(); ++i) sum += std::pow(m[i].*mf - s[i].*sf, 2);
  return std::sqrt(sum / double(m.size()));
}

std::string num(double v) {
  return fmt::format("{:.10g}", v);
}

}  // namespace

RequestFigures measured_figures(const VllmRun& run) {
  RequestFigures f;
  for (const auto& r : run.requests) {
    f.ttft.push_back(r.ttft());
    if (r.output_toks > 1) f.tpot.push_back(r.tpot());
    f.latency.push_back(r.latency());
  }
  f.requests = run.requests.size();
  return f;
}

RequestFigures simulated_figures(const RunMetrics& m) {
  RequestFigures f;
  for (const auto& r : m.rounds()) {
    f.ttft.push_back(r.ttft_s);
    if (r.answer_tokens > 1) f.tpot.push_back(r.decode_s / double(r.answer_tokens - 1));
    f.latency.push_back(r.end_s - r.arrival_s);
    if (r.recompute_tokens > 0 || r.swap_out_bytes > 0) ++f.preempted_requests;
  }
  f.requests = m.rounds().size();
  for (const auto& [key, value] : m.summary()) {
    if (key == "recompute.count") f.preemptions += static_cast<std::int64_t>(value);
  }
  f.preemptions += static_cast<std::int64_t>(m.transfers().size()) / 2;  // one swap out and one in per preemption
  return f;
}

std::vector<QueueSample> simulated_queue(const RunMetrics& m, const std::vector<VllmSample>& measured,
                                         double kv_pool_bytes, double end_s) {
  const auto& rows = m.timeline();
  std::vector<QueueSample> out;
  std::size_t i = 0;  // rows[i - 1] is the last row at or before t (measured times increase)
  for (const auto& sample : measured) {
    while (i < rows.size() && rows[i].time_s <= sample.t) ++i;
    QueueSample q{sample.t};
    if (i > 0) {
      const auto& row = rows[i - 1];
      const bool over = sample.t > end_s;
      q.running = over ? 0 : row.active_rounds;
      q.waiting = over ? 0 : row.waiting_rounds;
      q.kv_use_pct = kv_pool_bytes > 0 ? 100 * row.hbm_kv_bytes / kv_pool_bytes : 0;
    }
    out.push_back(q);
  }
  return out;
}

nlohmann::ordered_json comparison_json(const RequestFigures& measured, const RequestFigures& simulated,
                                       const std::vector<VllmSample>& timeseries,
                                       const std::vector<QueueSample>& queue) {
  nlohmann::ordered_json j;
  j["percentiles"] = "linear interpolation between closest ranks (numpy's default), on both sides";
  const std::pair<const char*, std::vector<double> RequestFigures::*> metrics[] = {
      {"ttft_s", &RequestFigures::ttft}, {"tpot_s", &RequestFigures::tpot}, {"latency_s", &RequestFigures::latency}};
  for (const auto& [name, field] : metrics) {
    for (const char* s : kStats) j["metrics"][name][s] = entry(stat(measured.*field, s), stat(simulated.*field, s));
  }
  auto& ts = j["timeseries"];
  ts["samples"] = timeseries.size();
  ts["running_rmse"] = rmse(timeseries, queue, &VllmSample::running, &QueueSample::running);
  ts["waiting_rmse"] = rmse(timeseries, queue, &VllmSample::waiting, &QueueSample::waiting);
  const bool kv_recorded =
      std::any_of(timeseries.begin(), timeseries.end(), [](const VllmSample& v) { return v.kv_cache_pct > 0; });
  if (kv_recorded) {
    ts["kv_use_pct_rmse"] = rmse(timeseries, queue, &VllmSample::kv_cache_pct, &QueueSample::kv_use_pct);
  } else {
    ts["kv_use_pct_rmse"] = nullptr;  // the run's kv_cache_pct column is 0 throughout: not recorded
  }
  j["counts"] = {
      {"requests_measured", measured.requests},         {"requests_simulated", simulated.requests},
      {"tpot_requests_measured", measured.tpot.size()}, {"tpot_requests_simulated", simulated.tpot.size()},
      {"preemptions_simulated", simulated.preemptions}, {"preempted_requests_simulated", simulated.preempted_requests}};
  return j;
}

std::string replay_timeseries_csv(const std::vector<VllmSample>& timeseries, const std::vector<QueueSample>& queue) {
  std::string out =
      "t,measured_running,simulated_running,measured_waiting,simulated_waiting,measured_kv_use_pct,"
      "simulated_kv_use_pct\n";
  for (std::size_t i = 0; i < timeseries.size() && i < queue.size(); ++i) {
    const auto& m = timeseries[i];
    const auto& s = queue[i];
    out += fmt::format("{},{},{},{},{},{},{}\n", num(m.t), num(m.running), num(s.running), num(m.waiting),
                       num(s.waiting), num(m.kv_cache_pct), num(s.kv_use_pct));
  }
  return out;
}

std::string replay_requests_csv(const RequestFigures& measured, const RequestFigures& simulated) {
  std::string out = "metric,side,value,cdf\n";
  const std::pair<const char*, std::vector<double> RequestFigures::*> metrics[] = {
      {"ttft_s", &RequestFigures::ttft}, {"tpot_s", &RequestFigures::tpot}, {"latency_s", &RequestFigures::latency}};
  for (const auto& [name, field] : metrics) {
    for (const auto& [side, figures] : {std::pair{"measured", &measured}, std::pair{"simulated", &simulated}}) {
      std::vector<double> v = figures->*field;
      std::sort(v.begin(), v.end());
      for (std::size_t i = 0; i < v.size(); ++i) {
        out += fmt::format("{},{},{},{}\n", name, side, num(v[i]), num(double(i + 1) / double(v.size())));
      }
    }
  }
  return out;
}

std::string replay_plot_script(const std::filesystem::path& dir) {
  if (!std::filesystem::exists(dir / "replay_requests.csv") ||
      !std::filesystem::exists(dir / "replay_timeseries.csv")) {
    return "";
  }
  const std::string requests = gp_quote(std::filesystem::absolute(dir / "replay_requests.csv").string());
  std::string script;
  for (const auto& [metric, label] :
       {std::pair{"ttft_s", "time to first token"}, std::pair{"tpot_s", "time per output token"},
        std::pair{"latency_s", "latency"}}) {
    std::string body = "plot ";
    for (const char* side : {"measured", "simulated"}) {
      body += fmt::format(
          "{}{} every ::1 using (strcol(1) eq '{}' && strcol(2) eq '{}' ? $3 : 1/0):4 with steps lw 2 "
          "title '{}'",
          side[0] == 'm' ? "" : ", ", requests, metric, side, side);
    }
    const std::string name(metric);
    script += gp_both(fmt::format("replay_{}_cdf", name.substr(0, name.size() - 2)),
                      fmt::format("set title 'CDF of the {} of each request'\nset xlabel '{} (s)'\n"
                                  "set ylabel 'fraction of requests'\nset yrange [0:1]\n",
                                  label, label),
                      body + "\n");
  }
  const std::string ts = gp_quote(std::filesystem::absolute(dir / "replay_timeseries.csv").string());
  std::string body = "plot ";
  const char* columns[] = {"measured_running", "simulated_running", "measured_waiting", "simulated_waiting"};
  for (int i = 0; i < 4; ++i) {
    body += fmt::format("{}{} every ::1 using 1:{} with steps lw 2 dt {} title '{}'", i ? ", " : "", ts, i + 2,
                        i % 2 ? 2 : 1, columns[i]);
  }
  return script + gp_both("replay_queue",
                          "set title 'Running and waiting requests, vLLM vs kvsim'\nset xlabel 'time (s)'\n"
                          "set ylabel 'requests'\n",
                          body + "\n");
}

void print_comparison(std::ostream& out, const nlohmann::ordered_json& c) {
  out << fmt::format("  {:<10} {:<5} {:>12} {:>12} {:>9}\n", "metric", "stat", "measured", "simulated", "error");
  for (const auto& [name, stats] : c["metrics"].items()) {
    for (const auto& [s, e] : stats.items()) {
      const std::string err = e["error"].is_null() ? "-" : fmt::format("{:+.1f}%", 100 * e["error"].get<double>());
      out << fmt::format("  {:<10} {:<5} {:>12.4f} {:>12.4f} {:>9}\n", name, s, e["measured"].get<double>(),
                         e["simulated"].get<double>(), err);
    }
  }
  const auto& ts = c["timeseries"];
  const auto& kv = ts["kv_use_pct_rmse"];
  out << fmt::format("  timeline RMSE over {} s: running {:.2f}, waiting {:.2f}, KV use {}\n",
                     ts["samples"].get<std::size_t>(), ts["running_rmse"].get<double>(),
                     ts["waiting_rmse"].get<double>(),
                     kv.is_null() ? std::string("not recorded by the run (kv_cache_pct 0 throughout)")
                                  : fmt::format("{:.2f} points", kv.get<double>()));
  const auto& n = c["counts"];
  out << fmt::format("  preemptions (simulated): {} of {} requests, {} in all; the run does not record vLLM's\n",
                     n["preempted_requests_simulated"].get<std::size_t>(), n["requests_simulated"].get<std::size_t>(),
                     n["preemptions_simulated"].get<std::int64_t>());
}

}  // namespace kvsim::cli
