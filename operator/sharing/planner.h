// The planner: what one target list should hold (ARCHITECTURE §1 step 3). It takes a source's
// rows newest lastSeen first (store::IndicatorCursor), keeps those that are active, not tests,
// not retracted, whose type fits the list and that the business rule lets through, and stops
// adding at the list's caps: 300,000 entries and the size cap counted as the JSON bytes of the
// list's content. It reads every row to the end anyway, so what did not fit is counted, never
// silently dropped; rows a tenant refused before, and the lists' placeholder values (diff.h), are
// counted as invalid and left out.
//
// Entries are indicator values; a value that several rows carry (the same host as `url` and as
// `domain`) is one entry. Room already taken by entries this configuration does not own
// (`ownership: Shared` keeps an administrator's entries) is passed in as reserved.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "controllers/api/sharing_configuration.h"
#include "operator/core/clock.h"
#include "operator/core/status.h"
#include "operator/sharing/rule.h"
#include "operator/store/indicator_store.h"

namespace cte::sharing {

// Netskope's cap on the entries of one list, and Cloud Exchange's (MAX_PUSH_INDICATORS).
inline constexpr size_t kMaxListEntries = 300'000;

// The bytes `value` adds to a list: its JSON string (quotes and escapes included) and the ", "
// that separates it from the next, as Python's json.dumps writes an array: the measure Cloud
// Exchange and the tenant apply to the 7/8 MiB caps. A list of n entries takes 2 + sum - 2.
size_t EntryBytes(std::string_view value);
// The JSON size of a whole list of entries (`["a", "b"]`).
size_t ListBytes(const std::vector<std::string>& entries);

struct ListCaps {
  size_t max_entries = kMaxListEntries;
  size_t max_bytes = 7u << 20;
  // Taken by entries outside this plan (an administrator's, under Shared ownership).
  size_t reserved_entries = 0;
  size_t reserved_bytes = 0;

  // The caps of a SharingConfiguration's target (listSizeMB, with the per-type default).
  static ListCaps For(const api::SharingTarget& target);
};

struct Plan {
  std::vector<std::string> entries;  // newest lastSeen first, each value once
  size_t matched = 0;                // distinct values that passed the rule
  size_t truncated = 0;              // of those, how many did not fit the caps
  size_t invalid = 0;                // would pass, but a tenant refused them before
  size_t bytes = 0;                  // ListBytes(entries)
};

class Planner {
 public:
  Planner(const CompiledRule& rule, api::ListType list, ListCaps caps, WallTime now);

  // Feeds one row; call in the order the store returns them (newest lastSeen first).
  void Add(const store::Indicator& row);
  Plan Finish();

  // Reads `selection` from `store` to the end and plans it.
  static StatusOr<Plan> Run(store::IndicatorStore& store, const store::Selection& selection,
                            const CompiledRule& rule, api::ListType list, ListCaps caps,
                            WallTime now);

 private:
  const CompiledRule& rule_;
  api::ListType list_;
  ListCaps caps_;
  WallTime now_;
  Plan plan_;
  size_t used_bytes_;  // of the caps, including the reserved part and the array's brackets
  std::unordered_set<std::string> seen_;
};

}  // namespace cte::sharing
