// The registry of routers: one line per router.
#include "engine/cluster/routers.hpp"

namespace kvsim {

RouterRegistry& routers() {
  static RouterRegistry r("router", {
                                        round_robin_router(),
                                        least_loaded_router(),
                                        least_kv_router(),
                                        session_affinity_router(),
                                        prefix_aware_router(),
                                    });
  return r;
}

}  // namespace kvsim
