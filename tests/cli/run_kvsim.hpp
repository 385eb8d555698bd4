#pragma once
// Runs the kvsim binary under test (KVSIM_BIN) with arguments, capturing stdout and stderr together.
#include <sys/wait.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace kvsim_test {

/// @brief The default scenario of the source tree, which most CLI tests run.
inline const std::string kDefaultScenario = std::string(KVSIM_SOURCE_DIR) + "/scenarios/default.yaml";

/// @brief Exit code (-1 if it did not exit normally) and combined output of one run.
struct Result {
  int code = -1;
  std::string out;
  double seconds = 0;  ///< wall time of the run
};

/// @brief Runs `kvsim <args>` in a shell and times it.
inline Result run(const std::string& args) {
  Result r;
  const auto start = std::chrono::steady_clock::now();
  FILE* pipe = popen((std::string(KVSIM_BIN) + " " + args + " 2>&1").c_str(), "r");
  std::array<char, 4096> buf{};
  while (pipe && std::fgets(buf.data(), buf.size(), pipe)) r.out += buf.data();
  const int status = pipe ? pclose(pipe) : -1;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
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

/// @brief The rows of a CSV file whose fields hold no commas or quotes, each as column name -> text.
inline std::vector<std::map<std::string, std::string>> csv_rows(const std::filesystem::path& p) {
  auto split = [](const std::string& line) {
    std::vector<std::string> out;
    std::stringstream s(line);
    for (std::string f; std::getline(s, f, ',');) out.push_back(f);
    if (!line.empty() && line.back() == ',') out.emplace_back();
    return out;
  };
  std::istringstream in(slurp(p));
  std::string line;
  std::getline(in, line);
  const auto header = split(line);
  std::vector<std::map<std::string, std::string>> rows;
  while (std::getline(in, line)) {
    const auto fields = split(line);
    std::map<std::string, std::string> row;
    for (std::size_t i = 0; i < header.size(); ++i) row[header[i]] = i < fields.size() ? fields[i] : "";
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace kvsim_test
