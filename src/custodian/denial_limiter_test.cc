#include "custodian/denial_limiter.h"

#include <gtest/gtest.h>

namespace medledger::custodian {
namespace {

TEST(DenialLimiter, OncePerRecordPerWindow) {
  DenialLimiter d(1000, 100);
  EXPECT_TRUE(d.Admit("k", "r1", 0));
  EXPECT_FALSE(d.Admit("k", "r1", 10));
  EXPECT_TRUE(d.Admit("k", "r2", 10));
  EXPECT_TRUE(d.Admit("other", "r1", 10));
  EXPECT_FALSE(d.Admit("k", "r1", 999));
  EXPECT_TRUE(d.Admit("k", "r1", 1000));  // the window has passed
}

// A key sweeping many records reaches the chain a bounded number of times.
TEST(DenialLimiter, PerKeyLimit) {
  DenialLimiter d(1000, 5);
  int recorded = 0;
  for (int i = 0; i < 72; ++i) recorded += d.Admit("k", "r" + std::to_string(i), i);
  EXPECT_EQ(recorded, 5);
  EXPECT_TRUE(d.Admit("someone-else", "r0", 100));
  EXPECT_TRUE(d.Admit("k", "r100", 1005));  // the first ones expired
}

}  // namespace
}  // namespace medledger::custodian
