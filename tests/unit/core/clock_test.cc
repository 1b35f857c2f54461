#include "operator/core/clock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "operator/core/backoff.h"

namespace cte {
namespace {

TEST(SimulatedClockTest, TimersFireInOrderWhenTimeAdvances) {
  SimulatedClock clock;
  std::vector<int> fired;
  clock.Schedule(std::chrono::seconds(2), [&] { fired.push_back(2); });
  clock.Schedule(std::chrono::seconds(1), [&] { fired.push_back(1); });
  TimerId cancelled = clock.Schedule(std::chrono::seconds(3), [&] { fired.push_back(3); });
  EXPECT_TRUE(clock.Cancel(cancelled));
  clock.Advance(std::chrono::milliseconds(999));
  EXPECT_TRUE(fired.empty());
  clock.Advance(std::chrono::seconds(5));
  EXPECT_EQ(fired, (std::vector<int>{1, 2}));
  EXPECT_EQ(clock.pending_timers(), 0u);
}

TEST(SimulatedClockTest, TimerCallbackMaySchedulePeriodicWork) {
  SimulatedClock clock;
  int ticks = 0;
  std::function<void()> tick = [&] {
    ++ticks;
    clock.Schedule(std::chrono::seconds(1), tick);
  };
  clock.Schedule(std::chrono::seconds(1), tick);
  clock.Advance(std::chrono::seconds(5));
  EXPECT_EQ(ticks, 5);
}

TEST(SimulatedClockTest, WaitForReturnsWhenTimePassesOrPredicateHolds) {
  SimulatedClock clock;
  std::atomic<bool> woke{false};
  std::thread sleeper([&] {
    clock.SleepFor(std::chrono::seconds(10));
    woke = true;
  });
  while (clock.waiters() == 0) std::this_thread::yield();
  clock.Advance(std::chrono::seconds(9));
  EXPECT_FALSE(woke);
  clock.Advance(std::chrono::seconds(1));
  sleeper.join();
  EXPECT_TRUE(woke);

  std::atomic<bool> flag{false};
  std::thread waiter(
      [&] { EXPECT_TRUE(clock.WaitFor(std::chrono::hours(1), [&] { return flag.load(); })); });
  while (clock.waiters() == 0) std::this_thread::yield();
  flag = true;
  clock.Notify();
  waiter.join();
}

TEST(SimulatedClockTest, WallTimeMovesWithMonotonicTime) {
  SimulatedClock clock;
  WallTime w = clock.WallNow();
  clock.Advance(std::chrono::minutes(3));
  EXPECT_EQ(clock.WallNow() - w, std::chrono::minutes(3));
}

TEST(RealClockTest, TimerFires) {
  RealClock clock;
  std::atomic<bool> fired{false};
  clock.Schedule(std::chrono::milliseconds(1), [&] {
    fired = true;
    clock.Notify();
  });
  EXPECT_TRUE(clock.WaitFor(std::chrono::seconds(10), [&] { return fired.load(); }));
}

TEST(BackoffTest, DoublesToTheCapWithBoundedJitter) {
  FixedRandom mid(0.5);
  Backoff b({std::chrono::milliseconds(800), std::chrono::seconds(30), 2.0, 0.2}, mid);
  const int64_t expected_ms[] = {800, 1600, 3200, 6400, 12800, 25600, 30000, 30000};
  for (int64_t ms : expected_ms) {
    EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(b.Next()).count(), ms);
  }
  b.Reset();
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(b.Next()).count(), 800);

  FixedRandom low(0.0), high(0.9999);
  Backoff lo({std::chrono::seconds(1), std::chrono::seconds(30), 2.0, 0.2}, low);
  Backoff hi({std::chrono::seconds(1), std::chrono::seconds(30), 2.0, 0.2}, high);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(lo.Next()).count(), 800);
  EXPECT_NEAR(std::chrono::duration<double>(hi.Next()).count(), 1.2, 0.001);
}

}  // namespace
}  // namespace cte
