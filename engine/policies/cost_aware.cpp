// `cost-aware`: per victim, swap or recompute, whichever costs the replica less now. The swap-out happens while
// the user thinks; what the returning round pays is the swap-in at the host-link share it would get
// (bandwidth / (transfers in flight + 1)). Recomputing costs the prefill of its context on the GPU, and every other
// active round waits for that GPU time too, so it counts once per round that shares the GPU. Swap needs DDR room;
// without it the KV is dropped.
#include "engine/policies/policies.hpp"

namespace kvsim {
namespace {
class CostAwarePolicy final : public OffloadPolicy {
 public:
  std::string_view name() const override { return "cost-aware"; }
  EvictAction on_evict(const VictimInfo& victim, const PolicyContext& ctx) const override {
    const double share = ctx.host_link_bandwidth / double(ctx.transfers_in_flight + 1);
    const double swap_s = victim.kv_bytes / share;
    const double recompute_s = ctx.recompute_s * double(ctx.active_rounds + 1);
    const bool cheaper = swap_s < recompute_s;
    return cheaper && victim.kv_bytes <= ctx.ddr_free_bytes ? EvictAction::kSwapOut : EvictAction::kDrop;
  }
};
}  // namespace

OffloadRegistry::Entry cost_aware_policy() {
  return {"cost-aware",
          "per victim, swap or recompute, whichever costs the replica less now",
          {},
          [](const Params&, const PolicyEnv&) { return std::make_unique<CostAwarePolicy>(); }};
}

}  // namespace kvsim
