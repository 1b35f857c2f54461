// Time as an injected dependency. Production code takes a Clock& and never calls
// std::chrono::*::now() or sleeps directly, so tests drive time with SimulatedClock::Advance()
// instead of sleeping (modelled on Envoy's TimeSource / SimulatedTimeSystem).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

namespace cte {

using Duration = std::chrono::nanoseconds;
using MonoTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;
using TimerId = uint64_t;

class Clock {
 public:
  virtual ~Clock() = default;

  // Monotonic time, for deadlines and intervals.
  virtual MonoTime Now() const = 0;
  // Wall-clock time, for timestamps shown to users (conditions, logs).
  virtual WallTime WallNow() const = 0;

  // Blocks the calling thread until `d` has passed on this clock or `wake()` returns true when
  // re-checked (it is re-checked whenever Notify() is called). Returns wake()'s final value.
  // wake() runs under the clock's lock: it must be quick and must not call the clock.
  virtual bool WaitFor(Duration d, const std::function<bool()>& wake) = 0;
  // Wakes every WaitFor so it re-checks its predicate.
  virtual void Notify() = 0;

  // Runs `callback` on the clock's timer thread once `d` has passed. The callback must not block
  // for long and may schedule or cancel timers (it runs without the clock's lock held).
  virtual TimerId Schedule(Duration d, std::function<void()> callback) = 0;
  // Cancels a pending timer; false when it already ran or never existed.
  virtual bool Cancel(TimerId id) = 0;

  void SleepFor(Duration d) {
    WaitFor(d, [] { return false; });
  }
};

// The real clock; owns one timer thread.
class RealClock : public Clock {
 public:
  RealClock();
  ~RealClock() override;
  MonoTime Now() const override { return std::chrono::steady_clock::now(); }
  WallTime WallNow() const override { return std::chrono::system_clock::now(); }
  bool WaitFor(Duration d, const std::function<bool()>& wake) override;
  void Notify() override;
  TimerId Schedule(Duration d, std::function<void()> callback) override;
  bool Cancel(TimerId id) override;

 private:
  void TimerLoop();

  std::mutex mu_;
  std::condition_variable cv_;       // timer thread
  std::condition_variable waiters_;  // WaitFor callers
  std::multimap<MonoTime, std::pair<TimerId, std::function<void()>>> timers_;
  TimerId next_id_ = 1;
  bool stopping_ = false;
  std::thread thread_;
};

// A clock that moves only when a test calls Advance(). Timers fire inside Advance() on the
// calling thread, in time order; WaitFor callers wake when their deadline has been passed.
class SimulatedClock : public Clock {
 public:
  explicit SimulatedClock(WallTime wall_start = WallTime(std::chrono::seconds(1'800'000'000)));
  MonoTime Now() const override;
  WallTime WallNow() const override;
  bool WaitFor(Duration d, const std::function<bool()>& wake) override;
  void Notify() override;
  TimerId Schedule(Duration d, std::function<void()> callback) override;
  bool Cancel(TimerId id) override;

  // Moves time forward, firing due timers in order and waking sleepers.
  void Advance(Duration d);
  // Number of threads currently blocked in WaitFor (lets a test wait until a worker sleeps).
  int waiters() const;
  // Threads in WaitFor whose deadline has passed but that have not returned yet. A test that
  // advances time in steps waits for this to reach zero, so a woken thread has run (and, say,
  // entered its next wait) before time moves on.
  int due_waiters() const;
  // Number of pending timers.
  size_t pending_timers() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  MonoTime now_;
  WallTime wall_start_;
  MonoTime mono_start_;
  std::multimap<MonoTime, std::pair<TimerId, std::function<void()>>> timers_;
  TimerId next_id_ = 1;
  int waiters_ = 0;
  std::multiset<MonoTime> deadlines_;  // of the threads in WaitFor
};

}  // namespace cte
