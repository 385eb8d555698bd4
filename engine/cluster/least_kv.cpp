// `least-kv`: every round to the replica with the most free KV blocks, ties to fewer live sessions, then the lowest
// index.
#include "engine/cluster/routers.hpp"

namespace kvsim {
namespace {
class LeastKvRouter final : public Router {
 public:
  std::string_view name() const override { return "least-kv"; }
  std::size_t route(const RouteRequest&, std::span<const ReplicaLoad> replicas) override {
    std::size_t best = 0;
    for (std::size_t r = 1; r < replicas.size(); ++r) {
      const ReplicaLoad& a = replicas[r];
      const ReplicaLoad& b = replicas[best];
      if (a.free_kv_blocks > b.free_kv_blocks || (a.free_kv_blocks == b.free_kv_blocks && a.sessions < b.sessions)) {
        best = r;
      }
    }
    return best;
  }
};
}  // namespace

RouterRegistry::Entry least_kv_router() {
  return {"least-kv",
          "every round to the replica with the most free KV blocks (ties to fewer live sessions, then the lowest "
          "index), even if that moves the session away from its KV",
          {},
          [](const Params&) { return std::make_unique<LeastKvRouter>(); }};
}

}  // namespace kvsim
