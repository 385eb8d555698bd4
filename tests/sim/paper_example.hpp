#pragma once
// The paper's running example as the SimGrid run tests use it: Yi-34B, 50K documents, 100-token questions,
// 250-token answers, 60 s of think time, on the catalog A100 (80 GiB, 2.039 TB/s, 312 TFLOP/s) with the paper's
// 20 GB/s PCIe, sessions starting at listed times, prefill attention counted as the paper's Eq. 7 (`full`). Tests
// add their own `--set` overrides.
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/run.hpp"

namespace kvsim::paper_example {

inline constexpr double kKvPerToken = 60.0 * 8 * 128 * 2 * 2;  // 245760 B

/// @brief The example with `sets` applied (e.g. "workload.rounds=2"); `paper_link` false gives the GPU its own host
/// link from the catalog instead of the paper's 20 GB/s.
inline Scenario scenario(const std::vector<std::string>& sets, bool paper_link = true) {
  const std::string text = std::string(R"(
model: yi-34b-200k
hardware:
  gpu: a100-sxm-80g
)") + (paper_link ? "  host_link: {bandwidth: 20GBps}\n" : "") +
                           R"(workload:
  document_tokens: 50K
  question_tokens: 100
  answer_tokens: 250
  think_time: 60s
  arrival: {type: list}
scheduler:
  max_batch_tokens: 65536
  attention_flops: full  # the paper's Eq. 7
)";
  return load_scenario_text(text, "paper-example.yaml", sets, Catalog::load(KVSIM_PLATFORMS_DIR));
}

/// @brief The run's summary by dotted key.
inline std::map<std::string, double> summary(const RunResult& r) {
  std::map<std::string, double> m;
  for (const auto& [k, v] : r.metrics->summary()) m[k] = v;
  return m;
}

/// @brief The row of `session`'s round `round` (1-based).
inline const RoundRow& row(const RunResult& r, SessionId session, int round) {
  for (const auto& x : r.metrics->rounds()) {
    if (x.session == session && x.round == round) return x;
  }
  throw std::runtime_error("no such round");
}

}  // namespace kvsim::paper_example
