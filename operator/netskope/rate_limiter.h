// The per-tenant request budget: the client asks it before every request so that a healthy
// operator never sees a 429 (reference §6).
//
// Each bucket is a sliding-window log, "at most N requests in any window W", which is exactly how
// the published limits read: v1 24 per 5 s tenant-wide; the data-export iterator 4 per second per
// endpoint; a tenant-wide v2 limit whose value is not published (OPEN §9.5: configurable,
// default 4 per second, the only published v2 figure). A request may count against several
// buckets (an iterator call is also a v2 call). Each window is widened by a small margin so that
// network jitter between our send time and the tenant's arrival time cannot push two requests
// into one of the tenant's windows. When the tenant asks for a pause (Retry-After on a 429, or
// RateLimit-Remaining: 0 with RateLimit-Reset) the bucket is closed until then, for every caller.
//
// One limiter per tenant, shared by every client of that tenant. Thread-safe; Acquire blocks on
// the injected Clock, so tests drive it with SimulatedClock::Advance().
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <vector>

#include "operator/core/clock.h"

namespace cte::netskope {

struct RateLimit {
  int requests = 0;  // <= 0: unlimited
  Duration window = std::chrono::seconds(1);
  Duration margin{0};
};

struct TenantRateLimits {
  RateLimit v1{24, std::chrono::seconds(5), std::chrono::milliseconds(500)};
  RateLimit v2{4, std::chrono::seconds(1), std::chrono::milliseconds(150)};
  RateLimit iterator{4, std::chrono::seconds(1), std::chrono::milliseconds(150)};
};

enum class Bucket { kV1, kV2, kIteratorMalware, kIteratorMalsite };

class TenantRateLimiter {
 public:
  TenantRateLimiter(Clock& clock, TenantRateLimits limits);

  // Blocks until one more request fits every bucket in `buckets`, then counts it against each.
  // False (nothing counted) when Shutdown() is called or `cancelled` turns true while waiting;
  // `cancelled` is called under the clock's lock, so it must only read atomics, and whoever
  // flips it must call Clock::Notify().
  bool Acquire(const std::vector<Bucket>& buckets,
               const std::function<bool()>& cancelled = nullptr);

  // The tenant asked for a pause: no request on `bucket` before now + `d`.
  void PauseFor(Bucket bucket, Duration d);

  // Wakes every waiter; later Acquire calls fail at once.
  void Shutdown();

  // How long Acquire would block right now (tests and diagnostics).
  Duration WaitTime(const std::vector<Bucket>& buckets) const;

 private:
  struct State {
    RateLimit limit;
    std::deque<MonoTime> sent;  // the last `limit.requests` send times
    MonoTime paused_until{};
  };
  Duration WaitLocked(const std::vector<Bucket>& buckets, MonoTime now) const;
  const State& StateOf(Bucket b) const { return states_.at(b); }

  Clock& clock_;
  mutable std::mutex mu_;
  std::map<Bucket, State> states_;
  std::atomic<bool> shutdown_{false};
};

}  // namespace cte::netskope
