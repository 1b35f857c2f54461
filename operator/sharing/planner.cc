#include "operator/sharing/planner.h"

#include <nlohmann/json.hpp>

#include "operator/sharing/diff.h"

namespace cte::sharing {

size_t EntryBytes(std::string_view value) {
  // nlohmann's dump escapes exactly what the request body will carry.
  return nlohmann::json(std::string(value)).dump().size() + 2;
}

size_t ListBytes(const std::vector<std::string>& entries) {
  size_t bytes = 2;  // []
  for (const auto& e : entries) bytes += EntryBytes(e);
  return entries.empty() ? bytes : bytes - 2;  // no separator after the last one
}

ListCaps ListCaps::For(const api::SharingTarget& target) {
  ListCaps caps;
  caps.max_bytes = static_cast<size_t>(target.EffectiveListSizeMB()) << 20;
  return caps;
}

Planner::Planner(const CompiledRule& rule, api::ListType list, ListCaps caps, WallTime now)
    : rule_(rule), list_(list), caps_(caps), now_(now), used_bytes_(2 + caps.reserved_bytes) {}

void Planner::Add(const store::Indicator& row) {
  const bool fits_list = list_ == api::ListType::kUrlList ? store::FitsUrlList(row.type)
                                                          : store::FitsFileHashList(row.type);
  if (!fits_list || !row.active || row.test || row.retracted || !rule_.Matches(row, now_)) return;
  if (!seen_.insert(row.value).second) return;  // the same value through another type
  // The placeholder that keeps an empty list non-empty is not an indicator: sharing it would
  // make every diff see a missing entry and write (and deploy) on every cycle.
  if (row.invalid_at || row.value == kPlaceholderUrl || row.value == kPlaceholderFileHash) {
    ++plan_.invalid;
    return;
  }
  ++plan_.matched;
  const size_t bytes = EntryBytes(row.value);
  const bool room = plan_.entries.size() + caps_.reserved_entries < caps_.max_entries &&
                    used_bytes_ + bytes - 2 <= caps_.max_bytes;
  if (!room) {
    ++plan_.truncated;
    return;
  }
  plan_.entries.push_back(row.value);
  used_bytes_ += bytes;
}

Plan Planner::Finish() {
  plan_.bytes = ListBytes(plan_.entries);
  seen_.clear();
  return std::move(plan_);
}

StatusOr<Plan> Planner::Run(store::IndicatorStore& store, const store::Selection& selection,
                            const CompiledRule& rule, api::ListType list, ListCaps caps,
                            WallTime now) {
  auto cursor = store.Select(selection);
  if (!cursor.ok()) return cursor.status();
  Planner planner(rule, list, caps, now);
  store::Indicator row;
  for (;;) {
    auto more = (*cursor)->Next(row);
    if (!more.ok()) return more.status();
    if (!*more) break;
    planner.Add(row);
  }
  return planner.Finish();
}

}  // namespace cte::sharing
