#pragma once
// Runs the kvsim binary under test (KVSIM_BIN) with arguments, capturing stdout and stderr together.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace kvsim_test {

/// @brief Exit code (-1 if it did not exit normally) and combined output of one run.
struct Result {
  int code = -1;
  std::string out;
};

/// @brief Runs `kvsim <args>` in a shell.
inline Result run(const std::string& args) {
  Result r;
  FILE* pipe = popen((std::string(KVSIM_BIN) + " " + args + " 2>&1").c_str(), "r");
  std::array<char, 4096> buf{};
  while (pipe && std::fgets(buf.data(), buf.size(), pipe)) r.out += buf.data();
  const int status = pipe ? pclose(pipe) : -1;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

/// @brief The whole content of a file ("" if it cannot be read).
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

/// @brief A scratch directory for one test, removed if a previous run left it behind; kvsim creates it.
inline std::filesystem::path fresh_dir(const std::string& name) {
  const std::filesystem::path d = std::filesystem::temp_directory_path() / ("kvsim_test_" + name);
  std::filesystem::remove_all(d);
  return d;
}

}  // namespace kvsim_test
