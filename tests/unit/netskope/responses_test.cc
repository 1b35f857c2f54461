#include "operator/netskope/responses.h"

#include <gtest/gtest.h>

#include "tests/unit/netskope/test_support.h"

namespace cte::netskope {
namespace {

using testing::Answer;

struct ClassifyCase {
  std::string name;
  Api api;
  int status;
  std::string body;
  http::Headers headers;
  StatusCode want;
  bool retryable;
};

class ClassifyTest : public ::testing::TestWithParam<ClassifyCase> {};

TEST_P(ClassifyTest, MapsStatusToAClassifiedError) {
  const ClassifyCase& c = GetParam();
  Status s = ClassifyHttpError(c.api, Answer(c.status, c.body, c.headers));
  EXPECT_EQ(s.code(), c.want) << s.ToString();
  EXPECT_EQ(s.IsRetryable(), c.retryable);
}

INSTANTIATE_TEST_SUITE_P(
    Codes, ClassifyTest,
    ::testing::Values(
        ClassifyCase{"BadRequest",
                     Api::kV2,
                     400,
                     R"({"statusCode":400,"message":["no"]})",
                     {},
                     StatusCode::kInvalidArgument,
                     false},
        ClassifyCase{"UnknownV2Token",
                     Api::kV2,
                     401,
                     R"({"status":"error","message":"x"})",
                     {},
                     StatusCode::kUnauthenticated,
                     false},
        ClassifyCase{"MissingV2Scope",
                     Api::kV2,
                     403,
                     R"({"status":"error","message":"x"})",
                     {},
                     StatusCode::kPermissionDenied,
                     false},
        ClassifyCase{"BadV1Token",
                     Api::kV1,
                     403,
                     R"({"status":"error","errorCode":"Authorization Error","errors":["x"]})",
                     {},
                     StatusCode::kUnauthenticated,
                     false},
        ClassifyCase{"NotFound", Api::kV2, 404, "{}", {}, StatusCode::kNotFound, false},
        ClassifyCase{"Throttled",
                     Api::kV2,
                     429,
                     R"({"message":"API rate limit exceeded"})",
                     {{"Retry-After", "3"}},
                     StatusCode::kResourceExhausted,
                     true},
        ClassifyCase{"ServerError", Api::kV2, 500, "", {}, StatusCode::kUnavailable, true},
        ClassifyCase{"Maintenance", Api::kV1, 503, "", {}, StatusCode::kUnavailable, true},
        ClassifyCase{
            "LoginRedirect", Api::kV1, 302, "", {}, StatusCode::kFailedPrecondition, false},
        ClassifyCase{"Unprocessable", Api::kV2, 422, "", {}, StatusCode::kInvalidArgument, false}),
    [](const ::testing::TestParamInfo<ClassifyCase>& p) { return p.param.name; });

TEST(ClassifyTest, ThrottledCarriesRetryAfterAndTheMessage) {
  Status s = ClassifyHttpError(
      Api::kV2, Answer(429, R"({"message":"API rate limit exceeded"})", {{"Retry-After", "7"}}));
  ASSERT_TRUE(s.retry_after_seconds().has_value());
  EXPECT_EQ(*s.retry_after_seconds(), 7);
  EXPECT_NE(s.message().find("API rate limit exceeded"), std::string::npos);
}

struct FileHashCase {
  std::string name;
  int status;
  std::string body;
  StatusCode want;
  bool unchanged;
};

class FileHashAnswerTest : public ::testing::TestWithParam<FileHashCase> {};

TEST_P(FileHashAnswerTest, ReadsTheV1Envelope) {
  const FileHashCase& c = GetParam();
  auto r = ParseFileHashListAnswer(Answer(c.status, c.body));
  EXPECT_EQ(r.status().code(), c.want) << r.status().ToString();
  if (r.ok()) {
    EXPECT_EQ(r->unchanged, c.unchanged);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Envelopes, FileHashAnswerTest,
    ::testing::Values(
        FileHashCase{"Success", 200,
                     R"({"status":"success","msg":"File Filter Profile updated successfully"})",
                     StatusCode::kOk, false},
        FileHashCase{"DuplicateIsSuccess", 200,
                     R"({"status":"error","errorCode":"General Error",)"
                     R"("errors":["Duplicate request, no change in file hashes"]})",
                     StatusCode::kOk, true},
        FileHashCase{"ErrorWithHttp200", 200,
                     R"({"status":"error","errorCode":"General Error",)"
                     R"("errors":["name not passed","list not passed"]})",
                     StatusCode::kInvalidArgument, false},
        FileHashCase{"UnknownList", 200,
                     R"({"status":"error","errorCode":"General Error",)"
                     R"("errors":["File hash list x does not exist"]})",
                     StatusCode::kNotFound, false},
        FileHashCase{"PendingChangeIsRetryable", 200,
                     R"({"status":"error","errorCode":"General Error",)"
                     R"("errors":["There is already a pending change for file hash list x"]})",
                     StatusCode::kUnavailable, false},
        FileHashCase{"BadTokenWith200", 200,
                     R"({"status":"error","errorCode":"Authorization Error",)"
                     R"("errors":["Invalid token"]})",
                     StatusCode::kUnauthenticated, false},
        FileHashCase{"BadTokenWith403", 403,
                     R"({"status":"error","errorCode":"Authorization Error",)"
                     R"("errors":["Invalid token"]})",
                     StatusCode::kUnauthenticated, false},
        FileHashCase{"NotAnEnvelope", 200, "<html>login</html>", StatusCode::kInternal, false},
        FileHashCase{"Maintenance", 503, "", StatusCode::kUnavailable, false}),
    [](const ::testing::TestParamInfo<FileHashCase>& p) { return p.param.name; });

TEST(UrlListParseTest, ReadsTheSingleObjectShape) {
  auto list = ParseUrlList(R"({"id":12,"name":"cte-malsites",
      "data":{"urls":["bad.example","*.evil.example"],"type":"regex","json_version":2},
      "modify_by":"svc-ce","modify_time":"2026-05-19T13:03:32.000Z","modify_type":"Edited",
      "pending":1})");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(list->id, 12);
  EXPECT_EQ(list->name, "cte-malsites");
  EXPECT_EQ(list->urls, (std::vector<std::string>{"bad.example", "*.evil.example"}));
  EXPECT_EQ(list->type, UrlListType::kRegex);
  EXPECT_TRUE(list->has_data);
  EXPECT_EQ(list->json_version, 2);
  EXPECT_EQ(list->modify_type, "Edited");
  EXPECT_EQ(list->modify_time, "2026-05-19T13:03:32.000Z");
  EXPECT_TRUE(list->pending);
}

TEST(UrlListParseTest, FieldSelectionLeavesDefaults) {
  auto lists = ParseUrlLists(R"([{"id":1,"name":"a"},{"id":2,"name":"b"}])");
  ASSERT_TRUE(lists.ok());
  ASSERT_EQ(lists->size(), 2u);
  EXPECT_FALSE((*lists)[0].has_data);
  EXPECT_EQ((*lists)[1].name, "b");
}

TEST(UrlListParseTest, CreateAnswersAOneElementArrayOrAnObject) {
  auto from_array = ParseCreatedUrlList(R"([{"id":5,"name":"x"}])");
  ASSERT_TRUE(from_array.ok());
  EXPECT_EQ(from_array->id, 5);
  auto from_object = ParseCreatedUrlList(R"({"id":6,"name":"x"})");
  ASSERT_TRUE(from_object.ok());
  EXPECT_EQ(from_object->id, 6);
  EXPECT_FALSE(ParseCreatedUrlList("[]").ok());
}

TEST(UrlListParseTest, WrongShapesAreErrorsNotExceptions) {
  EXPECT_FALSE(ParseUrlLists(R"({"id":1})").ok());
  EXPECT_FALSE(ParseUrlList("[1,2]").ok());
  EXPECT_FALSE(ParseUrlList("not json").ok());
  EXPECT_FALSE(ParseUrlList(R"({"id":true})").ok());
}

TEST(RejectedUrlsTest, ReadsUrlReasonPairsAndIgnoresPlainMessages) {
  EXPECT_EQ(ParseRejectedUrls(
                R"({"statusCode":400,"message":[["a b","spaces"],["x/*","wildcard"],["solo"]]})"),
            (std::vector<RejectedUrl>{{"a b", "spaces"}, {"x/*", "wildcard"}, {"solo", ""}}));
  EXPECT_TRUE(ParseRejectedUrls(R"({"statusCode":400,"message":["name is required"]})").empty());
  EXPECT_TRUE(ParseRejectedUrls(R"({"message":"x"})").empty());
  EXPECT_TRUE(ParseRejectedUrls("garbage").empty());
}

TEST(AlertPageTest, ReadsResultWaitTimeAndHighWaterMarkKeepingBigIdsExact) {
  auto page = ParseAlertPage(R"({"ok":1,"wait_time":5,"timestamp_hwm":1716200000,"result":[
      {"_id":"abc","timestamp":1716199999,"alert_type":"Malware","md5":"m","sha256":"s",
       "local_md5":"lm","malware_name":"Trojan","incident_id":3000000000000000123,
       "transaction_id":"42"},
      {"alert_type":"malsite","url":"http://x.example/","malsite_category":["Phishing","Spam"]}
  ]})");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->wait_time, 5);
  EXPECT_EQ(page->timestamp_hwm, 1716200000);
  ASSERT_EQ(page->alerts.size(), 2u);
  EXPECT_EQ(page->alerts[0].id, "abc");
  EXPECT_EQ(page->alerts[0].timestamp, 1716199999);
  EXPECT_EQ(page->alerts[0].incident_id, "3000000000000000123");
  EXPECT_EQ(page->alerts[0].transaction_id, "42");
  EXPECT_EQ(page->alerts[0].local_md5, "lm");
  EXPECT_EQ(page->alerts[1].url, "http://x.example/");
  EXPECT_EQ(page->alerts[1].malsite_category, (std::vector<std::string>{"Phishing", "Spam"}));
}

TEST(AlertPageTest, NotOkOrEmptyIsRetryable) {
  EXPECT_EQ(ParseAlertPage("").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(ParseAlertPage(R"({"ok":0,"message":"x"})").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(ParseAlertPage(R"({"ok":1,"result":[{"_id")").status().code(),
            StatusCode::kUnavailable);
  auto no_wait = ParseAlertPage(R"({"ok":1,"result":[]})");
  ASSERT_TRUE(no_wait.ok());
  EXPECT_FALSE(no_wait->wait_time.has_value());
}

TEST(V2BodyTest, StatusErrorWithHttp200IsAnError) {
  EXPECT_EQ(CheckV2Body(R"({"status":"error","message":"boom"})").code(), StatusCode::kInternal);
  EXPECT_TRUE(CheckV2Body(R"([{"id":1}])").ok());
  EXPECT_TRUE(CheckV2Body(R"({"id":1,"status":"ok"})").ok());
}

TEST(HeadersTest, ReadsRetryAfterAndRateLimitHeaders) {
  auto r = Answer(200, "",
                  {{"retry-after", "2"}, {"RateLimit-Remaining", "0"}, {"RATELIMIT-RESET", "1"}});
  EXPECT_EQ(RetryAfterSeconds(r), 2.0);
  EXPECT_EQ(RateLimitRemaining(r), 0);
  EXPECT_EQ(RateLimitResetSeconds(r), 1.0);
  EXPECT_FALSE(RetryAfterSeconds(Answer(429, "", {{"Retry-After", "Wed, 21 Oct 2015"}})));
  EXPECT_FALSE(RetryAfterSeconds(Answer(429, "")));
}

}  // namespace
}  // namespace cte::netskope
