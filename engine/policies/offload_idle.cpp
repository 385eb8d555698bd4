// `offload-idle`: start the swap-out as soon as a round ends, so the session's HBM is free during the user's think
// time, and swap it back in when the next round arrives. Under pressure it behaves as `swap`.
#include "engine/policies/policies.hpp"

namespace kvsim {
namespace {
class OffloadIdlePolicy final : public OffloadPolicy {
 public:
  std::string_view name() const override { return "offload-idle"; }
  EvictAction on_evict(const VictimInfo& victim, const PolicyContext& ctx) const override {
    return victim.kv_bytes <= ctx.ddr_free_bytes ? EvictAction::kSwapOut : EvictAction::kDrop;
  }
  bool offload_when_idle() const override { return true; }
};
}  // namespace

OffloadRegistry::Entry offload_idle_policy() {
  return {"offload-idle",
          "swap a session's KV out as soon as its round ends, freeing HBM during think time",
          {},
          [](const Params&, const PolicyEnv&) { return std::make_unique<OffloadIdlePolicy>(); }};
}

}  // namespace kvsim
