#include "sim/safe_output.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ostream>
#include <stdexcept>

#include "sim/diagnostics.hpp"

namespace kvsim {
namespace fs = std::filesystem;
namespace {

constexpr const char* kStagingTag = ".kvsim-";

[[noreturn]] void refuse(const fs::path& path, const std::string& flag, const std::string& why) {
  throw InputError(std::vector<Diagnostic>{Diagnostic{"", flag, 0, 0, path.string(), why}});
}

[[noreturn]] void io_failure(const std::string& what, const fs::path& path, int err) {
  throw std::runtime_error(fmt::format("cannot {} {}: {}", what, path.string(), std::strerror(err)));
}

// The process umask, read once: files created through mkstemp/mkdtemp get the mode an ordinary create would.
mode_t process_umask() {
  static const mode_t mask = [] {
    const mode_t m = ::umask(022);
    ::umask(m);
    return m;
  }();
  return mask;
}

// `path` made absolute, normalised and without a trailing separator, so its parent and name are the real ones.
fs::path plain(const fs::path& path) {
  fs::path p = fs::absolute(path).lexically_normal();
  if (p.filename().empty() && p.has_parent_path()) p = p.parent_path();
  return p;
}

void write_all(int fd, const std::string& text, const fs::path& path) {
  for (std::size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) io_failure("write", path, errno);
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) io_failure("sync", path, errno);
}

void sync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // best effort: the data is already synced, only the rename's durability is at stake
  ::fsync(fd);
  ::close(fd);
}

// ".NAME.kvsim-XXXXXX": the name of every staging entry kvsim makes for NAME, which remove_stale_staging knows.
std::string staging_template(const fs::path& target) {
  std::string name = ".";
  name += target.filename().string();
  name += kStagingTag;
  name += "XXXXXX";
  return (target.parent_path() / name).string();
}

// Whether `name` is a staging entry's name (for `prefix` when not empty).
bool is_staging_name(const std::string& name, const std::string& prefix) {
  const std::size_t tail = std::strlen(kStagingTag) + 6;
  if (name.size() <= tail + 1 || name[0] != '.' || name.compare(name.size() - tail, tail - 6, kStagingTag) != 0) {
    return false;
  }
  return prefix.empty() || name == "." + prefix + kStagingTag + name.substr(name.size() - 6);
}

// A fresh directory next to `target` with an unpredictable name, mode 0700.
fs::path make_sibling_dir(const fs::path& target) {
  std::string tmpl = staging_template(target);
  if (::mkdtemp(tmpl.data()) == nullptr) io_failure("create a directory next to", target, errno);
  return tmpl;
}

// The nearest existing ancestor of `p` (or `p`), where a missing directory would be created; refuses a file there.
fs::path nearest_directory(fs::path p, const fs::path& dir, const std::string& flag) {
  struct stat st {};
  while (::stat(p.c_str(), &st) != 0 && p != p.root_path()) p = p.parent_path();
  if (!S_ISDIR(st.st_mode)) {
    refuse(dir, flag, fmt::format("cannot be created: '{}' is not a directory", escape_token(p.string(), 200)));
  }
  return p;
}

// Refuses a directory in which kvsim cannot create an entry (read-only, /proc, no permission), by creating and
// removing one: access() would say yes to root on a read-only place, or in /proc.
void probe_writable(const fs::path& at, const fs::path& dir, const std::string& flag) {
  std::string probe = (at / ".kvsim-probe-XXXXXX").string();
  if (::mkdtemp(probe.data()) == nullptr) {
    refuse(dir, flag,
           fmt::format("cannot be written: kvsim cannot create an entry in '{}' ({})", escape_token(at.string(), 200),
                       std::strerror(errno)));
  }
  ::rmdir(probe.c_str());
}

}  // namespace

void check_output_place(const fs::path& dir, const std::string& flag, OutputPlace place) {
  const fs::path p = plain(dir);
  if (p == p.root_path()) refuse(dir, flag, "is a root directory; give a directory for this run's outputs only");
  struct stat st {};
  const bool links_ok = place == OutputPlace::kInside;
  if ((links_ok ? ::stat(p.c_str(), &st) : ::lstat(p.c_str(), &st)) == 0) {
    if (S_ISLNK(st.st_mode)) refuse(dir, flag, "is a symbolic link; kvsim does not write through links");
    if (!S_ISDIR(st.st_mode)) refuse(dir, flag, "exists and is not a directory; give a new or an output directory");
  } else if (errno != ENOENT && errno != ENOTDIR) {
    refuse(dir, flag, fmt::format("cannot be examined ({})", std::strerror(errno)));
  }
  // Writes go inside the directory (sweeps and comparisons), or next to it (a run's staged directory).
  probe_writable(nearest_directory(place == OutputPlace::kInside ? p : p.parent_path(), dir, flag), dir, flag);
}

void check_output_dir(const fs::path& dir, const std::string& flag, const std::vector<std::string>& owned) {
  check_output_place(dir, flag, OutputPlace::kNextTo);
  const fs::path p = plain(dir);
  if (!fs::is_directory(fs::symlink_status(p))) return;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(p, ec)) {
    const std::string name = entry.path().filename().string();
    const bool ours = std::find(owned.begin(), owned.end(), name) != owned.end();
    if (!ours && entry.symlink_status().type() == fs::file_type::directory) {
      refuse(dir, flag,
             fmt::format("holds the directory '{}', which kvsim did not write; kvsim replaces this directory as a "
                         "whole and keeps only other files, so give a new, empty or output directory",
                         escape_token(name)));
    }
  }
  if (ec) refuse(dir, flag, fmt::format("cannot be listed ({})", ec.message()));
}

void check_output_file(const fs::path& file, const std::string& flag, const std::vector<fs::path>& inputs) {
  const fs::path parent = plain(file).parent_path().empty() ? fs::path(".") : plain(file).parent_path();
  std::error_code ec;
  if (!fs::is_directory(parent, ec)) {
    refuse(file, flag,
           fmt::format("directory '{}' does not exist (or is not a directory); create it or give another path",
                       escape_token(parent.string(), 200)));
  }
  struct stat out {};
  if (::stat(file.c_str(), &out) != 0) return;  // a new file (or a dangling link, which the rename replaces)
  if (S_ISDIR(out.st_mode)) refuse(file, flag, "is a directory; give a file name");
  for (const auto& input : inputs) {
    struct stat in {};
    if (::stat(input.c_str(), &in) == 0 && in.st_dev == out.st_dev && in.st_ino == out.st_ino) {
      refuse(file, flag, fmt::format("is the input file '{}'; kvsim never writes onto an input", input.string()));
    }
  }
}

std::vector<fs::path> remove_stale_staging(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> removed;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const auto type = entry.symlink_status(ec).type();
    if (!is_staging_name(name, prefix) || (type != fs::file_type::directory && type != fs::file_type::regular)) {
      continue;
    }
    const int fd = ::open(entry.path().c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) continue;
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {  // no live kvsim holds it: its writer was killed
      std::error_code rm;
      fs::remove_all(entry.path(), rm);
      if (!rm) removed.push_back(entry.path());
    }
    ::close(fd);
  }
  std::sort(removed.begin(), removed.end());
  return removed;
}

std::vector<fs::path> remove_stale_staging_beside(const fs::path& target) {
  const fs::path p = plain(target);
  return remove_stale_staging(p.parent_path(), p.filename().string());
}

void note_stale_staging(const std::vector<fs::path>& removed, std::ostream& out) {
  if (removed.empty()) return;
  std::string names;
  for (const auto& p : removed) names += (names.empty() ? "" : ", ") + escape_token(p.string(), 200);
  out << fmt::format("note: removed {} staging {} left by an interrupted kvsim: {}\n", removed.size(),
                     removed.size() == 1 ? "entry" : "entries", names);
}

void write_file_atomic(const fs::path& path, const std::string& text) {
  const fs::path p = plain(path);
  std::string tmp = staging_template(p);
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);  // O_CREAT|O_EXCL: never opens an existing name or a link
  if (fd < 0) io_failure("create a file next to", p, errno);
  ::flock(fd, LOCK_EX | LOCK_NB);  // held until closed: remove_stale_staging leaves it alone
  try {
    if (::fchmod(fd, 0666 & ~process_umask()) != 0) io_failure("set the mode of", tmp, errno);
    write_all(fd, text, tmp);
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), p.c_str()) != 0) {  // replaces a file or a link at `p`; never follows the link
    const int err = errno;
    ::unlink(tmp.c_str());
    io_failure("rename a temporary file to", p, err);
  }
  sync_dir(p.parent_path());
}

StagedDir::StagedDir(fs::path target) : target_(plain(target)) {
  fs::create_directories(target_.parent_path());
  staged_ = make_sibling_dir(target_);
  fd_ = ::open(staged_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd_ < 0) {
    const int err = errno;
    std::error_code ec;
    fs::remove(staged_, ec);
    io_failure("open", staged_, err);
  }
  ::flock(fd_, LOCK_EX | LOCK_NB);  // held until this process ends or closes it: the entry is live
}

StagedDir::~StagedDir() {
  if (fd_ >= 0) ::close(fd_);
  std::error_code ec;
  if (!committed_) fs::remove_all(staged_, ec);
}

void StagedDir::write(const std::string& name, const std::string& text) {
  const int fd = ::openat(fd_, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (fd < 0) io_failure("create", staged_ / name, errno);
  try {
    write_all(fd, text, staged_ / name);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

void StagedDir::keep_others(const std::vector<std::string>& replaced) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(target_, ec)) {
    const std::string name = entry.path().filename().string();
    if (std::find(replaced.begin(), replaced.end(), name) != replaced.end()) continue;
    if (entry.symlink_status().type() == fs::file_type::directory) {
      throw std::runtime_error(
          fmt::format("{} holds the directory '{}', which kvsim did not write", target_.string(), escape_token(name)));
    }
    // A hard link of the entry itself (a symlink stays a symlink): the same file, kept in the new directory.
    if (::linkat(AT_FDCWD, entry.path().c_str(), fd_, name.c_str(), 0) != 0) io_failure("keep", entry.path(), errno);
  }
}

void StagedDir::commit() {
  if (::fsync(fd_) != 0) io_failure("sync", staged_, errno);
  if (::fchmod(fd_, 0777 & ~process_umask()) != 0) io_failure("set the mode of", staged_, errno);
  if (::renameat2(AT_FDCWD, staged_.c_str(), AT_FDCWD, target_.c_str(), RENAME_EXCHANGE) == 0) {
    committed_ = true;  // the old directory now sits under the staged name
    std::error_code ec;
    fs::remove_all(staged_, ec);
  } else if (errno == ENOENT) {
    if (::rename(staged_.c_str(), target_.c_str()) != 0) io_failure("rename a directory to", target_, errno);
    committed_ = true;
  } else if (errno == EINVAL || errno == ENOSYS || errno == ENOTSUP) {  // no exchange: old aside, new in
    const fs::path aside = make_sibling_dir(target_);
    if (::rename(target_.c_str(), aside.c_str()) != 0) io_failure("move aside", target_, errno);
    if (::rename(staged_.c_str(), target_.c_str()) != 0) io_failure("rename a directory to", target_, errno);
    committed_ = true;
    std::error_code ec;
    fs::remove_all(aside, ec);
  } else {
    io_failure("replace", target_, errno);
  }
  sync_dir(target_.parent_path());
}

}  // namespace kvsim
