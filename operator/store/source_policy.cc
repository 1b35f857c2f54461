#include "operator/store/source_policy.h"

namespace cte::store {

void ApplySourcePolicy(const SourcePolicy& policy, WallTime now, Indicator& ind) {
  const WallTime unset{};
  if (ind.first_seen == unset && ind.last_seen == unset) {
    ind.first_seen = ind.last_seen = now;
  } else if (ind.last_seen == unset) {
    ind.last_seen = ind.first_seen;
  } else if (ind.first_seen == unset) {
    ind.first_seen = ind.last_seen;
  }
  if (!ind.expires_at && policy.aging_days > 0) {
    ind.expires_at = now + std::chrono::hours(24) * policy.aging_days;
  }
  if (policy.override_reputation >= kMinReputation &&
      policy.override_reputation <= kMaxReputation) {
    ind.reputation = policy.override_reputation;
  }
  NormalizeTags(ind.tags);
}

}  // namespace cte::store
