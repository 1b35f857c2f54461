// Which condition transitions become Events, and of which type.
#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "operator/kube/object_helpers.h"
#include "tests/unit/kube/fake_api.h"

namespace cte::kube {
namespace {

using nlohmann::json;

class EventRecorderTest : public ::testing::Test {
 protected:
  EventRecorderTest() {
    KubeConfig config;
    config.server = "http://fake";
    client_ = std::make_unique<KubeClient>(config, api_, clock_, random_);
    api_.OnSend("/apis/events.k8s.io/", [this](const http::ClientRequest& req) {
      std::lock_guard<std::mutex> lock(mu_);
      events_.push_back(json::parse(req.body));
      return testing::FakeApi::Answer(201, events_.back());
    });
  }

  // The Event types written for a status that goes from `before` to what `set` makes of it.
  std::vector<std::string> TypesFor(const json& before,
                                    const std::function<void(StatusUpdate&)>& set) {
    json object = {
        {"apiVersion", "test.example.com/v1"},
        {"kind", "Thing"},
        {"metadata", {{"name", "a"}, {"namespace", "ns"}, {"uid", "u1"}, {"generation", 1}}},
        {"status", before}};
    StatusUpdate update(object, clock_.WallNow());
    set(update);
    EventRecorder recorder(*client_, clock_, NullLogger(), "test", "test-1");
    recorder.RecordTransitions(object, update);
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> types;
    for (const auto& e : events_) types.push_back(e.value("type", ""));
    events_.clear();
    return types;
  }

  SimulatedClock clock_;
  FixedRandom random_;
  testing::FakeApi api_{clock_};
  std::unique_ptr<KubeClient> client_;
  std::mutex mu_;
  std::vector<json> events_;
};

TEST_F(EventRecorderTest, NotReadyWhileReconcilingIsNormalAndAFailureIsAWarning) {
  const json ready = {
      {"conditions", json::array({{{"type", "Ready"},
                                   {"status", "True"},
                                   {"reason", "Synced"},
                                   {"message", ""},
                                   {"lastTransitionTime", "2026-01-01T00:00:00Z"}}})}};
  auto progressing = [](StatusUpdate& u) {
    u.SetCondition({"Ready", "False", "SyncPending", "waiting"});
    u.SetCondition({"Reconciling", "True", "SyncPending", "waiting"});
  };
  EXPECT_EQ(TypesFor(ready, progressing), std::vector<std::string>{"Normal"});
  auto failing = [](StatusUpdate& u) {
    u.SetCondition({"Ready", "False", "SyncFailed", "tenant answered 500"});
    u.SetCondition({"Reconciling", "False", "Idle", ""});
  };
  EXPECT_EQ(TypesFor(ready, failing), std::vector<std::string>{"Warning"});
  auto unchanged = [](StatusUpdate& u) { u.SetCondition({"Ready", "True", "Synced", ""}); };
  EXPECT_TRUE(TypesFor(ready, unchanged).empty());  // no transition, no Event
}

}  // namespace
}  // namespace cte::kube
