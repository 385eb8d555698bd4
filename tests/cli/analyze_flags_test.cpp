// `kvsim analyze` holds every numeric flag to the plausible range of its scenario key (sim/plausible.hpp): an
// infinite, NaN, huge, negative or fractional value exits 2 at once with the flag, the value and the range, so no
// per-token loop runs on it (`--answer-tokens inf` used to loop forever).
#include <gtest/gtest.h>

#include "tests/cli/run_kvsim.hpp"

namespace {
using kvsim_test::run;

const std::string kAnalyze = "analyze --model yi-34b-200k ";

struct Case {
  std::string args;
  std::string message;
};

void expect_refused(const Case& c) {
  const auto r = run(kAnalyze + c.args);
  EXPECT_EQ(r.code, 2) << c.args << "\n" << r.out;
  EXPECT_NE(r.out.find(c.message), std::string::npos) << c.args << "\n" << r.out;
  EXPECT_LT(r.seconds, 5.0) << c.args;
}

TEST(AnalyzeFlags, AnswerTokensOutsideOneTo100MExit2WithTheRange) {
  for (const Case& c : std::vector<Case>{
           {"--answer-tokens inf", "--answer-tokens: inf is outside the plausible range [1, 100000000]"},
           {"--answer-tokens nan", "--answer-tokens: nan is outside the plausible range [1, 100000000]"},
           {"--answer-tokens 1e300", "--answer-tokens: 1e+300 is outside the plausible range [1, 100000000]"},
           {"--answer-tokens=-5", "--answer-tokens: -5 is outside the plausible range [1, 100000000]"},
           {"--answer-tokens 0", "--answer-tokens: 0 is outside the plausible range [1, 100000000]"},
           {"--answer-tokens 2.5", "--answer-tokens: 2.5 is not a whole number of tokens"}}) {
    expect_refused(c);
  }
}

TEST(AnalyzeFlags, EveryOtherNumericFlagHasItsKeysRange) {
  for (const Case& c : std::vector<Case>{
           {"--context inf", "--context: 'inf' is not a finite number; expected a token count"},
           {"--context 1e9", "--context: 1000000000 is outside the plausible range [1, 100000000] (got '1e9')"},
           {"--context 4.5", "--context: 4.5 is not a whole number of tokens (got '4.5')"},
           {"--tp 2048", "--tp: 2048 is outside the plausible range [1, 1024]"},
           {"--tp 0", "--tp: 0 is outside the plausible range [1, 1024]"},
           {"--host-link-bw 1e400GBps", "--host-link-bw: "},
           {"--host-link-bw 1kBps", "is outside the plausible range [1 MB/s, 100 TB/s] (got '1kBps')"},
           {"--host-link-bw 1e9TBps", "is outside the plausible range [1 MB/s, 100 TB/s] (got '1e9TBps')"},
           {"--compute-efficiency 1e-300", "--compute-efficiency: 1e-300 is outside the plausible range [0.01, 1]"},
           {"--compute-efficiency inf", "--compute-efficiency: inf is outside the plausible range [0.01, 1]"},
           {"--memory-efficiency 2", "--memory-efficiency: 2 is outside the plausible range [0.01, 1]"},
           {"--memory-efficiency nan", "--memory-efficiency: nan is outside the plausible range [0.01, 1]"},
           {"--sweep context=4K,1e300", "--sweep context: 1e+300 is outside the plausible range [1, 100000000]"},
           {"--sweep tp=1,5000", "--sweep tp: 5000 is outside the plausible range [1, 1024]"},
           {"--jobs 0", "--jobs"}}) {
    expect_refused(c);
  }
}

TEST(AnalyzeFlags, ValuesAtTheEdgesOfTheRangesRun) {
  const auto r = run(kAnalyze +
                     "--context 1 --answer-tokens 1 --tp 1 --host-link-bw 1MBps --compute-efficiency 0.01 "
                     "--memory-efficiency 1 --format csv");
  EXPECT_EQ(r.code, 0) << r.out;
}

}  // namespace
