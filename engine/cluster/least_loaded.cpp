// `least-loaded`: the replica with the fewest live sessions, ties to the lowest index.
#include "engine/cluster/routers.hpp"

namespace kvsim {
namespace {
class LeastLoadedRouter final : public Router {
 public:
  std::string_view name() const override { return "least-loaded"; }
  std::size_t route(const RouteRequest&, std::span<const ReplicaLoad> replicas) override {
    std::size_t best = 0;
    for (std::size_t r = 1; r < replicas.size(); ++r) {
      if (replicas[r].sessions < replicas[best].sessions) best = r;
    }
    return best;
  }
};
}  // namespace

RouterRegistry::Entry least_loaded_router() {
  return {
      "least-loaded", "the replica with the fewest live sessions (ties to the lowest index)", {}, [](const Params&) {
        return std::make_unique<LeastLoadedRouter>();
      }};
}

}  // namespace kvsim
