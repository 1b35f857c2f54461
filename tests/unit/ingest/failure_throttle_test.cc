#include "operator/ingest/failure_throttle.h"

#include <gtest/gtest.h>

namespace cte::ingest {
namespace {

using std::chrono::seconds;

TEST(FailureThrottleTest, PausesGrowAfterTheFreeFailuresAndSuccessClears) {
  SimulatedClock clock;
  FailureThrottle t(clock);
  for (int i = 0; i < 6; ++i) {
    EXPECT_FALSE(t.Attempt("10.0.0.1", "c").has_value()) << "five failures are free, and a sixth "
                                                            "try after them: "
                                                         << i;
  }
  EXPECT_EQ(t.Attempt("10.0.0.1", "c"), Duration(seconds(1))) << "after the sixth failure: 1 s";
  EXPECT_FALSE(t.Attempt("10.0.0.2", "c").has_value()) << "other addresses are not affected";
  EXPECT_FALSE(t.Attempt("10.0.0.1", "d").has_value()) << "nor other clients at the address";
  clock.Advance(seconds(1));
  EXPECT_FALSE(t.Attempt("10.0.0.1", "c").has_value());  // seventh failure: 2 s
  clock.Advance(seconds(2));
  EXPECT_FALSE(t.Attempt("10.0.0.1", "c").has_value());  // eighth: 4 s
  EXPECT_EQ(t.Attempt("10.0.0.1", "c"), Duration(seconds(4)));
  for (int i = 0; i < 30; ++i) {
    clock.Advance(std::chrono::minutes(5));
    ASSERT_FALSE(t.Attempt("10.0.0.1", "c").has_value()) << i;
  }
  EXPECT_EQ(t.Attempt("10.0.0.1", "c"), Duration(std::chrono::minutes(5))) << "capped";
  clock.Advance(std::chrono::minutes(5));
  ASSERT_FALSE(t.Attempt("10.0.0.1", "c").has_value());
  t.Succeeded("10.0.0.1", "c");
  EXPECT_FALSE(t.Attempt("10.0.0.1", "c").has_value()) << "a success clears the client";
}

// Attempts that have not finished yet count as failures: a burst of parallel guesses gets the
// free ones and no more, however many arrive before the first fails.
TEST(FailureThrottleTest, AttemptsInFlightCountAsFailures) {
  SimulatedClock clock;
  FailureThrottle t(clock);
  int admitted = 0;
  for (int i = 0; i < 1000; ++i) admitted += t.Attempt("10.0.0.1", "c").has_value() ? 0 : 1;
  EXPECT_EQ(admitted, 6);
  // Successful logins in flight at the same time take their count back.
  for (int i = 0; i < 3; ++i) ASSERT_FALSE(t.Attempt("10.0.0.2", "ok").has_value());
  for (int i = 0; i < 3; ++i) t.Succeeded("10.0.0.2", "ok");
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(t.Attempt("10.0.0.2", "ok").has_value()) << i;
}

// Past 50 failures an address waits whichever client it names; a flood of made-up client_ids
// from it is paused long before it could push another address's pause out of the table.
TEST(FailureThrottleTest, AnAddressGuessingAcrossClientsIsPausedAndCannotEvictOthers) {
  SimulatedClock clock;
  FailureThrottleOptions o;
  o.max_keys = 200;
  FailureThrottle t(clock, o);
  for (int i = 0; i < 7; ++i) t.Attempt("10.0.0.1", "victim");
  ASSERT_TRUE(t.Attempt("10.0.0.1", "victim").has_value());
  int admitted = 0;
  for (int i = 0; i < 10000; ++i) {
    admitted += t.Attempt("10.6.6.6", "id-" + std::to_string(i)).has_value() ? 0 : 1;
  }
  EXPECT_EQ(admitted, 51);
  EXPECT_TRUE(t.Attempt("10.6.6.6", "any").has_value());
  EXPECT_TRUE(t.Attempt("10.0.0.1", "victim").has_value()) << "still paused";
  EXPECT_LE(t.tracked(), 60u);
}

TEST(FailureThrottleTest, OldFailuresAreForgottenAndMemoryIsBounded) {
  SimulatedClock clock;
  FailureThrottleOptions o;
  o.max_keys = 3;
  FailureThrottle t(clock, o);
  for (int i = 0; i < 7; ++i) t.Attempt("a", "c");
  EXPECT_TRUE(t.Attempt("a", "c").has_value());
  clock.Advance(std::chrono::minutes(16));
  EXPECT_FALSE(t.Attempt("a", "c").has_value());
  for (const char* addr : {"b", "c", "d", "e"}) t.Attempt(addr, "c");
  EXPECT_EQ(t.tracked(), 3u);
}

}  // namespace
}  // namespace cte::ingest
