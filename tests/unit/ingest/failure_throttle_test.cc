#include "operator/ingest/failure_throttle.h"

#include <gtest/gtest.h>

namespace cte::ingest {
namespace {

using std::chrono::seconds;

TEST(FailureThrottleTest, PausesGrowAfterTheFreeFailuresAndSuccessClears) {
  SimulatedClock clock;
  FailureThrottle t(clock);
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(t.Blocked("10.0.0.1").has_value()) << i;
    t.RecordFailure("10.0.0.1");
  }
  EXPECT_FALSE(t.Blocked("10.0.0.1").has_value()) << "five failures are free";
  t.RecordFailure("10.0.0.1");  // sixth: 1 s
  EXPECT_EQ(t.Blocked("10.0.0.1"), Duration(seconds(1)));
  EXPECT_FALSE(t.Blocked("10.0.0.2").has_value()) << "other addresses are not affected";
  clock.Advance(seconds(1));
  EXPECT_FALSE(t.Blocked("10.0.0.1").has_value());
  t.RecordFailure("10.0.0.1");  // seventh: 2 s
  t.RecordFailure("10.0.0.1");  // eighth: 4 s
  EXPECT_EQ(t.Blocked("10.0.0.1"), Duration(seconds(4)));
  for (int i = 0; i < 30; ++i) t.RecordFailure("10.0.0.1");
  EXPECT_EQ(t.Blocked("10.0.0.1"), Duration(std::chrono::minutes(5))) << "capped";
  t.RecordSuccess("10.0.0.1");
  EXPECT_FALSE(t.Blocked("10.0.0.1").has_value());
}

TEST(FailureThrottleTest, OldFailuresAreForgottenAndMemoryIsBounded) {
  SimulatedClock clock;
  FailureThrottleOptions o;
  o.max_addresses = 3;
  FailureThrottle t(clock, o);
  for (int i = 0; i < 7; ++i) t.RecordFailure("a");
  EXPECT_TRUE(t.Blocked("a").has_value());
  clock.Advance(std::chrono::minutes(16));
  EXPECT_FALSE(t.Blocked("a").has_value());
  for (const char* addr : {"b", "c", "d", "e"}) t.RecordFailure(addr);
  EXPECT_EQ(t.tracked(), 3u);
}

}  // namespace
}  // namespace cte::ingest
