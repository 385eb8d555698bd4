#pragma once
/// @file input_file.hpp
/// @brief The check every file kvsim reads goes through before it is opened (scenarios, catalogs, traces, Hugging
/// Face config.json): it must exist, be a regular file (a directory, FIFO or device is refused by its path, so
/// `/dev/zero` or a FIFO never blocks or streams forever) and be at most a size cap, refused by its size before a
/// byte is read.

#include <cstdint>
#include <filesystem>
#include <string>

namespace kvsim {

/// @brief The largest Hugging Face config.json kvsim reads: 2 MiB, a thousand times a real one (a few kB).
inline constexpr std::uintmax_t kMaxConfigBytes = 2u << 20;

/// @brief Throws InputError naming `file` when it does not exist, is not a regular file, or is larger than
/// `max_bytes` (`max_text` says the cap in words, e.g. "2 MiB"). `kind` names what was expected ("a YAML file").
void check_input_file(const std::filesystem::path& file, const std::string& kind, std::uintmax_t max_bytes,
                      const std::string& max_text);

}  // namespace kvsim
