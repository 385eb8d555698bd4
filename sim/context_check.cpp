// Sessions longer than the model's context are refused before the run: a model cannot attend past its context
// window, so such a session's figures would describe a deployment that cannot exist.
#include "sim/context_check.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <optional>

namespace kvsim {
namespace {

constexpr const char* kWhatIf = "or, for a what-if, raise model.max_context";

// A length as the check takes it: the distribution's largest value, or a high quantile when it has none.
struct Length {
  std::int64_t tokens = 0;
  std::string note;  // how an unbounded distribution was taken; empty when it is bounded
};

Length largest(const DistSpec& d) {
  const double hi = d.upper_bound();
  if (std::isfinite(hi)) return {std::max<std::int64_t>(0, std::llround(hi)), ""};
  const double q = std::max(d.quantile(kContextCheckQuantile), d.min);
  return {std::llround(q),
          fmt::format(" ({} without max: its {:g}th percentile)", d.kind, 100 * kContextCheckQuantile)};
}

// The synthetic session at its largest, as SessionFactory draws it: at least one round and one answer token.
struct Longest {
  Length doc, question, answer, rounds;
  std::int64_t per_round = 0, total = 0;
};

Longest longest_session(const WorkloadSpec& w) {
  Longest l{largest(w.document_tokens), largest(w.question_tokens), largest(w.answer_tokens), largest(w.rounds)};
  l.rounds.tokens = std::max<std::int64_t>(1, l.rounds.tokens);
  l.answer.tokens = std::max<std::int64_t>(1, l.answer.tokens);
  l.per_round = l.question.tokens + l.answer.tokens;
  l.total = l.doc.tokens + l.rounds.tokens * l.per_round;
  return l;
}

void check_synthetic(const Scenario& s, double context) {
  const Longest l = longest_session(s.workload);
  if (double(l.total) <= context) return;
  const std::int64_t room = std::llround(context) - l.rounds.tokens * l.per_round;
  const std::string fix =
      room > 0 ? fmt::format("make workload.document_tokens at most {}", room)
               : fmt::format("use fewer rounds ({} rounds of {} tokens alone exceed it)", l.rounds.tokens, l.per_round);
  const bool unbounded = !(l.doc.note + l.question.note + l.answer.note + l.rounds.note).empty();
  const std::string message = fmt::format(
      "a session can be longer than the model's context: document {}{} + {} rounds{} x (question {}{} + answer {}{}) "
      "= {} tokens > {}'s context {:.0f} ({}); {}, pick a model with a longer context, {}{}",
      l.doc.tokens, l.doc.note, l.rounds.tokens, l.rounds.note, l.question.tokens, l.question.note, l.answer.tokens,
      l.answer.note, l.total, s.model.name, context, context_origin(s), fix, kWhatIf,
      unbounded ? "; a distribution without max is taken at that percentile: give it a max" : "");
  const bool rounds_dominate = l.rounds.tokens * l.per_round > l.doc.tokens;
  throw InputError(
      std::vector<Diagnostic>{s.values.at(rounds_dominate ? "workload.rounds" : "workload.document_tokens", message)});
}

// The first round of `ts` whose context exceeds `context`: the round's own prompt and answer for a stateless
// session (each prompt restates the whole context), those of every round so far for one that keeps its context.
struct Excess {
  std::size_t round = 0;
  std::int64_t before = 0, tokens = 0;
};

std::optional<Excess> first_excess(const TraceSession& ts, double context) {
  std::int64_t held = 0;
  for (std::size_t i = 0; i < ts.rounds.size(); ++i) {
    const std::int64_t before = ts.stateless ? 0 : held;
    held = before + ts.rounds[i].prompt_tokens + ts.rounds[i].output_tokens;
    if (double(held) > context) return Excess{i, before, held};
  }
  return std::nullopt;
}

void check_trace(const Scenario& s, double context) {
  const Trace& trace = *s.workload.trace.trace;
  const TraceSession* first = nullptr;
  Excess excess;
  std::size_t over = 0;
  for (const TraceSession& ts : trace.sessions) {
    const auto e = first_excess(ts, context);
    if (!e) continue;
    if (over++ == 0) {
      first = &ts;
      excess = *e;
    }
  }
  if (over == 0) return;
  const TraceRound& r = first->rounds[excess.round];
  const std::string earlier = excess.before > 0 ? fmt::format("earlier rounds {} + ", excess.before) : "";
  throw InputError(std::vector<Diagnostic>{s.values.at(
      "workload.trace.path",
      fmt::format("{}:{}: session {} round {} holds {}prompt {} + answer {} = {} tokens > {}'s context {:.0f} ({}); "
                  "{} of {} sessions exceed it; replay the trace on a model with a longer context, {}",
                  trace.file, r.line, first->id, excess.round + 1, earlier, r.prompt_tokens, r.output_tokens,
                  excess.tokens, s.model.name, context, context_origin(s), over, trace.sessions.size(), kWhatIf))});
}

}  // namespace

std::int64_t longest_session_tokens(const WorkloadSpec& w) {
  return longest_session(w).total;
}

std::string context_origin(const Scenario& s) {
  if (s.values.has("model.max_context")) return "model.max_context";
  if (s.values.has("model.hf_config") && !s.values.string("model.hf_config").empty()) {
    return "max_position_embeddings in " +
           std::filesystem::path(s.values.string("model.hf_config")).filename().string();
  }
  return "max_context in models.yaml";
}

void check_context(const Scenario& s) {
  const double context = s.model.max_context;
  if (context <= 0) return;
  if (s.workload.trace.trace) return check_trace(s, context);
  check_synthetic(s, context);
}

}  // namespace kvsim
