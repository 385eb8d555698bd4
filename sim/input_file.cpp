// Inputs are regular files of bounded size, checked by their path before they are opened.
#include "sim/input_file.hpp"

#include <fmt/format.h>

#include <vector>

#include "sim/diagnostics.hpp"

namespace kvsim {
namespace fs = std::filesystem;
namespace {

std::string kind_of(const fs::file_status& st) {
  switch (st.type()) {
    case fs::file_type::directory:
      return "a directory";
    case fs::file_type::fifo:
      return "a FIFO";
    case fs::file_type::character:
    case fs::file_type::block:
      return "a device";
    case fs::file_type::socket:
      return "a socket";
    default:
      return "not a regular file";
  }
}

[[noreturn]] void refuse(const fs::path& file, const std::string& message) {
  throw InputError(std::vector<Diagnostic>{{file.string(), "", 0, 0, "", message}});
}

}  // namespace

void check_input_file(const fs::path& file, const std::string& kind, std::uintmax_t max_bytes,
                      const std::string& max_text) {
  std::error_code ec;
  const fs::file_status st = fs::status(file, ec);
  if (ec || !fs::exists(st)) refuse(file, "cannot open file: it does not exist");
  if (!fs::is_regular_file(st)) refuse(file, fmt::format("is {}; expected {}", kind_of(st), kind));
  const std::uintmax_t size = fs::file_size(file, ec);
  if (!ec && size > max_bytes) {
    refuse(file, fmt::format("is {} bytes; {} kvsim reads is at most {} bytes ({})", size, kind, max_bytes, max_text));
  }
}

}  // namespace kvsim
