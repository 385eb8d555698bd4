#include "engine/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>

namespace kvsim {
namespace {
spdlog::level::level_enum& current_level() {
  static spdlog::level::level_enum level = spdlog::level::warn;
  return level;
}
}  // namespace

spdlog::logger& log(const std::string& component) {
  auto existing = spdlog::get(component);
  if (existing) return *existing;
  auto logger = spdlog::stderr_logger_st(component);
  logger->set_level(current_level());
  logger->set_pattern("[%n] %l: %v");
  return *logger;
}

bool set_log_level(const std::string& level) {
  const auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") return false;
  current_level() = parsed;
  spdlog::apply_all([parsed](const std::shared_ptr<spdlog::logger>& l) { l->set_level(parsed); });
  return true;
}

}  // namespace kvsim
