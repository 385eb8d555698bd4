// `prefetch`: `offload-idle`, plus a swap-in started so that it lands when the user is expected back: at the
// think-time quantile `scheduler.kv_offload.prefetch_quantile` after the round ended, less the transfer time alone.
// A guess too early holds HBM that others could use and may be evicted again (PCIe spent twice); a guess too late
// leaves the rest of the swap-in as a stall.
#include "engine/policies/policies.hpp"

namespace kvsim {
namespace {
class PrefetchPolicy final : public OffloadPolicy {
 public:
  std::string_view name() const override { return "prefetch"; }
  EvictAction on_evict(const VictimInfo& victim, const PolicyContext& ctx) const override {
    return victim.kv_bytes <= ctx.ddr_free_bytes ? EvictAction::kSwapOut : EvictAction::kDrop;
  }
  bool offload_when_idle() const override { return true; }
  double prefetch_at_s(const VictimInfo& v, const PolicyContext& ctx) const override {
    return v.guessed_return_s - v.kv_bytes / ctx.host_link_bandwidth;
  }
};
}  // namespace

std::unique_ptr<OffloadPolicy> make_prefetch_policy() { return std::make_unique<PrefetchPolicy>(); }

}  // namespace kvsim
