// `least-loaded`: every round to the replica with the fewest live sessions, ties to the lowest index.
#include "engine/cluster/routers.hpp"

namespace kvsim {

std::size_t fewest_sessions(std::span<const ReplicaLoad> replicas) {
  std::size_t best = 0;
  for (std::size_t r = 1; r < replicas.size(); ++r) {
    if (replicas[r].sessions < replicas[best].sessions) best = r;
  }
  return best;
}

namespace {
class LeastLoadedRouter final : public Router {
 public:
  std::string_view name() const override { return "least-loaded"; }
  std::size_t route(const RouteRequest&, std::span<const ReplicaLoad> replicas) override {
    return fewest_sessions(replicas);
  }
};
}  // namespace

RouterRegistry::Entry least_loaded_router() {
  return {"least-loaded",
          "every round to the replica with the fewest live sessions (ties to the lowest index), even if that moves "
          "the session away from its KV",
          {},
          [](const Params&) { return std::make_unique<LeastLoadedRouter>(); }};
}

}  // namespace kvsim
