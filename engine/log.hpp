#pragma once
/// @file log.hpp
/// @brief One spdlog category per component ("scheduler", "replica", "clients", "config"), all on stderr.
/// Nothing is logged per step or per token; decisions (admission, eviction, transfers) are logged at debug level.

#include <spdlog/spdlog.h>

#include <string>

namespace kvsim {

/// @brief The logger of `component`, created on first use with the current level.
spdlog::logger& log(const std::string& component);
/// @brief Sets the level of every component ("trace", "debug", "info", "warn", "error", "off"); false if unknown.
bool set_log_level(const std::string& level);

}  // namespace kvsim
