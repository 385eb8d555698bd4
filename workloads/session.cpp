#include "workloads/session.hpp"

#include <cmath>

namespace kvsim {
namespace {
std::int64_t tokens(Rng& rng, const DistSpec& d) { return std::max<std::int64_t>(0, std::llround(rng.sample(d))); }
}  // namespace

std::int64_t SessionPlan::total_tokens() const {
  std::int64_t t = 0;
  for (const auto& r : rounds) t += r.prompt_tokens + r.answer_tokens;
  return t;
}

SessionPlan SessionFactory::make(std::uint64_t key) const {
  Rng rng(derive_seed(seed_, key));
  SessionPlan s;
  const std::int64_t n = std::max<std::int64_t>(1, std::llround(rng.sample(spec_.rounds)));
  s.rounds.resize(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    RoundPlan& r = s.rounds[static_cast<std::size_t>(i)];
    r.prompt_tokens = (i == 0 ? tokens(rng, spec_.document_tokens) : 0) + tokens(rng, spec_.question_tokens);
    r.prompt_tokens = std::max<std::int64_t>(1, r.prompt_tokens);
    r.answer_tokens = std::max<std::int64_t>(1, tokens(rng, spec_.answer_tokens));
    r.think_after_s = rng.sample(spec_.think_time);
  }
  return s;
}

ArrivalProcess::ArrivalProcess(const WorkloadSpec& spec, std::uint64_t seed)
    : spec_(spec), rng_(derive_seed(seed, 0xA77E1ULL)) {}

double ArrivalProcess::next() {
  if (spec_.max_sessions > 0 && index_ >= static_cast<std::size_t>(spec_.max_sessions)) return -1;
  double t = -1;
  if (spec_.arrival.type == "list") {
    if (index_ < spec_.arrival.times.size()) t = spec_.arrival.times[index_];
  } else if (spec_.arrival.type == "poisson") {
    t_ += rng_.exponential(1.0 / spec_.arrival.rate);
    t = t_;
  }
  if (t < 0 || t > spec_.duration) return -1;
  ++index_;
  return t;
}

}  // namespace kvsim
