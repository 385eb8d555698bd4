#pragma once
// Runs the kvsim binary under test (KVSIM_BIN) with arguments, capturing stdout and stderr together.
#include <sys/wait.h>

#include <array>
#include <cstdio>
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

}  // namespace kvsim_test
