// `session-affinity`: a session's later rounds go where its KV lives; its first round (or a round whose KV is on a
// replica outside the candidates) to the replica with the fewest live sessions, as `least-loaded`.
#include "engine/cluster/routers.hpp"

namespace kvsim {
namespace {
class SessionAffinityRouter final : public Router {
 public:
  std::string_view name() const override { return "session-affinity"; }
  std::size_t route(const RouteRequest& request, std::span<const ReplicaLoad> replicas) override {
    if (request.home >= 0) {
      for (std::size_t r = 0; r < replicas.size(); ++r) {
        if (replicas[r].replica == request.home) return r;
      }
    }
    return fewest_sessions(replicas);
  }
};
}  // namespace

RouterRegistry::Entry session_affinity_router() {
  return {"session-affinity",
          "a session's later rounds go to the replica holding its KV; its first round (or one whose KV is outside "
          "the candidate pool) to the replica with the fewest live sessions (ties to the lowest index)",
          {},
          [](const Params&) { return std::make_unique<SessionAffinityRouter>(); }};
}

}  // namespace kvsim
