#include "operator/netskope/netskope_client.h"

#include <gtest/gtest.h>

#include "operator/netskope/alert_iterator.h"
#include "tests/unit/netskope/test_support.h"

namespace cte::netskope {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Answer;
using testing::AutoAdvanceClock;
using testing::FakeTransport;
using testing::RecordingObserver;

constexpr const char* kV1Token = "v1-SECRET-token";
constexpr const char* kV2Token = "v2-SECRET-token";
constexpr const char* kListJson =
    R"({"id":7,"name":"cte","data":{"urls":["a.example"],"type":"exact","json_version":2},)"
    R"("modify_type":"Edited","pending":1})";

class NetskopeClientTest : public ::testing::Test {
 protected:
  NetskopeClientOptions Options() {
    NetskopeClientOptions o;
    o.tenant = "acme";
    o.base_url = "https://acme.goskope.com";
    o.v1_token = SecretString(kV1Token);
    o.v2_token = SecretString(kV2Token);
    return o;
  }
  std::unique_ptr<NetskopeClient> MakeClient(NetskopeClientOptions o) {
    return std::make_unique<NetskopeClient>(std::move(o), transport_, clock_, random_, limiter_,
                                            &observer_, Logger(sink_, LogLevel::kDebug));
  }
  NetskopeClient& client() {
    if (!client_) client_ = MakeClient(Options());
    return *client_;
  }
  std::vector<std::string> Codes() const {
    std::vector<std::string> out;
    for (const auto& c : observer_.requests()) out.push_back(c.code);
    return out;
  }
  Duration Gap(size_t i) const {
    auto t = transport_.times();
    return t.at(i) - t.at(i - 1);
  }

  AutoAdvanceClock clock_;
  FakeTransport transport_{clock_};
  FixedRandom random_{0.5};  // no jitter
  RecordingObserver observer_;
  std::shared_ptr<MemorySink> sink_ = std::make_shared<MemorySink>();
  std::shared_ptr<TenantRateLimiter> limiter_ =
      std::make_shared<TenantRateLimiter>(clock_, TenantRateLimits{});
  std::unique_ptr<NetskopeClient> client_;
};

TEST_F(NetskopeClientTest, ThrottledRequestWaitsRetryAfterThenSucceeds) {
  transport_.Push(Answer(429, R"({"message":"API rate limit exceeded"})", {{"Retry-After", "5"}}));
  transport_.Push(Answer(200, "[]"));
  auto lists = [&] { return client().ListUrlLists({}); }();
  ASSERT_TRUE(lists.ok()) << lists.status().ToString();
  ASSERT_EQ(transport_.sent().size(), 2u);
  EXPECT_GE(Gap(1), seconds(5));
  EXPECT_LT(Gap(1), seconds(6));
  EXPECT_EQ(Codes(), (std::vector<std::string>{"429", "200"}));
  EXPECT_EQ(observer_.throttled(), std::vector<std::string>{"acme"});
}

TEST_F(NetskopeClientTest, GivesUpWhenTheTenantAsksForALongerPauseThanAllowed) {
  transport_.Push(
      Answer(429, R"({"message":"API rate limit exceeded"})", {{"Retry-After", "600"}}));
  auto lists = [&] { return client().ListUrlLists({}); }();
  EXPECT_EQ(lists.status().code(), StatusCode::kResourceExhausted);
  ASSERT_TRUE(lists.status().retry_after_seconds().has_value());
  EXPECT_EQ(*lists.status().retry_after_seconds(), 600);
  EXPECT_EQ(transport_.sent().size(), 1u);
}

TEST_F(NetskopeClientTest, StillThrottledAfterEveryAttemptIsResourceExhausted) {
  for (int i = 0; i < 4; ++i) {
    transport_.Push(
        Answer(429, R"({"message":"API rate limit exceeded"})", {{"Retry-After", "1"}}));
  }
  auto lists = [&] { return client().ListUrlLists({}); }();
  EXPECT_EQ(lists.status().code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(lists.status().IsRetryable());
  EXPECT_EQ(transport_.sent().size(), 4u);
  EXPECT_EQ(observer_.throttled().size(), 4u);
}

TEST_F(NetskopeClientTest, ServerErrorsAreRetriedWithExponentialBackoff) {
  for (int i = 0; i < 4; ++i) transport_.Push(Answer(500, R"({"message":"boom"})"));
  auto lists = [&] { return client().ListUrlLists({}); }();
  EXPECT_EQ(lists.status().code(), StatusCode::kUnavailable);
  ASSERT_EQ(transport_.sent().size(), 4u);
  EXPECT_GE(Gap(1), seconds(1));
  EXPECT_GE(Gap(2), seconds(2));
  EXPECT_GE(Gap(3), seconds(4));
  EXPECT_LT(Gap(3), seconds(5));
}

TEST_F(NetskopeClientTest, TimeoutsAndTransportErrorsAreRetried) {
  transport_.Push(Status(StatusCode::kDeadlineExceeded, "request timed out"));
  transport_.Push(UnavailableError("connection reset"));
  transport_.Push(Answer(200, kListJson));
  auto list = [&] { return client().GetUrlList(7); }();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(list->id, 7);
  EXPECT_EQ(Codes(), (std::vector<std::string>{"timeout", "error", "200"}));
}

TEST_F(NetskopeClientTest, CreateIsNotRepeatedAfterAnAmbiguousFailure) {
  transport_.Push(Answer(502, ""));
  auto created = [&] {
    return client().CreateUrlList("cte", {"a.example"}, UrlListType::kExact);
  }();
  EXPECT_EQ(created.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(transport_.sent().size(), 1u);
}

TEST_F(NetskopeClientTest, CreateIsRetriedAfterA429) {
  transport_.Push(Answer(429, "{}", {{"Retry-After", "1"}}));
  transport_.Push(Answer(201, std::string("[") + kListJson + "]"));
  auto created = [&] {
    return client().CreateUrlList("cte", {"a.example"}, UrlListType::kExact);
  }();
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->list->id, 7);
  EXPECT_EQ(transport_.sent().size(), 2u);
}

TEST_F(NetskopeClientTest, TerminalErrorsReturnAtOnce) {
  transport_.Push(Answer(403, R"({"status":"error","message":"no scope"})"));
  auto lists = [&] { return client().ListUrlLists({}); }();
  EXPECT_EQ(lists.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(transport_.sent().size(), 1u);
}

TEST_F(NetskopeClientTest, StatusErrorInsideA200IsAnError) {
  transport_.Push(Answer(200, R"({"status":"error","message":"backend busy"})"));
  auto lists = [&] { return client().ListUrlLists({}); }();
  EXPECT_EQ(lists.status().code(), StatusCode::kInternal);
  EXPECT_NE(lists.status().message().find("backend busy"), std::string::npos);
}

TEST_F(NetskopeClientTest, InvalidUrlsAreDroppedReportedAndRetriedOnce) {
  transport_.Push(
      Answer(400, R"({"statusCode":400,"message":[["a b","spaces are not allowed"]]})"));
  transport_.Push(Answer(200, kListJson));
  auto result = [&] {
    return client().AppendUrls(7, {"ok.example", "a b", "x.example"}, UrlListType::kExact);
  }();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->rejected, (std::vector<RejectedUrl>{{"a b", "spaces are not allowed"}}));
  ASSERT_TRUE(result->list.has_value());
  auto sent = transport_.sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(json::parse(sent[1].body)["data"]["urls"], (json{"ok.example", "x.example"}));
  EXPECT_EQ(sent[1].url, "https://acme.goskope.com/api/v2/policy/urllist/7/append");
}

TEST_F(NetskopeClientTest, ASecondInvalidUrlAnswerIsAnError) {
  transport_.Push(Answer(400, R"({"statusCode":400,"message":[["a b","spaces"]]})"));
  transport_.Push(Answer(400, R"({"statusCode":400,"message":[["c d","spaces"]]})"));
  auto result = [&] {
    return client().ReplaceUrls(7, {"a b", "c d", "ok.example"}, UrlListType::kExact);
  }();
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(transport_.sent().size(), 2u);
}

TEST_F(NetskopeClientTest, WhenEveryEntryIsRejectedNothingMoreIsSent) {
  transport_.Push(Answer(400, R"({"statusCode":400,"message":[["a b","spaces"]]})"));
  auto result = [&] { return client().AppendUrls(7, {"a b"}, UrlListType::kExact); }();
  ASSERT_TRUE(result.ok());
  EXPECT_FALSE(result->list.has_value());
  EXPECT_EQ(result->rejected.size(), 1u);
  EXPECT_EQ(transport_.sent().size(), 1u);
}

TEST_F(NetskopeClientTest, AnOrdinary400IsNotMistakenForInvalidUrls) {
  transport_.Push(Answer(400, R"({"statusCode":400,"message":["name is required"]})"));
  auto result = [&] { return client().CreateUrlList("", {"a.example"}, UrlListType::kExact); }();
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("name is required"), std::string::npos);
  EXPECT_EQ(transport_.sent().size(), 1u);
}

TEST_F(NetskopeClientTest, DuplicateFileHashRequestIsSuccess) {
  transport_.Push(Answer(200, R"({"status":"error","errorCode":"General Error",)"
                              R"("errors":["Duplicate request, no change in file hashes"]})"));
  auto r = [&] { return client().UpdateFileHashList("h", {std::string(32, 'a')}); }();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->unchanged);
  auto sent = transport_.sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(json::parse(sent[0].body)["token"], kV1Token);
}

TEST_F(NetskopeClientTest, V1ErrorWithHttp200IsAnError) {
  transport_.Push(Answer(200, R"({"status":"error","errorCode":"General Error",)"
                              R"("errors":["Invalid hash: zz"]})"));
  auto r = [&] { return client().UpdateFileHashList("h", {"zz"}); }();
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(transport_.sent().size(), 1u);
}

TEST_F(NetskopeClientTest, IteratorNextIsRepeatedAsResendAfterAnAmbiguousFailure) {
  transport_.Push(Answer(503, ""));
  transport_.Push(
      Answer(200, R"({"ok":1,"result":[{"_id":"a"}],"wait_time":0,"timestamp_hwm":5})"));
  auto page = [&] {
    return client().IterateAlerts(AlertType::kMalware, "acme_malware", IteratorOperation::Next(),
                                  nullptr);
  }();
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->alerts.size(), 1u);
  auto sent = transport_.sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_NE(sent[0].url.find("operation=next"), std::string::npos);
  EXPECT_NE(sent[1].url.find("operation=resend"), std::string::npos);
  EXPECT_EQ(sent[1].timeout, std::chrono::seconds(120));
}

TEST_F(NetskopeClientTest, IteratorBrokenBodyIsFetchedAgainWithResend) {
  transport_.Push(Answer(200, R"({"ok":1,"result":[{"_id":)"));
  transport_.Push(Answer(200, R"({"ok":1,"result":[],"wait_time":5,"timestamp_hwm":5})"));
  auto page = [&] {
    return client().IterateAlerts(AlertType::kMalsite, "i", IteratorOperation::Next(), nullptr);
  }();
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(transport_.sent().size(), 2u);
  EXPECT_NE(transport_.sent()[1].url.find("operation=resend"), std::string::npos);
}

TEST_F(NetskopeClientTest, IteratorEpochIsRepeatedAsIs) {
  transport_.Push(Answer(500, ""));
  transport_.Push(Answer(200, R"({"ok":1,"result":[]})"));
  auto page = [&] {
    return client().IterateAlerts(AlertType::kMalware, "i", IteratorOperation::Epoch(1700000000),
                                  nullptr);
  }();
  ASSERT_TRUE(page.ok());
  EXPECT_NE(transport_.sent()[1].url.find("operation=1700000000"), std::string::npos);
}

TEST_F(NetskopeClientTest, ASpentBudgetHeaderPausesTheNextRequest) {
  transport_.Push(
      Answer(200, "[]",
             {{"RateLimit-Limit", "4"}, {"RateLimit-Remaining", "0"}, {"RateLimit-Reset", "2"}}));
  transport_.Push(Answer(200, "[]"));
  [&] {
    EXPECT_TRUE(client().ListUrlLists({}).ok());
    return client().ListUrlLists({});
  }();
  ASSERT_EQ(transport_.sent().size(), 2u);
  EXPECT_GE(Gap(1), seconds(2));
}

TEST_F(NetskopeClientTest, AnIteratorBudgetHeaderPausesOnlyThatIteratorEndpoint) {
  transport_.Push(Answer(200, R"({"ok":1,"result":[]})",
                         {{"RateLimit-Remaining", "0"}, {"RateLimit-Reset", "1"}}));
  ASSERT_TRUE(
      client().IterateAlerts(AlertType::kMalware, "i", IteratorOperation::Head(), nullptr).ok());
  EXPECT_EQ(limiter_->WaitTime({Bucket::kIteratorMalware}), seconds(1));
  EXPECT_EQ(limiter_->WaitTime({Bucket::kIteratorMalsite}), Duration::zero());
  EXPECT_EQ(limiter_->WaitTime({Bucket::kV2}), Duration::zero());
}

TEST_F(NetskopeClientTest, ObserverSeesEveryAttemptWithItsEndpointLabel) {
  transport_.Push(Answer(200, "[]"));
  transport_.Push(Answer(500, ""));
  transport_.Push(Answer(200, "[]"));
  transport_.Push(Answer(200, R"({"status":"success","msg":"ok"})"));
  [&] {
    EXPECT_TRUE(client().ListUrlLists({}).ok());
    EXPECT_TRUE(client().DeployUrlLists().ok());
    return client().UpdateFileHashList("h", {std::string(32, 'a')});
  }();
  auto calls = observer_.requests();
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[0].endpoint, "urllist_list");
  EXPECT_EQ(calls[1].endpoint, "urllist_deploy");
  EXPECT_EQ(calls[1].code, "500");
  EXPECT_EQ(calls[2].endpoint, "urllist_deploy");
  EXPECT_EQ(calls[3].endpoint, "filehashlist_update");
  for (const auto& c : calls) EXPECT_EQ(c.tenant, "acme");
}

TEST_F(NetskopeClientTest, TokensNeverReachLogsOrErrorMessages) {
  // A tenant that echoes the token back in an error must not get it into our Status or logs.
  transport_.Push(Answer(401, std::string(R"({"message":"bad token )") + kV2Token + "\"}"));
  transport_.Push(Answer(500, ""));
  transport_.Push(
      Answer(200, std::string(R"({"status":"error","errorCode":"Authorization Error",)") +
                      R"("errors":["Invalid token )" + kV1Token + "\"]}"));
  auto lists = [&] { return client().ListUrlLists({}); }();
  EXPECT_EQ(lists.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(lists.status().message().find(kV2Token), std::string::npos);
  EXPECT_NE(lists.status().message().find("[redacted]"), std::string::npos);
  auto hashes = [&] { return client().UpdateFileHashList("h", {std::string(32, 'a')}); }();
  EXPECT_EQ(hashes.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(hashes.status().message().find(kV1Token), std::string::npos);
  std::string logs = sink_->All();
  EXPECT_FALSE(logs.empty());
  EXPECT_EQ(logs.find(kV1Token), std::string::npos) << logs;
  EXPECT_EQ(logs.find(kV2Token), std::string::npos) << logs;
}

TEST_F(NetskopeClientTest, MissingTokenFailsWithoutSending) {
  NetskopeClientOptions o = Options();
  o.v2_token = SecretString();
  client_ = MakeClient(o);
  auto lists = client().ListUrlLists({});
  EXPECT_EQ(lists.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(transport_.sent().empty());
}

TEST(NetskopeClientShutdownTest, ShutdownReleasesACallWaitingForItsBudget) {
  SimulatedClock clock;
  FakeTransport transport(clock);
  FixedRandom random;
  NetskopeClientOptions o;
  o.tenant = "acme";
  o.base_url = "https://acme";
  o.v2_token = SecretString("t");
  NetskopeClient client(o, transport, clock, random, nullptr);
  transport.Push(Answer(429, "{}", {{"Retry-After", "100"}}));
  std::thread caller([&] {
    auto lists = client.ListUrlLists({});
    EXPECT_EQ(lists.status().code(), StatusCode::kUnavailable);
  });
  while (clock.waiters() == 0) std::this_thread::yield();
  client.Shutdown();
  caller.join();
  EXPECT_EQ(transport.sent().size(), 1u);
}

TEST_F(NetskopeClientTest, FindUrlListByNameSkipsListsPendingDeletion) {
  transport_.Push(Answer(200, R"([{"id":1,"name":"cte","modify_type":"Deleted","pending":1},
                                  {"id":2,"name":"other"},{"id":3,"name":"cte","pending":0}])"));
  auto found = [&] { return FindUrlListByName(client(), "cte"); }();
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->id, 3);
  EXPECT_NE(transport_.sent()[0].url.find("field=id%2Cname%2Cmodify_type%2Cpending"),
            std::string::npos);
}

TEST(AlertIteratorTest, WaitsTheWaitTimeTheTenantAskedForBeforeTheNextCall) {
  AutoAdvanceClock clock;
  FakeTransport transport(clock);
  FixedRandom random;
  NetskopeClientOptions o;
  o.tenant = "acme";
  o.base_url = "https://acme";
  o.v2_token = SecretString("t");
  NetskopeClient client(o, transport, clock, random, nullptr);
  transport.Push(Answer(200, R"({"ok":1,"result":[],"wait_time":5,"timestamp_hwm":1})"));
  transport.Push(Answer(200, R"({"ok":1,"result":[]})"));  // no wait_time: 30 s
  transport.Push(Answer(200, R"({"ok":1,"result":[],"wait_time":0})"));
  AlertIterator it(client, clock, AlertType::kMalware,
                   IteratorIndexName("Acme Tenant", AlertType::kMalware));
  EXPECT_EQ(it.index(), "AcmeTenant_malware");
  [&] {
    EXPECT_TRUE(it.Fetch(IteratorOperation::Epoch(1)).ok());
    EXPECT_TRUE(it.Next().ok());
    return it.Next();
  }();
  auto t = transport.times();
  ASSERT_EQ(t.size(), 3u);
  EXPECT_GE(t[1] - t[0], seconds(5));
  EXPECT_LT(t[1] - t[0], seconds(6));
  EXPECT_GE(t[2] - t[1], seconds(30));
}

}  // namespace
}  // namespace cte::netskope
