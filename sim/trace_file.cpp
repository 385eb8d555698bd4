#include "sim/trace_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ext/stdio_filebuf.h>

#include "sim/diagnostics.hpp"
#include "sim/safe_output.hpp"

namespace kvsim {
namespace fs = std::filesystem;
namespace {

[[noreturn]] void bad_path(const fs::path& path, const std::string& why) {
  throw InputError(std::vector<Diagnostic>{Diagnostic{"", "--trace-events", 0, 0, path.string(), why}});
}

TraceInfo trace_info(const Scenario& s) {
  TraceInfo info;
  info.replicas = s.replicas;
  info.replica_label = fmt::format("{} x {}", s.deployment.tensor_parallel, s.deployment.gpu.name);
  info.other_data = {{"kvsim_version", KVSIM_VERSION},
                     {"scenario", s.file.filename().string()},
                     {"model", s.model.name},
                     {"kv_offload_policy", s.scheduler.offload_policy},
                     {"seed", fmt::format("{}", s.seed)},
                     {"time_unit", "ts and dur in microseconds of simulated time"}};
  return info;
}

}  // namespace

TraceFile::TraceFile(const fs::path& path, const Scenario& s, const std::vector<fs::path>& inputs) : path_(path) {
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) bad_path(path, fmt::format("directory '{}' does not exist", dir.string()));
  check_output_file(path, "--trace-events", inputs);
  std::string tmpl = (dir / ("." + path.filename().string() + ".XXXXXX")).string();
  const int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);  // unpredictable, O_EXCL: never a planted file or link
  if (fd < 0) bad_path(path, fmt::format("cannot create a file in '{}'", dir.string()));
  tmp_ = tmpl;
  ::fchmod(fd, 0644);
  auto buf = std::make_unique<__gnu_cxx::stdio_filebuf<char>>(fd, std::ios::out | std::ios::binary);
  fd_ = fd;
  out_ = std::make_unique<std::ostream>(buf.get());
  buf_ = std::move(buf);
  writer_ = std::make_unique<TraceEventWriter>(*out_, trace_info(s));
}

TraceFile::~TraceFile() {
  if (committed_) return;
  writer_.reset();
  out_.reset();
  buf_.reset();  // closes the descriptor
  ::unlink(tmp_.c_str());
}

void TraceFile::commit() {
  writer_->finish();
  const bool written = static_cast<bool>(out_->flush()) && ::fsync(fd_) == 0;
  out_.reset();
  buf_.reset();
  if (!written) throw std::runtime_error("cannot write " + tmp_.string());
  fs::rename(tmp_, path_);  // replaces a file or a link at the path; never writes through the link
  committed_ = true;
}

}  // namespace kvsim
