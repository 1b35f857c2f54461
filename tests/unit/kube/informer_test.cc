// The informer against the fake API on a simulated clock: failure handling that a real server
// rarely shows on demand (watches that close at once, watches that always fail, lists served from
// an older snapshot), resync and metadata-only caching.
#include "operator/kube/informer.h"

#include <gtest/gtest.h>

#include <thread>

#include "tests/unit/kube/fake_api.h"

namespace cte::kube {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

const GroupVersionResource kThings{"test.example.com", "v1", "things", true, "Thing"};

bool WaitUntil(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return done();
}

json Thing(const std::string& name, const std::string& rv, json extra = json::object()) {
  json o = {{"apiVersion", "test.example.com/v1"},
            {"kind", "Thing"},
            {"metadata", {{"name", name}, {"namespace", "ns"}, {"resourceVersion", rv}}}};
  o.update(extra);
  return o;
}

std::string Line(const std::string& type, const json& object) {
  return json{{"type", type}, {"object", object}}.dump() + "\n";
}

class CountingHandler : public EventHandler {
 public:
  void OnAdd(const ObjectPtr&, bool) override { ++adds; }
  void OnUpdate(const ObjectPtr&, const ObjectPtr&, bool) override { ++updates; }
  void OnDelete(const ObjectPtr&) override { ++deletes; }
  void OnResync(const ObjectPtr&) override { ++resyncs; }
  std::atomic<int> adds{0}, updates{0}, deletes{0}, resyncs{0};
};

class InformerTest : public ::testing::Test {
 protected:
  InformerTest() {
    KubeConfig config;
    config.server = "http://fake";
    client_ = std::make_unique<KubeClient>(config, api_, clock_, random_);
    api_.OnSend("/things", [this](const http::ClientRequest& r) {
      std::lock_guard<std::mutex> lock(mu_);
      last_accept_ = r.headers.at("Accept");
      return testing::FakeApi::Answer(200, {{"kind", "ThingList"},
                                            {"metadata", {{"resourceVersion", list_rv_}}},
                                            {"items", list_items_}});
    });
  }
  ~InformerTest() override {
    if (informer_) informer_->Stop();
  }

  void Start(InformerOptions options = {}) {
    informer_ = std::make_unique<Informer>(*client_, kThings, clock_, random_, NullLogger(),
                                           options);
    informer_->AddHandler(&handler_);
    informer_->Start();
  }
  // The informer thread is parked on the clock with nothing due: it cannot act until time moves.
  bool Parked() { return clock_.waiters() >= 1 && clock_.due_waiters() == 0; }
  void Step(Duration d = milliseconds(100)) {
    ASSERT_TRUE(WaitUntil([&] { return Parked(); }));
    clock_.Advance(d);
    ASSERT_TRUE(WaitUntil([&] { return Parked(); }));
  }
  void SetList(json items, std::string rv) {
    std::lock_guard<std::mutex> lock(mu_);
    list_items_ = std::move(items);
    list_rv_ = std::move(rv);
  }

  SimulatedClock clock_;
  FixedRandom random_;
  testing::FakeApi api_{clock_};
  std::unique_ptr<KubeClient> client_;
  std::unique_ptr<Informer> informer_;
  CountingHandler handler_;
  std::mutex mu_;
  json list_items_ = json::array();
  std::string list_rv_ = "1";
  std::string last_accept_;
};

TEST_F(InformerTest, AWatchThatClosesAtOnceIsAFailureAndBacksOff) {
  std::atomic<int> watches{0};
  api_.OnStream([&](const http::ClientRequest&, http::CancelToken&, const auto& on_head,
                    const auto&) {
    ++watches;
    on_head({200, {}, ""});
    return Status::Ok();  // closed at once, not one event
  });
  Start();
  ASSERT_TRUE(WaitUntil([&] { return informer_->HasSynced(); }));
  // The informer must park on the clock (backing off) instead of spinning through watches.
  ASSERT_TRUE(WaitUntil([&] { return Parked() && watches >= 1; }));
  const int before = watches;
  EXPECT_GE(informer_->watch_failures(), 1);
  EXPECT_EQ(watches, before);  // nothing happens while time stands still
  for (int i = 0; i < 10; ++i) Step(milliseconds(500));
  // 5 s of backoff starting at 0.8 s and doubling: a handful of attempts, not thousands.
  EXPECT_LE(watches, before + 4);
}

TEST_F(InformerTest, StaleWhenEveryWatchAttemptFailsForLongerThanTheWatchdog) {
  std::atomic<bool> healthy{false};
  api_.OnStream([&](const http::ClientRequest&, http::CancelToken& cancel, const auto& on_head,
                    const auto& on_data) {
    if (!healthy) {
      on_head({500, {}, ""});
      on_data(R"({"kind":"Status","code":500})");
      return Status::Ok();
    }
    on_head({200, {}, ""});
    on_data(Line("BOOKMARK", Thing("", "50")));
    cancel.OnCancel([this] { clock_.Notify(); });
    clock_.WaitFor(std::chrono::hours(1), [&] { return cancel.cancelled(); });
    return Status::Ok();
  });
  InformerOptions o;
  o.watchdog = seconds(30);
  Start(o);
  ASSERT_TRUE(WaitUntil([&] { return informer_->HasSynced(); }));
  EXPECT_FALSE(informer_->IsStale());
  while (clock_.Now() - MonoTime(std::chrono::hours(1)) < seconds(25)) Step(milliseconds(500));
  EXPECT_FALSE(informer_->IsStale());  // failing, but not for a watchdog period yet
  while (clock_.Now() - MonoTime(std::chrono::hours(1)) < seconds(31)) Step(milliseconds(500));
  EXPECT_TRUE(informer_->IsStale());
  EXPECT_GE(informer_->watch_failures(), 3);
  healthy = true;
  for (int i = 0; i < 60 && informer_->IsStale(); ++i) Step(milliseconds(500));
  EXPECT_FALSE(informer_->IsStale());
}

TEST_F(InformerTest, ARelistNeverMovesAnObjectBackwards) {
  SetList(json::array({Thing("a", "5")}), "5");
  std::atomic<int> watches{0};
  api_.OnStream([&](const http::ClientRequest&, http::CancelToken& cancel, const auto& on_head,
                    const auto& on_data) {
    on_head({200, {}, ""});
    if (++watches == 1) {
      on_data(Line("MODIFIED", Thing("a", "10", {{"spec", {{"v", "new"}}}})));
      // History compacted: the next watch must relist.
      on_data(Line("ERROR", {{"kind", "Status"}, {"code", 410}}));
      return Status::Ok();
    }
    cancel.OnCancel([this] { clock_.Notify(); });
    clock_.WaitFor(std::chrono::hours(1), [&] { return cancel.cancelled(); });
    return Status::Ok();
  });
  Start();
  // The relist is served from an older snapshot that still has version 5.
  ASSERT_TRUE(WaitUntil([&] { return informer_->lists() == 2 && watches == 2; }));
  ObjectPtr a = informer_->cache().Get("ns/a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ((*a)["metadata"]["resourceVersion"], "10");
  EXPECT_EQ((*a)["spec"]["v"], "new");
}

TEST_F(InformerTest, ResyncReplaysEveryCachedObject) {
  SetList(json::array({Thing("a", "5"), Thing("b", "6")}), "6");
  InformerOptions o;
  o.resync_period = std::chrono::hours(10);
  o.watchdog = std::chrono::hours(100);
  Start(o);
  ASSERT_TRUE(WaitUntil([&] { return informer_->HasSynced() && Parked(); }));
  clock_.Advance(std::chrono::hours(8));
  EXPECT_EQ(handler_.resyncs, 0);
  clock_.Advance(std::chrono::hours(3));  // 10 h +- 10% have passed
  EXPECT_EQ(handler_.resyncs, 2);
  EXPECT_EQ(handler_.updates, 0);  // a resync is not an update
  clock_.Advance(std::chrono::hours(11));
  EXPECT_EQ(handler_.resyncs, 4);
}

TEST_F(InformerTest, AMetadataOnlyInformerAsksForAndKeepsOnlyMetadata) {
  // A server that ignores the PartialObjectMetadata request still must not fill the cache.
  SetList(json::array({Thing("s", "5", {{"data", {{"token", "c2VjcmV0"}}}})}), "5");
  InformerOptions o;
  o.metadata_only = true;
  Start(o);
  ASSERT_TRUE(WaitUntil([&] { return informer_->HasSynced(); }));
  ObjectPtr s = informer_->cache().Get("ns/s");
  ASSERT_NE(s, nullptr);
  EXPECT_FALSE(s->contains("data"));
  EXPECT_EQ((*s)["metadata"]["name"], "s");
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_NE(last_accept_.find("as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"),
            std::string::npos)
      << last_accept_;
}

}  // namespace
}  // namespace cte::kube
