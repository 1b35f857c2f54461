// A BusinessRule compiled for evaluation: the filter tree of controllers/api/business_rule.h with
// every operand parsed once (numbers, severities, timestamps, durations) and every regular
// expression compiled with RE2, which runs in time linear in the input: indicator values come from
// third parties and must not be able to stall the planner with a pathological pattern match.
//
// Semantics (docs/sharing.md has the user-facing table):
// - value, comments, source (the source plugin's name), type and severity compare as strings;
//   Matches is an RE2 partial match (anchor with ^...$ for a whole-value match), Contains a
//   substring test.
// - severity is also ordered (unknown < low < medium < high < critical) for the comparisons;
//   reputation is an integer 1..10; firstSeen, lastSeen and expiresAt are times, compared with an
//   RFC 3339 operand, or with OlderThan/NewerThan and a duration ("30d") against `now`. An
//   indicator that never expires has an expiresAt later than any time.
// - tags is a list: Equals/In hold when some tag equals one operand, NotEquals/NotIn when none
//   does, Contains/Matches when some tag contains/matches.
// - An indicator is shared when it matches the filter (absent: everything) and no exception
//   (a filter, or a list of tags of which it carries any).
//
// Thread-safety: a CompiledRule is immutable after Compile and may be evaluated from any number
// of threads at once.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "controllers/api/business_rule.h"
#include "operator/core/clock.h"
#include "operator/core/status.h"
#include "operator/store/indicator.h"

namespace cte::sharing {

class CompiledRule {
 public:
  // Compiles `spec`. An operand that does not fit its field and operator, an operator that does
  // not apply to the field, or a regular expression RE2 refuses is InvalidArgument naming the
  // field path under `path` ("spec.filter.all[1].value: ...").
  static StatusOr<CompiledRule> Compile(const api::BusinessRuleSpec& spec,
                                        const std::string& path = "spec");

  // True when `indicator` passes the filter and no exception applies. `now` anchors OlderThan
  // and NewerThan.
  bool Matches(const store::Indicator& indicator, WallTime now) const;

  // A muted rule freezes its lists: no additions and no removals until it is unmuted.
  bool muted() const { return muted_; }

  struct Group;

 private:
  struct Exception;
  std::shared_ptr<const Group> filter_;  // null: matches everything
  std::vector<std::shared_ptr<const Exception>> exceptions_;
  bool muted_ = false;
};

}  // namespace cte::sharing
