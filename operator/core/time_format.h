// RFC 3339 timestamps in UTC, the way Kubernetes and Netskope spell them:
// metav1.Time (seconds), metav1.MicroTime (microseconds, Leases and Events), and millisecond
// stamps for logs and the tenant's modify_time.
#pragma once

#include <chrono>
#include <string>

namespace cte {

enum class TimePrecision { kSeconds, kMillis, kMicros };

// "2026-11-27T22:03:41Z", "2026-11-27T22:03:41.123Z" or "2026-11-27T22:03:41.123456Z".
std::string FormatRfc3339(std::chrono::system_clock::time_point t,
                          TimePrecision precision = TimePrecision::kSeconds);

}  // namespace cte
