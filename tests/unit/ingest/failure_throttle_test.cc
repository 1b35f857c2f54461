#include "operator/ingest/failure_throttle.h"

#include <gtest/gtest.h>

namespace cte::ingest {
namespace {

using std::chrono::seconds;
using Who = FailureThrottle::Who;

// One attempt from start to end.
std::optional<Duration> Try(FailureThrottle& t, const Who& who, bool succeeds = false) {
  auto wait = t.Begin(who);
  if (!wait) t.End(who, succeeds);
  return wait;
}

TEST(FailureThrottleTest, PausesGrowAfterTheFreeFailuresAndOnlyTimeForgetsThem) {
  SimulatedClock clock;
  FailureThrottle t(clock);
  const Who c{"10.0.0.1", "c"};
  for (int i = 0; i < 6; ++i) {
    EXPECT_FALSE(Try(t, c).has_value()) << "five failures are free, then one more try: " << i;
  }
  EXPECT_EQ(Try(t, c), Duration(seconds(1))) << "after the sixth failure: 1 s";
  EXPECT_FALSE(Try(t, {"10.0.0.2", "c"}).has_value()) << "other addresses are not affected";
  EXPECT_FALSE(Try(t, {"10.0.0.1", "d"}).has_value()) << "nor other clients at the address";
  clock.Advance(seconds(1));
  EXPECT_FALSE(Try(t, c).has_value());  // seventh failure: 2 s
  clock.Advance(seconds(2));
  EXPECT_FALSE(Try(t, c).has_value());  // eighth: 4 s
  EXPECT_EQ(Try(t, c), Duration(seconds(4)));
  for (int i = 0; i < 30; ++i) {
    clock.Advance(std::chrono::minutes(5));
    ASSERT_FALSE(Try(t, c).has_value()) << i;
  }
  EXPECT_EQ(Try(t, c), Duration(std::chrono::minutes(5))) << "capped";
  // The client's own login does not wipe the failures: a guesser behind the same address would
  // otherwise get six fresh attempts after each of them.
  clock.Advance(std::chrono::minutes(5));
  ASSERT_FALSE(Try(t, c, /*succeeds=*/true).has_value());
  EXPECT_FALSE(Try(t, c).has_value()) << "the pause since the last failure is over";
  EXPECT_EQ(Try(t, c), Duration(std::chrono::minutes(5))) << "and the failures still count";
  // An hour after the last failure, they are forgotten.
  clock.Advance(std::chrono::hours(1));
  for (int i = 0; i < 6; ++i) EXPECT_FALSE(Try(t, c).has_value()) << "forgotten: " << i;
}

// Attempts under way count against the free failures: a burst of parallel guesses gets the free
// ones and no more, however many arrive before the first fails. Successful logins under way at
// the same time take nothing away from later ones.
TEST(FailureThrottleTest, AttemptsUnderWayCountAgainstTheFreeFailures) {
  SimulatedClock clock;
  FailureThrottle t(clock);
  const Who c{"10.0.0.1", "c"};
  int admitted = 0;
  for (int i = 0; i < 1000; ++i) admitted += t.Begin(c).has_value() ? 0 : 1;
  EXPECT_EQ(admitted, 6);
  for (int i = 0; i < 6; ++i) t.End(c, false);
  EXPECT_EQ(t.Begin(c), Duration(seconds(1)));

  const Who ok{"10.0.0.2", "ok"};
  for (int i = 0; i < 3; ++i) ASSERT_FALSE(t.Begin(ok).has_value());
  for (int i = 0; i < 3; ++i) t.End(ok, true);
  for (int i = 0; i < 6; ++i) EXPECT_FALSE(Try(t, ok).has_value()) << i;
}

// Past its free failures a key lets one attempt through at a time: a second one waits for the
// first's outcome instead of both slipping in when the pause ends.
TEST(FailureThrottleTest, PastTheFreeFailuresOneAttemptAtATime) {
  SimulatedClock clock;
  FailureThrottle t(clock);
  const Who c{"10.0.0.1", "c"};
  for (int i = 0; i < 6; ++i) Try(t, c);
  clock.Advance(seconds(1));
  ASSERT_FALSE(t.Begin(c).has_value());
  EXPECT_TRUE(t.Begin(c).has_value()) << "the first after the pause is still under way";
  t.End(c, false);
  EXPECT_EQ(t.Begin(c), Duration(seconds(2)));
}

// Unknown client_ids are counted per address, with 50 free: a flood of made-up ids from one
// address is paused after 51, and it is one key however many ids it tries, so even a table of
// two keys keeps another address's pause; a registered client at the flooding address is not
// paused by it.
TEST(FailureThrottleTest, UnknownIdsArePausedPerAddressAndCannotEvictOthers) {
  SimulatedClock clock;
  FailureThrottleOptions o;
  o.max_keys = 2;
  FailureThrottle t(clock, o);
  const Who victim{"10.0.0.1", "victim"};
  for (int i = 0; i < 6; ++i) Try(t, victim);
  ASSERT_TRUE(t.Begin(victim).has_value());
  int admitted = 0;
  for (int i = 0; i < 10000; ++i) admitted += Try(t, {"10.6.6.6", std::nullopt}) ? 0 : 1;
  EXPECT_EQ(admitted, 51);
  EXPECT_EQ(t.tracked(), 2u);
  EXPECT_TRUE(t.Begin(victim).has_value()) << "still paused";
  EXPECT_FALSE(Try(t, {"10.6.6.6", "registered"}, true).has_value())
      << "a registered client behind the same address is not paused by the flood";
}

// A full table never forgets a key with an attempt under way: its End() must find it.
TEST(FailureThrottleTest, AKeyWithAnAttemptUnderWayIsNotEvicted) {
  SimulatedClock clock;
  FailureThrottleOptions o;
  o.max_keys = 2;
  FailureThrottle t(clock, o);
  const Who busy{"10.0.0.1", "busy"};
  for (int i = 0; i < 6; ++i) ASSERT_FALSE(t.Begin(busy).has_value());  // six under way
  Try(t, {"10.0.0.2", "other"});
  Try(t, {"10.0.0.3", "third"});  // evicts "other", not the older "busy"
  EXPECT_TRUE(t.Begin(busy).has_value()) << "the six reservations still count";
  for (int i = 0; i < 6; ++i) t.End(busy, false);
  EXPECT_EQ(t.Begin(busy), Duration(seconds(1)));
}

TEST(FailureThrottleTest, OldFailuresAreForgottenAndMemoryIsBounded) {
  SimulatedClock clock;
  FailureThrottleOptions o;
  o.max_keys = 3;
  FailureThrottle t(clock, o);
  for (int i = 0; i < 7; ++i) Try(t, {"a", "c"});
  EXPECT_TRUE(t.Begin({"a", "c"}).has_value());
  clock.Advance(std::chrono::minutes(59));
  EXPECT_FALSE(Try(t, {"a", "c"}).has_value());  // the seventh failure, within the hour
  EXPECT_EQ(t.Begin({"a", "c"}), Duration(seconds(2))) << "the earlier six still counted";
  clock.Advance(std::chrono::minutes(61));
  EXPECT_FALSE(Try(t, {"a", "c"}).has_value());
  for (const char* addr : {"b", "c", "d", "e"}) Try(t, {addr, "c"});
  EXPECT_EQ(t.tracked(), 3u);
}

}  // namespace
}  // namespace cte::ingest
