#include "operator/ingest/failure_throttle.h"

namespace cte::ingest {

FailureThrottle::FailureThrottle(Clock& clock, FailureThrottleOptions options)
    : clock_(clock), options_(options) {}

Duration FailureThrottle::PauseFor(int failures) const {
  int over = failures - options_.free_failures;
  if (over <= 0) return Duration::zero();
  Duration pause = options_.first_pause;
  for (int i = 1; i < over && pause < options_.max_pause; ++i) pause *= 2;
  return std::min(pause, options_.max_pause);
}

std::optional<Duration> FailureThrottle::Blocked(const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(address);
  if (it == entries_.end()) return std::nullopt;
  const MonoTime now = clock_.Now();
  if (now - it->second.last >= options_.forget_after) {
    lru_.erase(it->second.lru);
    entries_.erase(it);
    return std::nullopt;
  }
  const MonoTime until = it->second.last + PauseFor(it->second.failures);
  if (until <= now) return std::nullopt;
  return until - now;
}

void FailureThrottle::RecordFailure(const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  const MonoTime now = clock_.Now();
  auto it = entries_.find(address);
  if (it == entries_.end()) {
    if (entries_.size() >= options_.max_addresses) {
      entries_.erase(lru_.back());
      lru_.pop_back();
    }
    lru_.push_front(address);
    it = entries_.emplace(address, Entry{0, now, lru_.begin()}).first;
  } else {
    if (now - it->second.last >= options_.forget_after) it->second.failures = 0;
    lru_.splice(lru_.begin(), lru_, it->second.lru);
  }
  ++it->second.failures;
  it->second.last = now;
}

void FailureThrottle::RecordSuccess(const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(address);
  if (it == entries_.end()) return;
  lru_.erase(it->second.lru);
  entries_.erase(it);
}

size_t FailureThrottle::tracked() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace cte::ingest
