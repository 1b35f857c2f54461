// Exponential backoff with jitter, shared by the work queue (per key), the informers (watch
// reconnects) and the tenant client (retries). Not thread-safe; each user owns its own.
#pragma once

#include <chrono>

#include "operator/core/clock.h"
#include "operator/core/random.h"

namespace cte {

struct BackoffPolicy {
  Duration initial = std::chrono::milliseconds(800);
  Duration max = std::chrono::seconds(30);
  double multiplier = 2.0;
  // Each delay is scaled by a factor in [1 - jitter, 1 + jitter].
  double jitter = 0.2;
};

class Backoff {
 public:
  Backoff(BackoffPolicy policy, Random& random) : policy_(policy), random_(random) {}

  // The delay before the next attempt; grows each call up to the maximum.
  Duration Next();
  void Reset() { attempts_ = 0; }
  int attempts() const { return attempts_; }

 private:
  BackoffPolicy policy_;
  Random& random_;
  int attempts_ = 0;
};

}  // namespace cte
