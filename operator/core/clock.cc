#include "operator/core/clock.h"

#include <vector>

namespace cte {

RealClock::RealClock() : thread_([this] { TimerLoop(); }) {}

RealClock::~RealClock() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

bool RealClock::WaitFor(Duration d, const std::function<bool()>& wake) {
  std::unique_lock<std::mutex> lock(mu_);
  return waiters_.wait_for(lock, d, wake);
}

void RealClock::Notify() {
  std::lock_guard<std::mutex> lock(mu_);
  waiters_.notify_all();
}

TimerId RealClock::Schedule(Duration d, std::function<void()> callback) {
  std::lock_guard<std::mutex> lock(mu_);
  TimerId id = next_id_++;
  timers_.emplace(Now() + d, std::make_pair(id, std::move(callback)));
  cv_.notify_all();
  return id;
}

bool RealClock::Cancel(TimerId id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = timers_.begin(); it != timers_.end(); ++it) {
    if (it->second.first == id) {
      timers_.erase(it);
      return true;
    }
  }
  return false;
}

void RealClock::TimerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (timers_.empty()) {
      cv_.wait(lock);
      continue;
    }
    auto due = timers_.begin()->first;
    if (Now() < due) {
      cv_.wait_until(lock, due);
      continue;
    }
    auto callback = std::move(timers_.begin()->second.second);
    timers_.erase(timers_.begin());
    lock.unlock();
    callback();
    lock.lock();
  }
}

SimulatedClock::SimulatedClock(WallTime wall_start)
    : now_(MonoTime(std::chrono::hours(1))), wall_start_(wall_start), mono_start_(now_) {}

MonoTime SimulatedClock::Now() const {
  std::lock_guard<std::mutex> lock(mu_);
  return now_;
}

WallTime SimulatedClock::WallNow() const {
  std::lock_guard<std::mutex> lock(mu_);
  return wall_start_ + std::chrono::duration_cast<WallTime::duration>(now_ - mono_start_);
}

bool SimulatedClock::WaitFor(Duration d, const std::function<bool()>& wake) {
  std::unique_lock<std::mutex> lock(mu_);
  MonoTime deadline = d >= MonoTime::max() - now_ ? MonoTime::max() : now_ + d;
  ++waiters_;
  auto slot = deadlines_.insert(deadline);
  cv_.notify_all();
  cv_.wait(lock, [&] { return now_ >= deadline || wake(); });
  --waiters_;
  deadlines_.erase(slot);
  return wake();
}

void SimulatedClock::Notify() {
  std::lock_guard<std::mutex> lock(mu_);
  cv_.notify_all();
}

TimerId SimulatedClock::Schedule(Duration d, std::function<void()> callback) {
  std::lock_guard<std::mutex> lock(mu_);
  TimerId id = next_id_++;
  timers_.emplace(now_ + d, std::make_pair(id, std::move(callback)));
  return id;
}

bool SimulatedClock::Cancel(TimerId id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = timers_.begin(); it != timers_.end(); ++it) {
    if (it->second.first == id) {
      timers_.erase(it);
      return true;
    }
  }
  return false;
}

void SimulatedClock::Advance(Duration d) {
  std::unique_lock<std::mutex> lock(mu_);
  MonoTime target = now_ + d;
  while (!timers_.empty() && timers_.begin()->first <= target) {
    now_ = std::max(now_, timers_.begin()->first);
    auto callback = std::move(timers_.begin()->second.second);
    timers_.erase(timers_.begin());
    cv_.notify_all();
    lock.unlock();
    callback();
    lock.lock();
  }
  now_ = target;
  cv_.notify_all();
}

int SimulatedClock::waiters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiters_;
}

int SimulatedClock::due_waiters() const {
  std::lock_guard<std::mutex> lock(mu_);
  int due = 0;
  for (MonoTime d : deadlines_) {
    if (d > now_) break;
    ++due;
  }
  return due;
}

size_t SimulatedClock::pending_timers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return timers_.size();
}

}  // namespace cte
