// The objectives `kvsim capacity` searches under.
#include "sim/cli/slo.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "engine/units.hpp"
#include "sim/diagnostics.hpp"

namespace kvsim::cli {
namespace {

struct Known {
  const char* name;
  const char* pointer;
  bool at_most;
  Dim dim;
};

const std::vector<Known>& known() {
  static const std::vector<Known> k = {
      {"ttft_p50", "/ttft/p50_s", true, Dim::kTime},
      {"ttft_p90", "/ttft/p90_s", true, Dim::kTime},
      {"ttft_p99", "/ttft/p99_s", true, Dim::kTime},
      {"decode_rate_p50", "/decode/rate_p50_tok_per_s", false, Dim::kTokenRate},
      {"decode_rate_p10", "/decode/rate_p10_tok_per_s", false, Dim::kTokenRate},
      {"tpot_p50", "/decode/tpot_p50_s", true, Dim::kTime},
      {"stall_p99", "/swap/stall_p99_s", true, Dim::kTime},
      {"ttft_attainment", "/slo/ttft_attainment", false, Dim::kRatio},
      {"decode_rate_attainment", "/slo/decode_rate_attainment", false, Dim::kRatio},
  };
  return k;
}

// A bound no run can meet or that every run meets: times and rates must be positive and finite, attainments a
// fraction in (0, 1].
std::string bound_problem(const Known& k, double v) {
  if (k.dim == Dim::kRatio) {
    return v > 0 && v <= 1 ? "" : fmt::format("an attainment is a fraction in (0, 1] (e.g. 0.9 or 90%), got {:g}", v);
  }
  return std::isfinite(v) && v > 0 ? "" : fmt::format("expected a positive, finite bound, got {:g}", v);
}

}  // namespace

std::vector<std::string> slo_names() {
  std::vector<std::string> out;
  for (const auto& k : known())
    out.push_back(fmt::format("{} ({} {})", k.name, k.at_most ? "<=" : ">=", dim_description(k.dim)));
  return out;
}

std::vector<Slo> parse_slos(const std::string& text) {
  std::vector<Slo> out;
  Diagnostics diag;
  for (std::size_t start = 0;;) {
    const auto end = text.find(',', start);
    const std::string item = trim(text.substr(start, end == std::string::npos ? end : end - start));
    const auto eq = item.find('=');
    const std::string name = trim(item.substr(0, eq));
    const auto it = std::find_if(known().begin(), known().end(), [&](const Known& k) { return name == k.name; });
    if (eq == std::string::npos || it == known().end()) {
      diag.add({"", "--slo", 0, 0, item, "expected name=value with name one of: " + join(slo_names())});
    } else {
      const std::string value = trim(item.substr(eq + 1));
      const ParsedQuantity q = parse_quantity(value, it->dim);
      if (!q.value) {
        diag.add({"", "--slo", 0, 0, item, q.error});
      } else if (auto bad = bound_problem(*it, *q.value); !bad.empty()) {
        diag.add({"", "--slo", 0, 0, item, bad});
      } else if (std::any_of(out.begin(), out.end(), [&](const Slo& s) { return s.name == name; })) {
        diag.add({"", "--slo", 0, 0, item, fmt::format("{} is given twice; give each objective once", name)});
      } else {
        const std::string unit = it->dim == Dim::kTime ? "_s" : it->dim == Dim::kTokenRate ? "_tok_per_s" : "";
        out.push_back(Slo{name, it->pointer, it->at_most, *q.value, value, name + unit});
      }
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  diag.throw_if_any();
  return out;
}

bool meets(const std::vector<Slo>& slos, const nlohmann::json& summary, std::string& why) {
  if (summary.value("rounds_completed", 0.0) <= 0) {
    why = "no round completed";
    return false;
  }
  for (const auto& s : slos) {
    const double v = summary.at(nlohmann::json::json_pointer(s.pointer)).get<double>();
    if (s.at_most ? v > s.bound : v < s.bound) {
      why = fmt::format("{} = {:.4g} misses {} {}", s.name, v, s.at_most ? "<=" : ">=", s.text);
      return false;
    }
  }
  return true;
}

EarlyStop early_stop_for(const std::vector<Slo>& slos) {
  EarlyStop e;
  const std::string prefix = "ttft_p";
  for (const auto& s : slos) {
    if (s.name.rfind(prefix, 0) != 0) continue;
    e.ttft.push_back(TtftTarget{s.name, std::stod(s.name.substr(prefix.size())), s.bound});
  }
  e.queue_growth = !e.ttft.empty();
  return e;
}

}  // namespace kvsim::cli
