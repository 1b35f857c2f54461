// Durations as the CRDs spell them: a number and a unit, `90s`, `10m`, `12h`, `30d`, or a
// sequence of such parts (`1h30m`). Used by the CRD types and by the reconcilers.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "operator/core/status.h"

namespace cte {

// Parses a duration; InvalidArgument names what was wrong. Zero is allowed ("0s").
StatusOr<std::chrono::seconds> ParseDuration(std::string_view text);

// Formats the largest whole unit that divides the value exactly: 86400s -> "1d", 90s -> "90s".
std::string FormatDuration(std::chrono::seconds d);

// The regular expression the CRD schemas use for duration strings, kept next to the parser so the
// two cannot drift apart (a unit test checks that both accept the same examples).
inline constexpr std::string_view kDurationPattern = "^([0-9]+(s|m|h|d))+$";

}  // namespace cte
