#pragma once
/// @file routers.hpp
/// @brief The registry entries of the built-in routers, one per file in engine/cluster/, listed in registry.cpp.

#include "engine/cluster/router.hpp"

namespace kvsim {
RouterRegistry::Entry least_loaded_router();
}  // namespace kvsim
