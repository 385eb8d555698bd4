// The registry of routers: one line per router.
#include "engine/cluster/routers.hpp"

namespace kvsim {

RouterRegistry& routers() {
  static RouterRegistry r("router", {
                                        least_loaded_router(),
                                    });
  return r;
}

}  // namespace kvsim
