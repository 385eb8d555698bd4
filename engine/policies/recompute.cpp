// `recompute`: drop an evicted session's KV; its next round re-prefills the whole context (vLLM's default).
#include "engine/policies/policies.hpp"

namespace kvsim {
namespace {
class RecomputePolicy final : public OffloadPolicy {
 public:
  std::string_view name() const override { return "recompute"; }
  EvictAction on_evict(const VictimInfo&, const PolicyContext&) const override { return EvictAction::kDrop; }
};
}  // namespace

OffloadRegistry::Entry recompute_policy() {
  return {"recompute",
          "drop an evicted session's KV; its next round re-prefills the whole context (vLLM's default)",
          {},
          [](const Params&, const PolicyEnv&) { return std::make_unique<RecomputePolicy>(); }};
}

}  // namespace kvsim
