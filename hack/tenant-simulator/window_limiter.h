// The tenant simulator's rate limits: a sliding-window log per bucket ("at most N requests in any
// window of W"), which is how the published limits read (v1: 24 per 5 s; iterator: 4 per second
// per endpoint; v2: a tenant-wide number per second). Answers also carry what the RateLimit-*
// headers need. Not thread-safe: the simulator calls it under its own lock.
#pragma once

#include <deque>

#include "operator/core/clock.h"

namespace cte::tenantsim {

class WindowLimiter {
 public:
  // `limit` <= 0 means unlimited.
  WindowLimiter(int limit, Duration window) : limit_(limit), window_(window) {}

  struct Decision {
    bool allowed = true;
    int limit = 0;
    int remaining = 0;               // after this request, when allowed
    double reset_seconds = 0;        // until the oldest request in the window leaves it
    double retry_after_seconds = 0;  // when refused: until a slot frees up
  };

  // Decides without recording; Record() counts an allowed request.
  Decision Check(MonoTime now);
  void Record(MonoTime now);
  void Reset() { sent_.clear(); }
  void SetLimit(int limit, Duration window) {
    limit_ = limit;
    window_ = window;
  }
  int limit() const { return limit_; }
  Duration window() const { return window_; }

 private:
  void Expire(MonoTime now);

  int limit_;
  Duration window_;
  std::deque<MonoTime> sent_;
};

}  // namespace cte::tenantsim
