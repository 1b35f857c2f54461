#include "operator/kube/errors.h"

#include <gtest/gtest.h>

namespace cte::kube {
namespace {

TEST(ErrorsTest, HttpStatusAndReasonDecideTheClass) {
  struct Case {
    int status;
    const char* body;
    StatusCode code;
    bool retryable;
  };
  const Case cases[] = {
      {404, R"({"kind":"Status","reason":"NotFound","message":"x not found"})",
       StatusCode::kNotFound, false},
      {409, R"({"reason":"Conflict","message":"modified"})", StatusCode::kConflict, true},
      {409, R"({"reason":"AlreadyExists","message":"exists"})", StatusCode::kAlreadyExists, false},
      {410, R"({"reason":"Expired","message":"too old"})", StatusCode::kGone, true},
      {429, R"({"reason":"TooManyRequests"})", StatusCode::kResourceExhausted, true},
      {401, "{}", StatusCode::kUnauthenticated, false},
      {403, "{}", StatusCode::kPermissionDenied, false},
      {422, R"({"reason":"Invalid"})", StatusCode::kInvalidArgument, false},
      {400, R"({"reason":"BadRequest"})", StatusCode::kInvalidArgument, false},
      {500, "oops", StatusCode::kInternal, true},
      {503, "", StatusCode::kUnavailable, true},
      {504, "", StatusCode::kDeadlineExceeded, true},
  };
  for (const auto& c : cases) {
    Status s = StatusFromResponse(c.status, c.body, "");
    EXPECT_EQ(s.code(), c.code) << c.status << " " << c.body;
    EXPECT_EQ(s.IsRetryable(), c.retryable) << c.status;
  }
}

TEST(ErrorsTest, MessageComesFromTheStatusBody) {
  Status s = StatusFromResponse(404, R"({"message":"secrets \"a\" not found"})", "");
  EXPECT_EQ(s.message(), "secrets \"a\" not found");
}

TEST(ErrorsTest, RetryAfterFromHeaderOrDetails) {
  EXPECT_EQ(*StatusFromResponse(429, "{}", "3").retry_after_seconds(), 3);
  EXPECT_EQ(
      *StatusFromResponse(429, R"({"details":{"retryAfterSeconds":5}})", "").retry_after_seconds(),
      5);
  EXPECT_FALSE(StatusFromResponse(429, "{}", "").retry_after_seconds().has_value());
  EXPECT_FALSE(ParseRetryAfter("soon").has_value());
}

}  // namespace
}  // namespace cte::kube
