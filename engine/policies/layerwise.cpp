// `layerwise`: as `swap`, but a returning session's KV is loaded during its first prefill step, layer by layer as
// in AttentionStore (USENIX ATC'24): layer l's KV crosses the host link while layer l-1 computes. The step then
// lasts max(compute, HBM, host-link load), so the stall is only the part of the load the compute cannot hide.
#include "engine/policies/policies.hpp"

namespace kvsim {
namespace {
class LayerwisePolicy final : public OffloadPolicy {
 public:
  std::string_view name() const override { return "layerwise"; }
  EvictAction on_evict(const VictimInfo& victim, const PolicyContext& ctx) const override {
    return victim.kv_bytes <= ctx.ddr_free_bytes ? EvictAction::kSwapOut : EvictAction::kDrop;
  }
  bool layerwise() const override { return true; }
};
}  // namespace

OffloadRegistry::Entry layerwise_policy() {
  return {"layerwise",
          "as swap, loading a returning session's KV layer by layer during its first prefill step",
          {},
          [](const Params&, const PolicyEnv&) { return std::make_unique<LayerwisePolicy>(); }};
}

}  // namespace kvsim
