// `toy-round-robin`: the i-th session goes to replica i mod the replica count, whatever their load; its later rounds
// stay where its KV is.
#include "tests/plugins/toys.hpp"

namespace kvsim::toys {
namespace {
class RoundRobinRouter final : public Router {
 public:
  std::string_view name() const override { return "toy-round-robin"; }
  std::size_t route(const RouteRequest& request, std::span<const ReplicaLoad> replicas) override {
    for (std::size_t i = 0; request.home >= 0 && i < replicas.size(); ++i) {
      if (replicas[i].replica == request.home) return i;
    }
    return next_++ % replicas.size();
  }
  bool keeps_sessions_home() const override { return true; }

 private:
  std::size_t next_ = 0;
};
}  // namespace

RouterRegistry::Entry round_robin_router() {
  return {"toy-round-robin", "session i to replica i mod n", {}, [](const Params&) {
            return std::make_unique<RoundRobinRouter>();
          }};
}

}  // namespace kvsim::toys
