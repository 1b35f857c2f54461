#include "operator/sharing/diff.h"

#include <unordered_set>

namespace cte::sharing {

namespace {

using Set = std::unordered_set<std::string>;

Set ToSet(const std::vector<std::string>& v) { return Set(v.begin(), v.end()); }

}  // namespace

std::vector<std::string> ForeignEntries(const std::vector<std::string>& actual,
                                        const std::vector<std::string>& ledger,
                                        const std::string& placeholder) {
  const Set ours = ToSet(ledger);
  std::vector<std::string> out;
  Set seen;
  for (const auto& e : actual) {
    if (e == placeholder || ours.count(e) || !seen.insert(e).second) continue;
    out.push_back(e);
  }
  return out;
}

ListChange DiffList(const std::vector<std::string>& desired, const std::vector<std::string>& actual,
                    const std::vector<std::string>& ledger, api::Ownership ownership,
                    const std::string& placeholder) {
  const Set actual_set = ToSet(actual);
  const Set ledger_set = ToSet(ledger);
  const Set desired_set = ToSet(desired);

  // The content the list should have, in a stable order: what stays of the current content
  // first (in its order), then the new desired entries (newest first).
  std::vector<std::string> target;
  Set target_set;
  for (const auto& e : actual) {
    if (e == placeholder || target_set.count(e)) continue;
    bool keep = desired_set.count(e) > 0 ||
                (ownership == api::Ownership::kShared && ledger_set.count(e) == 0);
    if (keep) {
      target.push_back(e);
      target_set.insert(e);
    }
  }
  std::vector<std::string> additions;
  for (const auto& e : desired) {
    if (target_set.insert(e).second) {
      target.push_back(e);
      additions.push_back(e);
    }
  }

  ListChange change;
  // Owned afterwards: desired entries that we added now or had added before. An entry that was
  // already in the list before we wanted it stays someone else's under Shared ownership; under
  // Exclusive ownership the whole list is ours.
  for (const auto& e : target) {
    bool owned = ownership == api::Ownership::kExclusive ||
                 (desired_set.count(e) && (ledger_set.count(e) || !actual_set.count(e)));
    if (owned) change.owned.push_back(e);
  }

  const bool empty = target.empty();
  if (empty) target.push_back(placeholder);
  change.result = target;
  const Set result_set = ToSet(target);
  for (const auto& e : actual_set) {
    if (!result_set.count(e)) ++change.removed;
  }
  change.added = additions.size();

  if (change.removed == 0 && additions.empty()) return change;  // already equal (as a set)
  if (change.removed == 0) {
    change.action = ListChange::Action::kAppend;
    change.entries = additions;
    return change;
  }
  change.action = ListChange::Action::kReplace;
  change.entries = target;
  return change;
}

}  // namespace cte::sharing
