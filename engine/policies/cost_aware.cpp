// `cost-aware`: per victim, swap or recompute, whichever is cheaper now. Swapping costs the KV's trip out and back
// over the host link at the share it would get (bandwidth / (transfers in flight + 1)); recomputing costs the
// prefill of its context on the replica. Swap needs DDR room; without it the KV is dropped.
#include "engine/policies/policies.hpp"

namespace kvsim {
namespace {
class CostAwarePolicy final : public OffloadPolicy {
 public:
  std::string_view name() const override { return "cost-aware"; }
  EvictAction on_evict(const VictimInfo& victim, const PolicyContext& ctx) const override {
    const double share = ctx.host_link_bandwidth / double(ctx.transfers_in_flight + 1);
    const double swap_s = 2.0 * victim.kv_bytes / share;
    const bool cheaper = swap_s < ctx.recompute_s;
    return cheaper && victim.kv_bytes <= ctx.ddr_free_bytes ? EvictAction::kSwapOut : EvictAction::kDrop;
  }
};
}  // namespace

std::unique_ptr<OffloadPolicy> make_cost_aware_policy() { return std::make_unique<CostAwarePolicy>(); }

}  // namespace kvsim
