// A KV move names both ends (replica, tier), so a later change can move KV between replicas.
#include <gtest/gtest.h>

#include "engine/sched/scheduler.hpp"

namespace kvsim {
namespace {

TEST(TransferOrder, SwapsAndDemotionsNameBothEndsOnThisReplica) {
  const auto out = TransferOrder::swap(1, 7, true, 384, Tier::kNvme);
  EXPECT_EQ(out.from.tier, Tier::kHbm);
  EXPECT_EQ(out.to.tier, Tier::kNvme);
  EXPECT_TRUE(out.to_host());
  EXPECT_FALSE(out.demotion());
  EXPECT_EQ(out.host_tier(), Tier::kNvme);
  EXPECT_TRUE(out.local());
  const auto in = TransferOrder::swap(2, 7, false, 384, Tier::kDdr);
  EXPECT_EQ(in.from.tier, Tier::kDdr);
  EXPECT_EQ(in.to.tier, Tier::kHbm);
  EXPECT_FALSE(in.to_host());
  EXPECT_EQ(in.host_tier(), Tier::kDdr);
  const auto down = TransferOrder::demote(3, 7, 384);
  EXPECT_TRUE(down.demotion());
  EXPECT_FALSE(down.to_host());
  EXPECT_EQ(down.host_tier(), Tier::kNvme);
}

TEST(TransferOrder, AMoveToAnotherReplicasHbmIsNotLocal) {
  TransferOrder t{4, 7, 384, {KvPlace::kThisReplica, Tier::kHbm}, {3, Tier::kHbm}};
  EXPECT_FALSE(t.local());
  EXPECT_FALSE(t.to_host());
  EXPECT_FALSE(t.demotion());
}

}  // namespace
}  // namespace kvsim
