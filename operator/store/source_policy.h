// What a source plugin's settings do to an indicator at ingest (CTEPlugin agingDays and
// overrideReputation), shared by the ingest API and the alert pollers so both apply them alike.
#pragma once

#include "operator/core/clock.h"
#include "operator/store/indicator.h"

namespace cte::store {

struct SourcePolicy {
  // Days from ingest until expiresAt, for indicators that arrive without one. 0 = never expire.
  // Cloud Exchange differs: its aging task also deactivates rows without an expiresAt, so there
  // 0 means "expire at the next sweep" (reference/threat-exchange.md §1.2); docs/store.md.
  int aging_days = 0;
  // 1..10 replaces every indicator's reputation; 0 keeps the indicator's own.
  int override_reputation = 0;
};

// Fills what CE fills at insert (reference/netskope-api.md §7.3): firstSeen and lastSeen default
// to `now` (lastSeen to firstSeen when only that is given), expiresAt to now + aging_days when
// absent and aging is on, the reputation override; tags are normalized.
void ApplySourcePolicy(const SourcePolicy& policy, WallTime now, Indicator& indicator);

}  // namespace cte::store
