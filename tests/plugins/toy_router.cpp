// `toy-round-robin`: the i-th session goes to replica i mod the replica count, whatever their load.
#include "tests/plugins/toys.hpp"

namespace kvsim::toys {
namespace {
class RoundRobinRouter final : public Router {
 public:
  std::string_view name() const override { return "toy-round-robin"; }
  std::size_t route(const RouteRequest&, std::span<const ReplicaLoad> replicas) override {
    return next_++ % replicas.size();
  }

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
