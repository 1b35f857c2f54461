// The smallest change that makes a list hold what it should (ARCHITECTURE §1 step 4). Pure
// functions of the desired entries, the list's actual content and the ledger of what this
// configuration pushed before; the pusher sends what they decide.
//
// - Exclusive ownership: the list must equal the desired entries.
// - Shared ownership: entries this configuration pushed and no longer wants go; entries someone
//   else added (an administrator, by hand) stay; desired entries are added.
// - Nothing to change: no request at all. Only additions: `append` with just those. Anything to
//   remove: `replace` with the whole new content (the API has no remove action).
// - A URL list is never left empty: Netskope refuses to create one without entries, so an empty
//   result holds the placeholder entry instead (Cloud Exchange's "cedefaultpush.io"), which is
//   nobody's entry and never counted.
#pragma once

#include <string>
#include <vector>

#include "controllers/api/sharing_configuration.h"

namespace cte::sharing {

inline constexpr const char* kPlaceholderUrl = "cedefaultpush.io";
// Cloud Exchange's default file hash: what an "empty" file-hash list holds.
inline constexpr const char* kPlaceholderFileHash =
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

struct ListChange {
  enum class Action { kNone, kAppend, kReplace };
  Action action = Action::kNone;
  // kAppend: the entries to add. kReplace: the list's whole new content.
  std::vector<std::string> entries;
  // The list's content once the change is applied (placeholder included when it is the only
  // entry), and the entries this configuration owns in it afterwards (the next ledger).
  std::vector<std::string> result;
  std::vector<std::string> owned;
  size_t added = 0;
  size_t removed = 0;
};

// `desired` in priority order (newest first); `actual` as the tenant returned it; `ledger` the
// entries this configuration pushed (sorted or not). Entries are compared as exact strings.
ListChange DiffList(const std::vector<std::string>& desired, const std::vector<std::string>& actual,
                    const std::vector<std::string>& ledger, api::Ownership ownership,
                    const std::string& placeholder);

// The entries of `actual` this configuration does not own and must keep under Shared ownership
// (neither in the ledger nor the placeholder); the planner reserves room for them.
std::vector<std::string> ForeignEntries(const std::vector<std::string>& actual,
                                        const std::vector<std::string>& ledger,
                                        const std::string& placeholder);

}  // namespace cte::sharing
