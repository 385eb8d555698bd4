#include "sim/trace_file.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include "sim/diagnostics.hpp"

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

TraceFile::TraceFile(const fs::path& path, const Scenario& s) : path_(path) {
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) bad_path(path, fmt::format("directory '{}' does not exist", dir.string()));
  if (fs::is_directory(path, ec)) bad_path(path, "is a directory; give a file name");
  tmp_ = path.string() + fmt::format(".tmp{}", ::getpid());
  out_.open(tmp_, std::ios::binary | std::ios::trunc);
  if (!out_) bad_path(path, fmt::format("cannot create a file in '{}'", dir.string()));
  writer_ = std::make_unique<TraceEventWriter>(out_, trace_info(s));
}

TraceFile::~TraceFile() {
  if (committed_) return;
  out_.close();
  std::error_code ec;
  fs::remove(tmp_, ec);
}

void TraceFile::commit() {
  writer_->finish();
  out_.close();
  if (!out_) throw std::runtime_error("cannot write " + tmp_.string());
  fs::rename(tmp_, path_);
  committed_ = true;
}

}  // namespace kvsim
