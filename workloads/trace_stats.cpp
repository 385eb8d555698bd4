#include "workloads/trace_stats.hpp"

#include <algorithm>
#include <unordered_set>

#include "engine/metrics.hpp"

namespace kvsim {
namespace {

std::uint64_t mix(std::uint64_t h) {
  h += 0x9e3779b97f4a7c15ULL;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

}  // namespace

std::vector<double> round_gaps_s(const Trace& trace) {
  std::vector<double> gaps;
  for (const TraceSession& s : trace.sessions) {
    for (std::size_t i = 1; i < s.rounds.size(); ++i) {
      const TraceRound &r = s.rounds[i], &p = s.rounds[i - 1];
      gaps.push_back(r.arrival_s >= 0 && p.arrival_s >= 0 ? r.arrival_s - p.arrival_s : r.think_s);
    }
  }
  return gaps;
}

Summary Summary::of(const std::vector<double>& values) {
  Summary s;
  if (values.empty()) return s;
  s.count = static_cast<double>(values.size());
  double sum = 0;
  s.min = values.front();
  s.max = values.front();
  for (const double v : values) {
    sum += v;
    s.min = std::min(s.min, v);
    s.max = std::max(s.max, v);
  }
  s.mean = sum / s.count;
  s.p50 = percentile(values, 50);
  s.p90 = percentile(values, 90);
  s.p99 = percentile(values, 99);
  return s;
}

std::vector<std::uint64_t> chain_keys(const std::vector<std::uint64_t>& blocks) {
  std::vector<std::uint64_t> keys;
  keys.reserve(blocks.size());
  std::uint64_t h = 0;
  for (const std::uint64_t b : blocks) {
    h = mix(h ^ mix(b));
    keys.push_back(h);
  }
  return keys;
}

TraceStats trace_stats(const Trace& trace) {
  TraceStats st;
  std::vector<double> in, out, rounds;
  double first = -1, last = 0;
  std::unordered_set<std::uint64_t> seen;
  for (const TraceSession& s : trace.sessions) {
    rounds.push_back(static_cast<double>(s.rounds.size()));
    for (std::size_t i = 0; i < s.rounds.size(); ++i) {
      const TraceRound& r = s.rounds[i];
      in.push_back(static_cast<double>(r.prompt_tokens));
      out.push_back(static_cast<double>(r.output_tokens));
      if (r.arrival_s >= 0) {
        first = first < 0 ? r.arrival_s : std::min(first, r.arrival_s);
        last = std::max(last, r.arrival_s);
      }
    }
  }
  // The ideal hit ratio visits requests in arrival order, as a cache would see them; a round timed by think time
  // counts as arriving its think time after the previous round.
  std::vector<std::pair<double, const TraceRound*>> order;
  for (const TraceSession& s : trace.sessions) {
    double t = 0;
    for (const TraceRound& r : s.rounds) {
      t = r.arrival_s >= 0 ? r.arrival_s : t + r.think_s;
      order.emplace_back(t, &r);
    }
  }
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [t, r] : order) {
    const auto keys = chain_keys(r->blocks);
    bool hit = true;
    for (std::size_t b = 0; b < keys.size(); ++b) {
      hit = hit && seen.count(keys[b]) > 0;
      if (hit) st.ideal_cached_tokens += static_cast<double>(block_span(r->prompt_tokens, trace.block_tokens, b));
      seen.insert(keys[b]);
    }
    st.prompt_tokens += static_cast<double>(r->prompt_tokens);
  }
  st.requests = static_cast<double>(in.size());
  st.sessions = static_cast<double>(trace.sessions.size());
  st.span_s = first < 0 ? 0 : last - first;
  st.rate_per_s = st.span_s > 0 ? st.requests / st.span_s : 0;
  st.input_tokens = Summary::of(in);
  st.output_tokens = Summary::of(out);
  st.rounds_per_session = Summary::of(rounds);
  st.gap_s = Summary::of(round_gaps_s(trace));
  st.ideal_prefix_hit_ratio = st.prompt_tokens > 0 ? st.ideal_cached_tokens / st.prompt_tokens : 0;
  return st;
}

}  // namespace kvsim
