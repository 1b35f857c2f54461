#include "operator/core/backoff.h"

#include <algorithm>
#include <cmath>

namespace cte {

Duration Backoff::Next() {
  double base = static_cast<double>(policy_.initial.count()) *
                std::pow(policy_.multiplier, std::min(attempts_, 62));
  base = std::min(base, static_cast<double>(policy_.max.count()));
  ++attempts_;
  double factor = 1.0 + policy_.jitter * (2.0 * random_.Uniform() - 1.0);
  double jittered = std::min(base * factor, static_cast<double>(policy_.max.count()));
  return Duration(static_cast<Duration::rep>(std::max(0.0, jittered)));
}

}  // namespace cte
