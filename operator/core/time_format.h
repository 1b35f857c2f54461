// RFC 3339 timestamps in UTC, the way Kubernetes and Netskope spell them:
// metav1.Time (seconds), metav1.MicroTime (microseconds, Leases and Events), and millisecond
// stamps for logs and the tenant's modify_time.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "operator/core/status.h"

namespace cte {

enum class TimePrecision { kSeconds, kMillis, kMicros };

// "2026-11-27T22:03:41Z", "2026-11-27T22:03:41.123Z" or "2026-11-27T22:03:41.123456Z".
std::string FormatRfc3339(std::chrono::system_clock::time_point t,
                          TimePrecision precision = TimePrecision::kSeconds);

// Reads an RFC 3339 timestamp as Go's time.Parse(time.RFC3339) does: "2026-11-27T22:03:41Z",
// any number of fraction digits (up to nanoseconds), and a numeric offset ("+05:30") instead of
// "Z". Nullopt for anything else, including out-of-range fields.
std::optional<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view text);

// Parses an ISO-8601 date-time the way Cloud Exchange's API (pydantic) accepts one:
// "YYYY-MM-DDTHH:MM[:SS[.fraction]]" with 'T' or a space between date and time, then "Z",
// "+HH:MM", "+HHMM" or nothing (UTC). Also a bare date "YYYY-MM-DD" (midnight UTC). Fractions
// keep microseconds. InvalidArgument says what was wrong; years before 1970 are refused.
StatusOr<std::chrono::system_clock::time_point> ParseIso8601(std::string_view text);

}  // namespace cte
