#pragma once
/// @file session.hpp
/// @brief User sessions as in the paper's Table 1: a document and a question, an answer, think time, the next
/// question, for `rounds` rounds. Each session's lengths come from its own seeded stream, keyed by where it comes
/// from (arrival index, or user and session number), so every policy sees the same sessions.

#include <cstdint>
#include <vector>

#include "workloads/distribution.hpp"
#include "workloads/trace.hpp"

namespace kvsim {

/// @brief How sessions arrive.
struct ArrivalSpec {
  std::string type = "poisson";  ///< poisson, closed, list
  double rate = 0;               ///< sessions per second (poisson)
  long users = 0;                ///< closed loop: each user starts a new session when the last ends
  double ramp_up = 0;            ///< closed loop: user u starts at u x ramp_up / users
  std::vector<double> times;     ///< list: session start times in seconds
};

/// @brief User sessions and how they arrive.
struct WorkloadSpec {
  DistSpec document_tokens, question_tokens, answer_tokens, rounds, think_time;
  ArrivalSpec arrival;
  double duration = 3600;  ///< seconds of simulated time after which no new session starts
  long max_sessions = 0;   ///< 0 = no limit
  double warmup = 0;       ///< sessions starting before this are excluded from statistics
  TraceReplay trace;       ///< when it has a path, sessions come from this trace instead
};

/// @brief One question round.
struct RoundPlan {
  std::int64_t prompt_tokens = 0;  ///< new prompt tokens: document + question in round 1, the question later
  std::int64_t answer_tokens = 0;  ///< tokens generated
  double think_after_s = 0;        ///< the user's think time after reading this answer
};

/// @brief One session's rounds.
struct SessionPlan {
  std::vector<RoundPlan> rounds;
  /// @brief Tokens of context once every round has finished.
  std::int64_t total_tokens() const;
};

/// @brief Draws sessions from a workload. Deterministic in (seed, key).
class SessionFactory {
 public:
  SessionFactory(const WorkloadSpec& spec, std::uint64_t seed) : spec_(spec), seed_(seed) {}
  /// @brief The session identified by `key` (arrival index, or user << 32 | session number).
  SessionPlan make(std::uint64_t key) const;

 private:
  const WorkloadSpec& spec_;
  std::uint64_t seed_;
};

/// @brief Open-loop session start times: Poisson at `rate` or an explicit list, up to `duration`.
class ArrivalProcess {
 public:
  ArrivalProcess(const WorkloadSpec& spec, std::uint64_t seed);
  /// @brief The next start time, or a negative value when no more sessions start.
  double next();

 private:
  const WorkloadSpec& spec_;
  Rng rng_;
  double t_ = 0;
  std::size_t index_ = 0;
};

}  // namespace kvsim
