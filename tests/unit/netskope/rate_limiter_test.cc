#include "operator/netskope/rate_limiter.h"

#include <gtest/gtest.h>

#include "tests/unit/netskope/test_support.h"

namespace cte::netskope {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::AutoAdvanceClock;

// Sends `n` requests on `buckets` as fast as the limiter allows; returns their send times
// relative to the first.
std::vector<Duration> Burst(AutoAdvanceClock& clock, TenantRateLimiter& limiter, int n,
                            const std::vector<Bucket>& buckets) {
  return [&] {
    std::vector<Duration> out;
    MonoTime start = clock.Now();
    for (int i = 0; i < n; ++i) {
      EXPECT_TRUE(limiter.Acquire(buckets));
      out.push_back(clock.Now() - start);
    }
    return out;
  }();
}

// The most requests in any window of `w` among `times`.
int MaxInWindow(const std::vector<Duration>& times, Duration w) {
  int best = 0;
  for (size_t i = 0; i < times.size(); ++i) {
    int n = 0;
    for (size_t j = i; j < times.size() && times[j] < times[i] + w; ++j) ++n;
    best = std::max(best, n);
  }
  return best;
}

TEST(TenantRateLimiterTest, V1NeverExceeds24RequestsInAnyFiveSeconds) {
  AutoAdvanceClock clock;
  TenantRateLimiter limiter(clock, TenantRateLimits{});
  auto times = Burst(clock, limiter, 100, {Bucket::kV1});
  EXPECT_LE(MaxInWindow(times, seconds(5)), 24);
  // The first 24 go at once; the 25th waits for the first to leave the window plus the margin.
  EXPECT_EQ(times[23], Duration::zero());
  EXPECT_GE(times[24], seconds(5) + milliseconds(500));
  EXPECT_LT(times[24], seconds(5) + milliseconds(520));
  // And the limiter does not dawdle: 100 requests take about four 5.5 s windows.
  EXPECT_LT(times.back(), seconds(23));
}

TEST(TenantRateLimiterTest, IteratorEndpointsHaveSeparateBudgetsButShareTheV2One) {
  AutoAdvanceClock clock;
  TenantRateLimits limits;
  limits.v2.requests = 0;  // unlimited, so only the iterator buckets bind
  TenantRateLimiter limiter(clock, limits);
  auto malware = Burst(clock, limiter, 20, {Bucket::kIteratorMalware, Bucket::kV2});
  EXPECT_LE(MaxInWindow(malware, seconds(1)), 4);
  // malsite has its own budget: its first four go at once even right after malware's burst.
  EXPECT_EQ(limiter.WaitTime({Bucket::kIteratorMalsite, Bucket::kV2}), Duration::zero());
}

TEST(TenantRateLimiterTest, AConfiguredV2LimitBindsEveryV2Request) {
  AutoAdvanceClock clock;
  TenantRateLimits limits;
  limits.v2 = {10, seconds(1), milliseconds(100)};
  TenantRateLimiter limiter(clock, limits);
  auto times = Burst(clock, limiter, 100, {Bucket::kV2});
  EXPECT_LE(MaxInWindow(times, seconds(1)), 10);
  EXPECT_LE(MaxInWindow(times, milliseconds(1100)), 10);  // the margin holds too
}

TEST(TenantRateLimiterTest, PauseClosesTheBucketForEveryone) {
  AutoAdvanceClock clock;
  TenantRateLimiter limiter(clock, TenantRateLimits{});
  limiter.PauseFor(Bucket::kV2, seconds(3));
  EXPECT_EQ(limiter.WaitTime({Bucket::kV2}), seconds(3));
  EXPECT_EQ(limiter.WaitTime({Bucket::kV1}), Duration::zero());
  auto times = Burst(clock, limiter, 1, {Bucket::kV2});
  EXPECT_GE(times[0], seconds(3));
  // A shorter pause never shortens a longer one.
  limiter.PauseFor(Bucket::kV1, seconds(10));
  limiter.PauseFor(Bucket::kV1, seconds(1));
  EXPECT_EQ(limiter.WaitTime({Bucket::kV1}), seconds(10));
}

TEST(TenantRateLimiterTest, ShutdownReleasesAWaiter) {
  SimulatedClock clock;
  TenantRateLimiter limiter(clock, TenantRateLimits{});
  limiter.PauseFor(Bucket::kV2, std::chrono::hours(1));
  std::atomic<bool> result{true};
  std::thread waiter([&] { result = limiter.Acquire({Bucket::kV2}); });
  while (clock.waiters() == 0) std::this_thread::yield();
  limiter.Shutdown();
  waiter.join();
  EXPECT_FALSE(result);
  EXPECT_FALSE(limiter.Acquire({Bucket::kV1}));
}

TEST(TenantRateLimiterTest, UnlimitedBucketNeverWaits) {
  AutoAdvanceClock clock;
  TenantRateLimits limits;
  limits.v2.requests = 0;
  TenantRateLimiter limiter(clock, limits);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(limiter.Acquire({Bucket::kV2}));
  EXPECT_EQ(limiter.WaitTime({Bucket::kV2}), Duration::zero());
}

}  // namespace
}  // namespace cte::netskope
