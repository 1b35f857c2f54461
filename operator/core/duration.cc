#include "operator/core/duration.h"

namespace cte {

StatusOr<std::chrono::seconds> ParseDuration(std::string_view text) {
  if (text.empty()) return InvalidArgumentError("empty duration; expected e.g. 90s, 10m, 12h, 30d");
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    int64_t n = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      n = n * 10 + (text[i] - '0');
      if (n > 100'000'000'000LL)
        return InvalidArgumentError("duration too large: " + std::string(text));
      ++i;
    }
    if (i == start || i == text.size()) {
      return InvalidArgumentError("invalid duration \"" + std::string(text) +
                                  "\": expected a number followed by s, m, h or d");
    }
    int64_t unit = 0;
    switch (text[i]) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = 86400;
        break;
      default:
        return InvalidArgumentError("invalid duration unit '" + std::string(1, text[i]) +
                                    "' in \"" + std::string(text) + "\": use s, m, h or d");
    }
    total += n * unit;
    // 100 years: far beyond any setting, and safe to convert to nanoseconds (292 years fit).
    if (total > 100LL * 365 * 86400)
      return InvalidArgumentError("duration too large: " + std::string(text));
    ++i;
  }
  return std::chrono::seconds(total);
}

std::string FormatDuration(std::chrono::seconds d) {
  int64_t s = d.count();
  if (s != 0 && s % 86400 == 0) return std::to_string(s / 86400) + "d";
  if (s != 0 && s % 3600 == 0) return std::to_string(s / 3600) + "h";
  if (s != 0 && s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

}  // namespace cte
