#pragma once
/// @file yaml_load.hpp
/// @brief The one way kvsim reads YAML (scenarios and catalogs): only regular files of bounded size, exactly one
/// document, and no key given twice in a map. yaml-cpp alone keeps the last of duplicate keys and reads the first
/// of several documents, so a scenario could silently run with values its author did not mean.

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <filesystem>
#include <string>

namespace kvsim {

/// @brief The largest YAML file kvsim reads: 2 MiB, above any scenario or catalog (100,000 arrival times, the most a
/// list holds, take ~1.4 MB). yaml-cpp parses about 1 MB a second on a busy machine, so a larger file (a million
/// arrival times) is refused by its size in milliseconds instead of after seconds of parsing.
inline constexpr std::uintmax_t kMaxYamlBytes = 2u << 20;

/// @brief Reads and parses `file`; throws InputError naming the file when it is not a regular file (a directory,
/// FIFO or device is refused by its path, before it is opened), is larger than kMaxYamlBytes, cannot be read, does
/// not parse, holds more than one document, or repeats a key in a map (both lines named).
YAML::Node load_yaml_file(const std::filesystem::path& file);

/// @brief As load_yaml_file, for YAML text; `name` stands for the file in messages.
YAML::Node load_yaml_text(const std::string& text, const std::string& name);

}  // namespace kvsim
