#include "operator/netskope/rate_limiter.h"

#include <algorithm>

namespace cte::netskope {

TenantRateLimiter::TenantRateLimiter(Clock& clock, TenantRateLimits limits) : clock_(clock) {
  states_[Bucket::kV1].limit = limits.v1;
  states_[Bucket::kV2].limit = limits.v2;
  states_[Bucket::kIteratorMalware].limit = limits.iterator;
  states_[Bucket::kIteratorMalsite].limit = limits.iterator;
}

Duration TenantRateLimiter::WaitLocked(const std::vector<Bucket>& buckets, MonoTime now) const {
  Duration wait{0};
  for (Bucket b : buckets) {
    const State& s = StateOf(b);
    if (s.paused_until > now) wait = std::max(wait, Duration(s.paused_until - now));
    int n = s.limit.requests;
    if (n <= 0 || static_cast<int>(s.sent.size()) < n) continue;
    // The n-th most recent send must have left the (widened) window.
    MonoTime frees =
        s.sent[s.sent.size() - static_cast<size_t>(n)] + s.limit.window + s.limit.margin;
    if (frees > now) wait = std::max(wait, Duration(frees - now));
  }
  return wait;
}

bool TenantRateLimiter::Acquire(const std::vector<Bucket>& buckets,
                                const std::function<bool()>& cancelled) {
  auto stop = [this, &cancelled] { return shutdown_.load() || (cancelled && cancelled()); };
  for (;;) {
    if (stop()) return false;
    Duration wait;
    {
      std::lock_guard<std::mutex> lock(mu_);
      MonoTime now = clock_.Now();
      wait = WaitLocked(buckets, now);
      if (wait <= Duration::zero()) {
        for (Bucket b : buckets) {
          State& s = states_.at(b);
          if (s.limit.requests <= 0) continue;
          s.sent.push_back(now);
          while (static_cast<int>(s.sent.size()) > s.limit.requests) s.sent.pop_front();
        }
        return true;
      }
    }
    // The predicate reads only an atomic: the clock calls it under its own lock, and taking mu_
    // there would invert the lock order with the Now() call above.
    clock_.WaitFor(wait, stop);
  }
}

void TenantRateLimiter::PauseFor(Bucket bucket, Duration d) {
  std::lock_guard<std::mutex> lock(mu_);
  State& s = states_.at(bucket);
  s.paused_until = std::max(s.paused_until, clock_.Now() + d);
}

void TenantRateLimiter::Shutdown() {
  shutdown_ = true;
  clock_.Notify();
}

Duration TenantRateLimiter::WaitTime(const std::vector<Bucket>& buckets) const {
  std::lock_guard<std::mutex> lock(mu_);
  return WaitLocked(buckets, clock_.Now());
}

}  // namespace cte::netskope
