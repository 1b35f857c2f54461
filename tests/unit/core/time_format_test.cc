#include "operator/core/time_format.h"

#include <gtest/gtest.h>

namespace cte {
namespace {

TEST(TimeFormatTest, KubernetesTimeMicroTimeAndMillis) {
  auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000)) +
           std::chrono::microseconds(123'456);
  EXPECT_EQ(FormatRfc3339(t), "2027-01-15T08:00:00Z");
  EXPECT_EQ(FormatRfc3339(t, TimePrecision::kMillis), "2027-01-15T08:00:00.123Z");
  EXPECT_EQ(FormatRfc3339(t, TimePrecision::kMicros), "2027-01-15T08:00:00.123456Z");
}

}  // namespace
}  // namespace cte
