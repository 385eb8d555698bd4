// Fast-forward (scheduler.fast_forward) runs identical decode steps as one SimGrid activity. On every scenario in
// scenarios/, a run with it on and one with it off must give the same summary.json and rounds.csv: every number
// equal to a relative 1e-9, or, for values under 1 (times of a few steps), to an absolute 1e-9 (a time rounded at
// a step boundary). Each scenario is its own ctest test.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "tests/cli/run_kvsim.hpp"

namespace {
namespace fs = std::filesystem;
using kvsim_test::fresh_dir;
using kvsim_test::run;
using kvsim_test::slurp;

std::vector<std::string> scenarios() {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(std::string(KVSIM_SOURCE_DIR) + "/scenarios")) {
    if (e.path().extension() == ".yaml") {
      out.push_back(fs::relative(e.path(), std::string(KVSIM_SOURCE_DIR) + "/scenarios").string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool close(double a, double b) {
  return std::abs(a - b) <= 1e-9 * std::max({std::abs(a), std::abs(b), 1.0});
}

void compare_json(const nlohmann::json& on, const nlohmann::json& off, const std::string& path, int& numbers) {
  if (on.is_object()) {
    ASSERT_EQ(on.size(), off.size()) << path;
    for (const auto& [k, v] : on.items()) compare_json(v, off.at(k), path + "/" + k, numbers);
  } else if (on.is_number() && path == "/step_activities") {
    EXPECT_LE(on.get<double>(), off.get<double>()) << "fast-forward ran more activities than steps";
  } else if (on.is_number()) {
    EXPECT_TRUE(close(on.get<double>(), off.get<double>())) << path << ": " << on << " vs " << off;
    ++numbers;
  } else if (path != "/scenario/file") {
    EXPECT_EQ(on, off) << path;
  }
}

std::vector<std::vector<std::string>> rows(const fs::path& file) {
  std::vector<std::vector<std::string>> out;
  std::istringstream in(slurp(file));
  for (std::string line; std::getline(in, line);) {
    out.emplace_back();
    std::stringstream s(line);
    for (std::string f; std::getline(s, f, ',');) out.back().push_back(f);
  }
  return out;
}

class FastForward : public testing::TestWithParam<std::string> {};

TEST_P(FastForward, OnAndOffAgree) {
  const std::string scenario = std::string(KVSIM_SOURCE_DIR) + "/scenarios/" + GetParam();
  std::string name = GetParam();
  std::replace(name.begin(), name.end(), '/', '_');
  const fs::path on = fresh_dir("ff_on_" + name), off = fresh_dir("ff_off_" + name);
  const auto a = run("run " + scenario + " --quiet --audit --out " + on.string());
  ASSERT_EQ(a.code, 0) << a.out;
  const auto b = run("run " + scenario + " --quiet --audit --set scheduler.fast_forward=false --out " + off.string());
  ASSERT_EQ(b.code, 0) << b.out;
  int numbers = 0;
  compare_json(nlohmann::json::parse(slurp(on / "summary.json")), nlohmann::json::parse(slurp(off / "summary.json")),
               "", numbers);
  EXPECT_GT(numbers, 30);
  const auto ra = rows(on / "rounds.csv"), rb = rows(off / "rounds.csv");
  ASSERT_EQ(ra.size(), rb.size());
  ASSERT_GT(ra.size(), 1u);
  for (std::size_t i = 1; i < ra.size(); ++i) {
    ASSERT_EQ(ra[i].size(), rb[i].size());
    for (std::size_t c = 0; c < ra[i].size(); ++c) {
      EXPECT_TRUE(close(std::stod(ra[i][c]), std::stod(rb[i][c])))
          << "rounds.csv row " << i << " " << ra[0][c] << ": " << ra[i][c] << " vs " << rb[i][c];
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Scenarios, FastForward, testing::ValuesIn(scenarios()), [](const auto& info) {
  std::string n = info.param.substr(0, info.param.size() - 5);
  for (auto& ch : n) ch = std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return n;
});

}  // namespace
