#include "operator/core/time_format.h"

#include <cstdio>
#include <ctime>

namespace cte {

std::string FormatRfc3339(std::chrono::system_clock::time_point t, TimePrecision precision) {
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
  if (secs > t) secs -= std::chrono::seconds(1);  // round towards the past for pre-1970 times
  std::time_t tt = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char base[32];
  std::strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t - secs).count();
  char out[64];
  switch (precision) {
    case TimePrecision::kSeconds:
      std::snprintf(out, sizeof(out), "%sZ", base);
      break;
    case TimePrecision::kMillis:
      std::snprintf(out, sizeof(out), "%s.%03dZ", base, static_cast<int>(micros / 1000));
      break;
    case TimePrecision::kMicros:
      std::snprintf(out, sizeof(out), "%s.%06dZ", base, static_cast<int>(micros));
      break;
  }
  return out;
}

}  // namespace cte
