#pragma once
/// @file safe_output.hpp
/// @brief Writing outputs without following planted symlinks, without predictable temporary names, and without
/// mixing old and new files: single files go through a mkstemp name and a rename; a run's directory is built in a
/// mkdtemp sibling and swapped into place as a whole.

#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

namespace kvsim {

/// @brief Where a command writes relative to its output directory.
enum class OutputPlace {
  kNextTo,  ///< a run: its directory is built beside it and swapped in, so the parent must be writable; no symlink
  kInside,  ///< compare, sweep, capacity: files and runs inside it (a symlink to a directory is followed)
};

/// @brief Refuses (InputError naming `flag`, exit 2) before any work an output directory that is a root, an existing
/// non-directory (a symlink, for kNextTo), under a non-directory, or in a place where kvsim cannot create an entry
/// (read-only, /proc, no permission: found by creating and removing a probe directory there).
void check_output_place(const std::filesystem::path& dir, const std::string& flag, OutputPlace place);

/// @brief check_output_place(kNextTo), and refuses an output directory or an existing directory holding a subdirectory
/// not in `owned` (the names kvsim writes there), which StagedDir::keep_others() could not keep. Called before any
/// work, so a bad `--out` costs nothing.
void check_output_dir(const std::filesystem::path& dir, const std::string& flag, const std::vector<std::string>& owned);

/// @brief Refuses (InputError naming `flag`) an output file whose directory does not exist, that is an existing
/// directory, or is the same file (device and inode) as one of `inputs`.
void check_output_file(const std::filesystem::path& file, const std::string& flag,
                       const std::vector<std::filesystem::path>& inputs);

/// @brief Removes, in `dir`, the staging entries (".NAME.kvsim-XXXXXX": StagedDir directories and
/// write_file_atomic files; only NAME = `prefix` when it is not empty) that no live kvsim holds, left by a process
/// killed before it could rename them into place, and returns their paths. A live writer holds a lock (flock) on
/// its entry from its creation, so its entry is kept; an entry is removed under that lock.
std::vector<std::filesystem::path> remove_stale_staging(const std::filesystem::path& dir, const std::string& prefix);

/// @brief remove_stale_staging for `target`'s own staging entries, beside it (those of a killed `run --out target`).
std::vector<std::filesystem::path> remove_stale_staging_beside(const std::filesystem::path& target);

/// @brief Says on `out` which stale staging entries were removed (nothing when none).
void note_stale_staging(const std::vector<std::filesystem::path>& removed, std::ostream& out);

/// @brief Writes `text` to `path` through an unpredictable temporary name (mkstemp, O_EXCL) in the same directory,
/// fsync and a rename: readers see the old file or the new one, and a symlink at `path` is replaced, not followed.
void write_file_atomic(const std::filesystem::path& path, const std::string& text);

/// @brief A directory being built next to its final place; commit() swaps it in as a whole. Destroyed without
/// commit(), it is removed and the old directory stays untouched.
class StagedDir {
 public:
  /// @brief Creates the parent of `target` if needed and a fresh mkdtemp sibling (mode 0700) to write into.
  explicit StagedDir(std::filesystem::path target);
  ~StagedDir();
  StagedDir(const StagedDir&) = delete;
  StagedDir& operator=(const StagedDir&) = delete;

  /// @brief Creates `name` in the staged directory (O_CREAT|O_EXCL|O_NOFOLLOW), writes `text` and fsyncs it.
  void write(const std::string& name, const std::string& text);
  /// @brief Hard-links every entry of the existing target not named in `replaced` into the staged directory, so
  /// files kvsim did not write (such as a sweep's run.log) survive the swap; throws on a subdirectory.
  void keep_others(const std::vector<std::string>& replaced);
  /// @brief Replaces the target directory by the staged one (rename exchange, or aside-and-in), then removes the old.
  void commit();

 private:
  std::filesystem::path target_, staged_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace kvsim
