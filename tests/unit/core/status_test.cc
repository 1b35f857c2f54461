#include "operator/core/status.h"

#include <gtest/gtest.h>

namespace cte {
namespace {

TEST(StatusTest, OnlyTransientCodesAreRetryable) {
  struct Case {
    StatusCode code;
    bool retryable;
  };
  const Case cases[] = {
      {StatusCode::kConflict, true},          {StatusCode::kUnavailable, true},
      {StatusCode::kResourceExhausted, true}, {StatusCode::kGone, true},
      {StatusCode::kDeadlineExceeded, true},  {StatusCode::kInvalidArgument, false},
      {StatusCode::kNotFound, false},         {StatusCode::kUnauthenticated, false},
      {StatusCode::kPermissionDenied, false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Status(c.code, "x").IsRetryable(), c.retryable) << StatusCodeName(c.code);
  }
}

TEST(StatusTest, StatusOrCarriesValueOrError) {
  StatusOr<int> v = 42;
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 42);
  StatusOr<int> e = NotFoundError("no such thing");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().ToString(), "NotFound: no such thing");
}

TEST(StatusTest, RetryAfterIsKept) {
  Status s = Status(StatusCode::kResourceExhausted, "slow down").WithRetryAfter(3);
  ASSERT_TRUE(s.retry_after_seconds().has_value());
  EXPECT_EQ(*s.retry_after_seconds(), 3);
}

}  // namespace
}  // namespace cte
