// Which requests the Kubernetes client repeats, and how it classifies a failed precondition.
#include "operator/kube/client.h"

#include <gtest/gtest.h>

#include <thread>

#include "tests/unit/kube/fake_api.h"

namespace cte::kube {
namespace {

using nlohmann::json;

const GroupVersionResource kEvents{"events.k8s.io", "v1", "events", true, "Event"};
const GroupVersionResource kThings{"test.example.com", "v1", "things", true, "Thing"};

class ClientRetryTest : public ::testing::Test {
 protected:
  ClientRetryTest() {
    KubeConfig config;
    config.server = "http://fake";
    client_ = std::make_unique<KubeClient>(config, api_, clock_, random_);
  }

  // Answers every request with `code` (and Retry-After when given), counting attempts.
  void AnswerAlways(int code, std::string retry_after = "", json body = {{"kind", "Status"}}) {
    api_.OnSend("/", [=, this](const http::ClientRequest&) {
      ++attempts_;
      http::ClientResponse r = testing::FakeApi::Answer(code, body);
      if (!retry_after.empty()) r.headers["Retry-After"] = retry_after;
      return r;
    });
  }

  // Runs the request on a thread and moves simulated time through the client's retry waits.
  StatusOr<json> Run(const KubeRequest& request) {
    std::atomic<bool> done{false};
    StatusOr<json> result = InternalError("not run");
    std::thread t([&] {
      result = client_->Do(request);
      done = true;
    });
    while (!done) {
      if (clock_.waiters() > 0) clock_.Advance(std::chrono::seconds(1));
      std::this_thread::yield();
    }
    t.join();
    return result;
  }

  SimulatedClock clock_;
  FixedRandom random_;
  testing::FakeApi api_{clock_};
  std::unique_ptr<KubeClient> client_;
  std::atomic<int> attempts_{0};
};

TEST_F(ClientRetryTest, APostIsNotRepeatedAfterAServerError) {
  AnswerAlways(500);
  auto r = Run(CreateRequest(kEvents, "ns", {{"kind", "Event"}}));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(attempts_, 1);  // a repeat could write a second Event
}

TEST_F(ClientRetryTest, APostIsRepeatedWhenThrottledWithRetryAfter) {
  AnswerAlways(429, "1");
  auto r = Run(CreateRequest(kEvents, "ns", {{"kind", "Event"}}));
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(attempts_, 6);  // the first try and five retries: the server did not process it
}

TEST_F(ClientRetryTest, AnUnguardedPatchIsNotRepeatedOnA503WithoutRetryAfter) {
  AnswerAlways(503);
  auto r = Run(PatchRequest(kThings, "ns", "a", PatchType::kMerge, {{"spec", {{"x", 1}}}}));
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(attempts_, 1);
}

TEST_F(ClientRetryTest, AGuardedPatchAndAGetAreRepeatedOnServerErrors) {
  AnswerAlways(500);
  json patch = json::array({{{"op", "test"}, {"path", "/metadata/finalizers"}, {"value", {"a"}}},
                            {{"op", "remove"}, {"path", "/metadata/finalizers/0"}}});
  EXPECT_FALSE(Run(PatchRequest(kThings, "ns", "a", PatchType::kJsonPatch, patch)).ok());
  EXPECT_EQ(attempts_, 6);
  attempts_ = 0;
  EXPECT_FALSE(Run(GetRequest(kThings, "ns", "a")).ok());
  EXPECT_EQ(attempts_, 6);
}

TEST_F(ClientRetryTest, AFailedPatchTestIsAConflictToRetryNotAnInvalidRequest) {
  AnswerAlways(422, "", {{"kind", "Status"}, {"reason", "Invalid"}, {"message", "test failed"}});
  json guarded = json::array({{{"op", "test"}, {"path", "/metadata/finalizers/0"}, {"value", "a"}},
                              {{"op", "remove"}, {"path", "/metadata/finalizers/0"}}});
  auto r = Run(PatchRequest(kThings, "ns", "a", PatchType::kJsonPatch, guarded));
  EXPECT_EQ(r.status().code(), StatusCode::kConflict);
  EXPECT_TRUE(r.status().IsRetryable());
  EXPECT_EQ(attempts_, 1);
  // Without a test operation a 422 is what it says: the request itself is invalid.
  json plain = json::array({{{"op", "add"}, {"path", "/spec/x"}, {"value", 1}}});
  auto invalid = Run(PatchRequest(kThings, "ns", "a", PatchType::kJsonPatch, plain));
  EXPECT_EQ(invalid.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ClientRetryTest, ADeeplyNestedAnswerIsAnErrorNotAStackOverflow) {
  // The depth limit refuses it: copying or dumping 100,000 levels recurses that deep.
  api_.OnSend("/", [](const http::ClientRequest&) {
    http::ClientResponse r;
    r.status = 200;
    r.body = std::string(100000, '[') + std::string(100000, ']');
    return r;
  });
  auto r = Run(GetRequest(kThings, "ns", "a"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nested more than"), std::string::npos)
      << r.status().message();
}

TEST(KubeRequestTest, IdempotenceFollowsTheMethodAndThePreconditions) {
  EXPECT_TRUE(GetRequest(kThings, "ns", "a").Idempotent());
  EXPECT_TRUE(UpdateRequest(kThings, "ns", "a", {{"metadata", {{"name", "a"}}}}).Idempotent());
  EXPECT_TRUE(DeleteRequest(kThings, "ns", "a").Idempotent());
  EXPECT_FALSE(CreateRequest(kThings, "ns", json::object()).Idempotent());
  EXPECT_FALSE(
      PatchRequest(kThings, "ns", "a", PatchType::kMerge, {{"spec", {{"x", 1}}}}).Idempotent());
  EXPECT_TRUE(PatchRequest(kThings, "ns", "a", PatchType::kMerge,
                           {{"metadata", {{"resourceVersion", "7"}}}, {"spec", {{"x", 1}}}})
                  .Idempotent());
  EXPECT_TRUE(
      UpdateRequest(kThings, "ns", "a", {{"metadata", {{"resourceVersion", "7"}}}}).guarded);
  EXPECT_FALSE(UpdateRequest(kThings, "ns", "a", {{"metadata", {{"name", "a"}}}}).guarded);
}

}  // namespace
}  // namespace cte::kube
