#pragma once
/// @file capacity_search.hpp
/// @brief The statistics and the search of `kvsim capacity`, apart from running processes: each probe runs R
/// replicates with independent seeds, every objective is judged on the 95% t-interval of its replicate mean, and
/// the search brackets three rates: the highest whose mean meets the SLOs (the estimate), the highest that meets
/// them with 95% confidence (the interval's low end) and the lowest that misses them with 95% confidence (its high
/// end). The capacity's interval is the set of rates the replicates cannot tell from the SLO boundary, the
/// inversion of the per-rate test, widened by the search's precision.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sim/cli/slo.hpp"
#include "sim/cli/sweep_store.hpp"

namespace kvsim::cli {

/// @brief What the replicates of one probe say about the SLOs.
enum class Verdict {
  kMeets,      ///< every objective's 95% interval lies on the good side of its bound
  kUncertain,  ///< no objective is surely missed, but some interval straddles its bound
  kMisses,     ///< some objective's 95% interval lies on the bad side of its bound
};

/// @brief "meets", "uncertain" or "misses".
std::string verdict_name(Verdict v);

/// @brief One probe judged: its verdict on the interval, and whether the replicate means meet every objective.
struct Judgement {
  Verdict verdict = Verdict::kMisses;
  bool mean_meets = false;
  std::string why;  ///< the objective that decided a miss or an uncertain verdict, with its mean and interval
};

/// @brief Judges the summaries of one probe's replicates against `slos`. A replicate that completed no round
/// misses every objective.
Judgement judge(const std::vector<Slo>& slos, const std::vector<nlohmann::json>& summaries);

/// @brief The rates probed so far at one point, and the next one to probe. Rates are sessions per hour.
class CapacitySearch {
 public:
  /// @param from_per_h the first rate; @param precision the relative width at which each bracket stops;
  /// @param max_probes the probe budget.
  CapacitySearch(double from_per_h, double precision, int max_probes);

  /// @brief Records the probe at next(); `ran` false marks the search broken.
  void record(bool ran, const Judgement& j);
  /// @brief The rate to probe next (meaningful while !done()).
  double next() const { return next_; }
  bool done() const { return done_; }
  bool broken() const { return broken_; }
  /// @brief The highest rate whose replicate means met the SLOs: the capacity estimate.
  std::optional<double> estimate() const;
  /// @brief The lowest rate above the estimate whose means missed.
  std::optional<double> mean_fail() const;
  /// @brief The interval's low end: the highest rate that met the SLOs with 95% confidence (0 when none did
  /// down to the search's floor).
  std::optional<double> ci_low() const;
  /// @brief The interval's high end: the lowest rate that missed them with 95% confidence.
  std::optional<double> ci_high() const;
  /// @brief Probes recorded so far.
  int probes() const { return int(rates_.size()); }

 private:
  struct Done {
    double rate;
    Judgement j;
  };
  std::optional<double> plan() const;
  std::optional<double> bisect(std::optional<double> in, std::optional<double> out) const;
  double lowest() const;
  double highest() const;

  double from_, precision_;
  int max_probes_;
  std::vector<Done> rates_;
  double next_;
  bool done_ = false, broken_ = false;
};

}  // namespace kvsim::cli
