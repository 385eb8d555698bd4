// `tiered`: as `swap`, with CPU DDR of limited capacity backed by an NVMe tier (hardware.nvme.*). A victim goes to
// DDR when it fits and to NVMe otherwise; after each swap-out to DDR, the least recently used idle copies move
// from DDR to NVMe until DDR has room for another such copy. A swap-in reads from wherever the copy is, paying
// that tier's bandwidth on its own link and the host link, both shared with other transfers.
#include "engine/policies/policies.hpp"

namespace kvsim {
namespace {
class TieredPolicy final : public OffloadPolicy {
 public:
  std::string_view name() const override { return "tiered"; }
  EvictAction on_evict(const VictimInfo&, const PolicyContext&) const override { return EvictAction::kSwapOut; }
  bool tiered() const override { return true; }
};
}  // namespace

OffloadRegistry::Entry tiered_policy() {
  return {"tiered",
          "as swap, with CPU DDR backed by an NVMe tier (hardware.nvme.*)",
          {},
          [](const Params&, const PolicyEnv&) { return std::make_unique<TieredPolicy>(); }};
}

}  // namespace kvsim
