#include "operator/core/duration.h"

#include <gtest/gtest.h>

#include <regex>

namespace cte {
namespace {

TEST(DurationTest, ParsesEveryUnitAndSequences) {
  struct Case {
    const char* text;
    int64_t seconds;
  };
  const Case cases[] = {{"90s", 90},      {"10m", 600},    {"12h", 43200},
                        {"30d", 2592000}, {"1h30m", 5400}, {"0s", 0}};
  for (const auto& c : cases) {
    auto d = ParseDuration(c.text);
    ASSERT_TRUE(d.ok()) << c.text << ": " << d.status().ToString();
    EXPECT_EQ(d->count(), c.seconds) << c.text;
  }
}

TEST(DurationTest, RejectsMalformedWithReason) {
  for (const char* bad : {"", "10", "m", "10x", "1.5h", "-3s", "10 m"}) {
    auto d = ParseDuration(bad);
    ASSERT_FALSE(d.ok()) << bad;
    EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
    EXPECT_FALSE(d.status().message().empty());
  }
}

TEST(DurationTest, SchemaPatternAgreesWithParser) {
  std::regex pattern{std::string(kDurationPattern)};
  for (const char* s : {"90s", "10m", "1h30m", "30d", "10", "1.5h", "", "5w"}) {
    EXPECT_EQ(std::regex_match(s, pattern), ParseDuration(s).ok()) << s;
  }
}

TEST(DurationTest, FormatsLargestExactUnit) {
  EXPECT_EQ(FormatDuration(std::chrono::seconds(86400)), "1d");
  EXPECT_EQ(FormatDuration(std::chrono::seconds(7200)), "2h");
  EXPECT_EQ(FormatDuration(std::chrono::seconds(600)), "10m");
  EXPECT_EQ(FormatDuration(std::chrono::seconds(90)), "90s");
}

}  // namespace
}  // namespace cte
