// `round-robin`: the i-th round routed (over all sessions) to candidate i mod n, whatever the load and wherever the
// session's KV is.
#include "engine/cluster/routers.hpp"

namespace kvsim {
namespace {
class RoundRobinRouter final : public Router {
 public:
  std::string_view name() const override { return "round-robin"; }
  std::size_t route(const RouteRequest&, std::span<const ReplicaLoad> replicas) override {
    return calls_++ % replicas.size();
  }

 private:
  std::uint64_t calls_ = 0;  ///< rounds routed so far
};
}  // namespace

RouterRegistry::Entry round_robin_router() {
  return {"round-robin",
          "the i-th round routed goes to candidate i mod n, ignoring load and where the session's KV is",
          {},
          [](const Params&) { return std::make_unique<RoundRobinRouter>(); }};
}

}  // namespace kvsim
