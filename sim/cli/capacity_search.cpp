// The statistics and the search of `kvsim capacity` (see capacity_search.hpp).
#include "sim/cli/capacity_search.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "sim/cli/sweep_store.hpp"

namespace kvsim::cli {

std::string verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kMeets:
      return "meets";
    case Verdict::kUncertain:
      return "uncertain";
    case Verdict::kMisses:
      return "misses";
  }
  return "?";
}

namespace {

// How one objective's interval sits against its bound: -1 surely bad, 0 straddling, +1 surely good.
int side(const Slo& s, const MeanCi& m) {
  const double lo = m.mean - m.half, hi = m.mean + m.half;
  if (s.at_most) return hi <= s.bound ? 1 : lo > s.bound ? -1 : 0;
  return lo >= s.bound ? 1 : hi < s.bound ? -1 : 0;
}

bool mean_good(const Slo& s, const MeanCi& m) {
  return s.at_most ? m.mean <= s.bound : m.mean >= s.bound;
}

std::string describe(const Slo& s, const MeanCi& m, const char* what) {
  return fmt::format("{} = {:.4g} ± {:.2g} {} {} {}", s.name, m.mean, m.half, what, s.at_most ? "<=" : ">=", s.text);
}

}  // namespace

Judgement judge(const std::vector<Slo>& slos, const std::vector<nlohmann::json>& summaries) {
  Judgement j;
  for (std::size_t k = 0; k < summaries.size(); ++k) {
    if (summaries[k].value("rounds_completed", 0.0) <= 0) {
      j.why = fmt::format("replicate {} completed no round", k);
      return j;
    }
  }
  bool sure = true, bad = false;
  j.mean_meets = !summaries.empty();
  for (const auto& s : slos) {
    std::vector<double> v;
    for (const auto& sum : summaries) v.push_back(sum.at(nlohmann::json::json_pointer(s.pointer)).get<double>());
    const MeanCi m = mean_ci(v);
    const int where = side(s, m);
    if (where < 0 && !bad) j.why = describe(s, m, "misses");
    if (where == 0 && sure && !bad) j.why = describe(s, m, "straddles");
    bad = bad || where < 0;
    sure = sure && where > 0;
    j.mean_meets = j.mean_meets && mean_good(s, m);
  }
  j.verdict = bad ? Verdict::kMisses : sure ? Verdict::kMeets : Verdict::kUncertain;
  if (j.verdict == Verdict::kMeets) j.why.clear();
  return j;
}

CapacitySearch::CapacitySearch(double from_per_h, double precision, int max_probes)
    : from_(from_per_h), precision_(precision), max_probes_(max_probes), next_(from_per_h) {}

void CapacitySearch::record(bool ran, const Judgement& j) {
  if (!ran) {
    done_ = broken_ = true;
    return;
  }
  rates_.push_back(Done{next_, j});
  const auto p = probes() < max_probes_ ? plan() : std::nullopt;
  done_ = !p;
  if (p) next_ = *p;
}

double CapacitySearch::lowest() const {
  double r = rates_.front().rate;
  for (const auto& d : rates_) r = std::min(r, d.rate);
  return r;
}

double CapacitySearch::highest() const {
  double r = rates_.front().rate;
  for (const auto& d : rates_) r = std::max(r, d.rate);
  return r;
}

std::optional<double> CapacitySearch::estimate() const {
  std::optional<double> best;
  for (const auto& d : rates_) {
    if (d.j.mean_meets && (!best || d.rate > *best)) best = d.rate;
  }
  return best;
}

std::optional<double> CapacitySearch::mean_fail() const {
  const auto est = estimate();
  std::optional<double> out;
  for (const auto& d : rates_) {
    if (!d.j.mean_meets && (!est || d.rate > *est) && (!out || d.rate < *out)) out = d.rate;
  }
  return out;
}

std::optional<double> CapacitySearch::ci_low() const {
  std::optional<double> out;
  for (const auto& d : rates_) {
    if (d.j.verdict == Verdict::kMeets && (!out || d.rate > *out)) out = d.rate;
  }
  return out;
}

std::optional<double> CapacitySearch::ci_high() const {
  std::optional<double> out;
  for (const auto& d : rates_) {
    if (d.j.verdict == Verdict::kMisses && (!out || d.rate < *out)) out = d.rate;
  }
  return out;
}

// The midpoint of a bracket [in, out] (either order) while it is wider than the precision, else nothing.
std::optional<double> CapacitySearch::bisect(std::optional<double> in, std::optional<double> out) const {
  if (!in || !out) return std::nullopt;
  const double lo = std::min(*in, *out), hi = std::max(*in, *out);
  return hi - lo > precision_ * hi ? std::optional<double>((lo + hi) / 2) : std::nullopt;
}

// First the estimate's bracket (halve or double until a mean passes and one fails, then bisect), then the low end
// of the interval (the highest sure pass against the lowest rate above it that is not one), then the high end.
std::optional<double> CapacitySearch::plan() const {
  const double floor = from_ / 1024;
  const auto est = estimate();
  if (!est) return lowest() > floor ? std::optional<double>(lowest() / 2) : std::nullopt;
  const auto fail = mean_fail();
  if (!fail) return highest() * 2;
  if (auto mid = bisect(est, fail)) return mid;
  const auto low_in = ci_low();
  if (!low_in && lowest() > floor) return lowest() / 2;
  if (low_in) {
    std::optional<double> low_out;
    for (const auto& d : rates_) {
      if (d.rate > *low_in && d.j.verdict != Verdict::kMeets && (!low_out || d.rate < *low_out)) low_out = d.rate;
    }
    if (auto mid = bisect(low_in, low_out)) return mid;
  }
  const auto high_in = ci_high();
  if (!high_in) return highest() * 2;
  std::optional<double> high_out;
  for (const auto& d : rates_) {
    if (d.rate < *high_in && d.j.verdict != Verdict::kMisses && (!high_out || d.rate > *high_out)) high_out = d.rate;
  }
  return bisect(high_out, high_in);
}

}  // namespace kvsim::cli
