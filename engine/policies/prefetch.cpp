// `prefetch`: `offload-idle`, plus a swap-in started so that it lands when the user is expected back: at the
// think-time quantile `scheduler.kv_offload.prefetch_quantile` after the round ended, less the transfer time alone.
// A guess too early holds HBM that others could use and may be evicted again (PCIe spent twice); a guess too late
// leaves the rest of the swap-in as a stall. The quantile is taken of the workload's think-time distribution, or
// on trace replay of the trace's gaps between a session's rounds.
#include <stdexcept>

#include "engine/policies/policies.hpp"

namespace kvsim {
namespace {
class PrefetchPolicy final : public OffloadPolicy {
 public:
  explicit PrefetchPolicy(double guess_s) : guess_s_(guess_s) {}
  std::string_view name() const override { return "prefetch"; }
  EvictAction on_evict(const VictimInfo& victim, const PolicyContext& ctx) const override {
    return victim.kv_bytes <= ctx.ddr_free_bytes ? EvictAction::kSwapOut : EvictAction::kDrop;
  }
  bool offload_when_idle() const override { return true; }
  double prefetch_at_s(const VictimInfo& v, const PolicyContext& ctx) const override {
    return (v.last_used_s + guess_s_) - v.kv_bytes / ctx.host_link_bandwidth;
  }

 private:
  double guess_s_;  ///< the think time the swap-in aims at
};

std::unique_ptr<OffloadPolicy> make(const Params& p, const PolicyEnv& env) {
  if (!env.think_quantile) throw std::invalid_argument("policy 'prefetch' needs a workload with think time");
  return std::make_unique<PrefetchPolicy>(env.think_quantile(p.number("prefetch_quantile")));
}
}  // namespace

OffloadRegistry::Entry prefetch_policy() {
  return {"prefetch",
          "offload-idle, plus a swap-in timed to land when the user is expected back",
          {ParamSpec{.name = "prefetch_quantile",
                     .dim = Dim::kRatio,
                     .default_value = "0.5",
                     .min = 0,
                     .max = 1,
                     .min_exclusive = true,
                     .description = "think-time quantile at which prefetch expects the user back (trace replay: of "
                                    "the gaps between a session's rounds)"}},
          &make};
}

}  // namespace kvsim
