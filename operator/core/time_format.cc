#include "operator/core/time_format.h"

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>

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

namespace {

// Reads exactly `n` digits at `pos`; -1 when they are not all there.
int Digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil), so no
// time zone database or TZ environment is involved.
int64_t DaysFromCivil(int y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool ValidDate(int year, int month, int day) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month >= 1 && month <= 12 && day >= 1 &&
         day <= kDays[month - 1] + (month == 2 && IsLeap(year) ? 1 : 0);
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view s) {
  if (s.size() < 20) return std::nullopt;
  int year = Digits(s, 0, 4), month = Digits(s, 5, 2), day = Digits(s, 8, 2);
  int hour = Digits(s, 11, 2), minute = Digits(s, 14, 2), second = Digits(s, 17, 2);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0 || s[4] != '-' ||
      s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' ||
      !ValidDate(year, month, day) || hour > 23 || minute > 59 || second > 59) {
    return std::nullopt;
  }
  size_t pos = 19;
  int64_t nanos = 0;
  if (s[pos] == '.') {
    size_t start = ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    size_t n = pos - start;
    if (n == 0 || n > 9) return std::nullopt;
    for (size_t i = start; i < pos; ++i) nanos = nanos * 10 + (s[i] - '0');
    for (size_t i = n; i < 9; ++i) nanos *= 10;
  }
  int offset_minutes = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    if (pos + 6 > s.size()) return std::nullopt;
    int oh = Digits(s, pos + 1, 2), om = Digits(s, pos + 4, 2);
    if (oh < 0 || om < 0 || s[pos + 3] != ':' || oh > 23 || om > 59) return std::nullopt;
    offset_minutes = (s[pos] == '-' ? -1 : 1) * (oh * 60 + om);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  int64_t secs = DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second -
                 offset_minutes * 60;
  auto since_epoch = std::chrono::seconds(secs) + std::chrono::nanoseconds(nanos);
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch));
}

StatusOr<std::chrono::system_clock::time_point> ParseIso8601(std::string_view s) {
  auto bad = [&](const char* why) {
    return InvalidArgumentError(std::string("not an ISO-8601 date-time (") + why + ")");
  };
  int year = Digits(s, 0, 4), month = Digits(s, 5, 2), day = Digits(s, 8, 2);
  if (year < 0 || month < 0 || day < 0 || s.size() < 10 || s[4] != '-' || s[7] != '-') {
    return bad("expected YYYY-MM-DD");
  }
  if (year < 1970 || !ValidDate(year, month, day)) return bad("date out of range");
  int hour = 0, minute = 0, second = 0;
  int64_t micros = 0;
  int64_t offset_minutes = 0;
  size_t pos = 10;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return bad("expected T after the date");
    hour = Digits(s, pos + 1, 2);
    minute = Digits(s, pos + 4, 2);
    if (hour < 0 || minute < 0 || pos + 3 >= s.size() || s[pos + 3] != ':') {
      return bad("expected HH:MM");
    }
    pos += 6;
    if (pos < s.size() && s[pos] == ':') {
      second = Digits(s, pos + 1, 2);
      if (second < 0) return bad("expected seconds");
      pos += 3;
      if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
        size_t start = ++pos;
        int64_t scale = 100000;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
          if (scale > 0) micros += (s[pos] - '0') * scale;
          scale /= 10;
          ++pos;
        }
        if (pos == start) return bad("empty fraction");
      }
    }
    if (hour > 23 || minute > 59 || second > 59) return bad("time out of range");
    if (pos < s.size()) {
      char z = s[pos];
      if ((z == 'Z' || z == 'z') && pos + 1 == s.size()) {
        pos = s.size();
      } else if (z == '+' || z == '-') {
        int oh = Digits(s, pos + 1, 2);
        size_t mpos = pos + 3;
        if (mpos < s.size() && s[mpos] == ':') ++mpos;
        int om = Digits(s, mpos, 2);
        if (oh < 0 || om < 0 || mpos + 2 != s.size() || oh > 23 || om > 59) {
          return bad("bad UTC offset");
        }
        offset_minutes = (z == '-' ? -1 : 1) * (oh * 60 + om);
        pos = s.size();
      } else {
        return bad("unexpected text after the time");
      }
    }
  }
  int64_t seconds = DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second -
                    offset_minutes * 60;
  return std::chrono::system_clock::time_point(std::chrono::seconds(seconds) +
                                               std::chrono::microseconds(micros));
}

}  // namespace cte
