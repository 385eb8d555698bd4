// `swap`: on demand, move an idle session's KV to CPU DDR when HBM is short; swap it back in when its next
// round arrives. When DDR is full the KV is dropped instead (and recomputed later).
#include "engine/policies/policies.hpp"

namespace kvsim {
namespace {
class SwapPolicy final : public OffloadPolicy {
 public:
  std::string_view name() const override { return "swap"; }
  EvictAction on_evict(const VictimInfo& victim, const PolicyContext& ctx) const override {
    return victim.kv_bytes <= ctx.ddr_free_bytes ? EvictAction::kSwapOut : EvictAction::kDrop;
  }
};
}  // namespace

OffloadRegistry::Entry swap_policy() {
  return {"swap",
          "move an idle session's KV to CPU DDR when HBM is short; swap it back in on its next round",
          {},
          [](const Params&, const PolicyEnv&) { return std::make_unique<SwapPolicy>(); }};
}

}  // namespace kvsim
