#include "operator/core/time_format.h"

#include <gtest/gtest.h>

#include <ctime>
#include <random>

namespace cte {
namespace {

TEST(TimeFormatTest, KubernetesTimeMicroTimeAndMillis) {
  auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000)) +
           std::chrono::microseconds(123'456);
  EXPECT_EQ(FormatRfc3339(t), "2027-01-15T08:00:00Z");
  EXPECT_EQ(FormatRfc3339(t, TimePrecision::kMillis), "2027-01-15T08:00:00.123Z");
  EXPECT_EQ(FormatRfc3339(t, TimePrecision::kMicros), "2027-01-15T08:00:00.123456Z");
}

TEST(TimeFormatTest, ParsesTheIso8601FormsCloudExchangeAccepts) {
  using std::chrono::seconds;
  const auto base = std::chrono::system_clock::time_point(seconds(1'800'000'000));
  struct Case {
    const char* text;
    std::chrono::system_clock::time_point want;
  };
  const Case cases[] = {
      {"2027-01-15T08:00:00Z", base},
      {"2027-01-15T08:00:00", base},  // no zone: UTC, as CE stores naive datetimes
      {"2027-01-15 08:00:00", base},
      {"2027-01-15T08:00Z", base},
      {"2027-01-15T09:30:00+01:30", base},
      {"2027-01-15T03:00:00-0500", base},
      {"2027-01-15T08:00:00.123456789Z", base + std::chrono::microseconds(123'456)},
      {"2027-01-15T08:00:00,5Z", base + std::chrono::milliseconds(500)},
      {"2027-01-15", base - std::chrono::hours(8)},
      {"2028-02-29T00:00:00Z", std::chrono::system_clock::time_point(seconds(1'835'395'200))},
  };
  for (const auto& c : cases) {
    auto got = ParseIso8601(c.text);
    ASSERT_TRUE(got.ok()) << c.text << ": " << got.status().message();
    EXPECT_EQ(*got, c.want) << c.text;
  }
}

TEST(TimeFormatTest, RefusesMalformedDateTimesWithAReason) {
  for (const char* bad : {"", "yesterday", "2027-13-01", "2027-02-29", "2027-01-15T25:00:00Z",
                          "2027-01-15T08:00:00+25:00", "2027-01-15T08:00:00Zjunk", "2027-01-15T08",
                          "1969-12-31T23:59:59Z", "2027-01-15T08:00:00."}) {
    auto got = ParseIso8601(bad);
    ASSERT_FALSE(got.ok()) << bad;
    EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(got.status().message().find("ISO-8601"), std::string::npos);
  }
}

TEST(TimeFormatTest, FormatAndParseRoundTrip) {
  auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1'812'345'678)) +
           std::chrono::milliseconds(42);
  auto back = ParseIso8601(FormatRfc3339(t, TimePrecision::kMillis));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, t);
}

TEST(TimeFormatTest, ParsesWhatGoParsesAsRfc3339) {
  using std::chrono::system_clock;
  auto base = system_clock::time_point(std::chrono::seconds(1'800'000'000));
  struct Case {
    const char* text;
    system_clock::time_point want;
  };
  const Case cases[] = {
      {"2027-01-15T08:00:00Z", base},
      {"2027-01-15T08:00:00.123456Z", base + std::chrono::microseconds(123'456)},
      {"2027-01-15T08:00:00.5Z", base + std::chrono::milliseconds(500)},
      {"2027-01-15T09:30:00+01:30", base},  // what Python's isoformat() writes, offset form
      {"2027-01-15T03:00:00-05:00", base},
      {"2027-01-15t08:00:00z", base},
      {"2024-02-29T00:00:00Z", system_clock::time_point(std::chrono::seconds(1'709'164'800))},
  };
  for (const auto& c : cases) {
    auto got = ParseRfc3339(c.text);
    ASSERT_TRUE(got.has_value()) << c.text;
    EXPECT_EQ(*got, c.want) << c.text;
  }
  for (const char* bad : {"", "2027-01-15", "2027-01-15 08:00:00Z", "2027-01-15T08:00:00",
                          "2027-13-01T00:00:00Z", "2023-02-29T00:00:00Z", "2027-01-15T24:00:00Z",
                          "2027-01-15T08:00:00.Z", "2027-01-15T08:00:00.1234567890Z",
                          "2027-01-15T08:00:00+0100", "2027-01-15T08:00:00Zjunk"}) {
    EXPECT_FALSE(ParseRfc3339(bad).has_value()) << bad;
  }
  // A round trip keeps microseconds.
  auto t = base + std::chrono::microseconds(42);
  EXPECT_EQ(*ParseRfc3339(FormatRfc3339(t, TimePrecision::kMicros)), t);
}

}  // namespace
}  // namespace cte

namespace cte {
namespace {

// The hand-written formatter agrees with gmtime_r + strftime over three centuries, leap days and
// times before 1970 included.
TEST(TimeFormatTest, FormatterAgreesWithTheCLibrary) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 20000; ++i) {
    // 1906..2223: system_clock counts nanoseconds in 64 bits, which ends in 2262.
    const int64_t secs = static_cast<int64_t>(rng() % 10'000'000'000ULL) - 2'000'000'000LL;
    const int64_t micros = static_cast<int64_t>(rng() % 1'000'000);
    auto t = std::chrono::system_clock::time_point(std::chrono::seconds(secs) +
                                                   std::chrono::microseconds(micros));
    std::time_t tt = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char want[64];
    std::strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S", &tm);
    char frac[16];
    std::snprintf(frac, sizeof(frac), ".%06dZ", static_cast<int>(micros));
    ASSERT_EQ(FormatRfc3339(t, TimePrecision::kMicros), std::string(want) + frac) << secs;
  }
  EXPECT_EQ(FormatRfc3339(std::chrono::system_clock::time_point(std::chrono::seconds(951'782'400))),
            "2000-02-29T00:00:00Z");
}

}  // namespace
}  // namespace cte
