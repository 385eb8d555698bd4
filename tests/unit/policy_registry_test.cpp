// The offload policy registry: names in order, each entry makes its policy with the hooks it claims, and the
// prefetch policy's quantile is its own declared parameter.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "engine/offload_policy.hpp"

namespace kvsim {
namespace {

TEST(OffloadRegistry, NamesInOrderAndEachOneMakes) {
  const std::vector<std::string> names{"swap",      "recompute",  "offload-idle", "prefetch",
                                       "layerwise", "cost-aware", "tiered"};
  EXPECT_EQ(offload_policy_names(), names);
  const VictimInfo v{1, 384, 12, 0, 0};
  const PolicyContext ctx{0, 1e6, 1000, 0, 1};
  const PolicyEnv env{[](double q) { return 40 * q; }};  // the default quantile 0.5 -> 20 s
  for (const auto& n : names) {
    SCOPED_TRACE(n);
    const auto p = make_offload_policy(n, env);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->name(), n);
    EXPECT_EQ(p->offload_when_idle(), n == "offload-idle" || n == "prefetch");
    EXPECT_EQ(p->layerwise(), n == "layerwise");
    EXPECT_EQ(p->tiered(), n == "tiered");
    if (n == "prefetch") {
      EXPECT_DOUBLE_EQ(p->prefetch_at_s(v, ctx), 20 - 0.384);  // last use 0 + 20 s guessed - 384 / 1000
    } else {
      EXPECT_LT(p->prefetch_at_s(v, ctx), 0);
    }
  }
  try {
    make_offload_policy("nope");
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    for (const auto& n : names) EXPECT_NE(what.find(n), std::string::npos) << n;
  }
}

// The prefetch quantile is the policy's own parameter: 0.9 of a think time whose quantile q is 40 q s -> 36 s.
TEST(OffloadRegistry, PrefetchTakesItsQuantileAsAParameter) {
  const PolicyEnv env{[](double q) { return 40 * q; }};
  const auto p = offload_policies().make("prefetch", Params{{"prefetch_quantile", 0.9}}, env);
  EXPECT_DOUBLE_EQ(p->prefetch_at_s(VictimInfo{1, 384, 12, 1, 0}, PolicyContext{0, 1e6, 1000, 0, 1}), 1 + 36 - 0.384);
  EXPECT_THROW(offload_policies().make("prefetch", PolicyEnv{}), std::invalid_argument);  // no think time known
}

// A parameter the entry does not declare is refused with the ones it does.
TEST(OffloadRegistry, UnknownParametersListTheDeclaredOnes) {
  try {
    offload_policies().make("prefetch", Params{{"quantile", 0.9}}, PolicyEnv{[](double) { return 1.0; }});
    ADD_FAILURE() << "no exception";
  } catch (const UnknownChoice& e) {
    EXPECT_NE(std::string(e.what()).find("has no parameter 'quantile'; its parameters: prefetch_quantile"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(offload_policies().make("swap", Params{{"prefetch_quantile", 0.5}}, PolicyEnv{}), UnknownChoice);
}

}  // namespace
}  // namespace kvsim
