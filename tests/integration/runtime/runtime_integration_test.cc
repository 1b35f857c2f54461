// The runtime against the local API server in-process, with its fault injection: watches that are
// dropped, silenced or compacted, conflicts and throttling.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "hack/local-apiserver/api_server.h"
#include "operator/core/json_util.h"
#include "operator/http/socket_transport.h"
#include "operator/kube/client.h"
#include "operator/kube/controller.h"
#include "operator/kube/informer.h"
#include "operator/kube/object_helpers.h"

namespace cte::kube {
namespace {

using nlohmann::json;

const GroupVersionResource kWidgets{"test.cte.netskope.io", "v1", "widgets", true, "Widget"};
const GroupVersionResource kCrds{"apiextensions.k8s.io", "v1", "customresourcedefinitions", false,
                                 "CustomResourceDefinition"};

bool WaitUntil(const std::function<bool()>& done, Duration timeout = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

class RecordingHandler : public EventHandler {
 public:
  void OnAdd(const ObjectPtr& o, bool) override { Count("add:" + ObjectKey(*o)); }
  void OnUpdate(const ObjectPtr&, const ObjectPtr& o, bool) override {
    Count("update:" + ObjectKey(*o));
  }
  void OnDelete(const ObjectPtr& o) override { Count("delete:" + ObjectKey(*o)); }
  int Get(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu_);
    return counts_[what];
  }

 private:
  void Count(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_[what];
  }
  std::mutex mu_;
  std::map<std::string, int> counts_;
};

class RuntimeIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    apiserver::ApiServerOptions o;
    o.bookmark_interval = std::chrono::milliseconds(200);
    server_ = std::make_unique<apiserver::ApiServer>(o);
    ASSERT_TRUE(server_->Start("127.0.0.1", 0).ok());
    KubeConfig config;
    config.server = server_->url();
    client_ = std::make_unique<KubeClient>(config, *transport_, clock_, random_);
    auto crd = ReadFile(std::string(CTE_SOURCE_DIR) +
                        "/tests/integration/runtime/testdata/widget-crd.yaml");
    ASSERT_TRUE(crd.ok());
    auto docs = ParseYamlDocuments(*crd);
    ASSERT_TRUE(docs.ok());
    ASSERT_TRUE(client_->Do(CreateRequest(kCrds, "", (*docs)[0])).ok());
  }
  void TearDown() override {
    if (informer_) informer_->Stop();
    server_->Stop();
  }

  json CreateWidget(const std::string& name) {
    json w = {{"apiVersion", "test.cte.netskope.io/v1"},
              {"kind", "Widget"},
              {"metadata", {{"name", name}, {"namespace", "default"}}},
              {"spec", {{"size", 1}}}};
    auto created = client_->Do(CreateRequest(kWidgets, "default", w));
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? *created : json();
  }

  void Fault(const json& body) {
    http::ClientRequest req;
    req.method = "POST";
    req.url = server_->url() + "/__local/faults";
    req.headers["Content-Type"] = "application/json";
    req.body = body.dump();
    auto resp = transport_->Send(req);
    ASSERT_TRUE(resp.ok());
    ASSERT_EQ(resp->status, 200) << resp->body;
  }

  int Requests(const std::string& method_and_path) {
    auto resp = transport_->Send(
        {"GET", server_->url() + "/__local/requests", {}, "", std::chrono::seconds(5)});
    auto counts = json::parse(resp->body);
    return counts.value(method_and_path, 0);
  }

  void StartInformer(Duration watchdog = std::chrono::seconds(90)) {
    InformerOptions o;
    o.watchdog = watchdog;
    o.backoff = {std::chrono::milliseconds(50), std::chrono::milliseconds(200), 2.0, 0.2};
    informer_ = std::make_unique<Informer>(*client_, kWidgets, clock_, random_, NullLogger(), o);
    informer_->AddHandler(&handler_);
    informer_->Start();
    ASSERT_TRUE(informer_->WaitForSync(std::chrono::seconds(10)));
  }

  RealClock clock_;
  RealRandom random_;
  std::unique_ptr<http::HttpTransport> transport_ = http::NewSocketTransport();
  std::unique_ptr<apiserver::ApiServer> server_;
  std::unique_ptr<KubeClient> client_;
  std::unique_ptr<Informer> informer_;
  RecordingHandler handler_;
};

TEST_F(RuntimeIntegrationTest, PagedListFillsTheCache) {
  for (int i = 0; i < 7; ++i) CreateWidget("w" + std::to_string(i));
  InformerOptions o;
  o.page_size = 3;
  informer_ = std::make_unique<Informer>(*client_, kWidgets, clock_, random_, NullLogger(), o);
  informer_->AddHandler(&handler_);
  informer_->Start();
  ASSERT_TRUE(informer_->WaitForSync(std::chrono::seconds(10)));
  EXPECT_EQ(informer_->cache().Size(), 7u);
  EXPECT_EQ(handler_.Get("add:default/w6"), 1);
  EXPECT_GE(Requests("GET /apis/test.cte.netskope.io/v1/widgets"), 3);  // three pages
  // managedFields are not kept in the cache.
  EXPECT_FALSE(
      informer_->cache().Get("default/w0")->contains("/metadata/managedFields"_json_pointer));
}

TEST_F(RuntimeIntegrationTest, DroppedWatchResumesFromItsResourceVersionWithoutRelist) {
  CreateWidget("before");
  StartInformer();
  // The watch is open once its first bookmark arrived.
  ASSERT_TRUE(WaitUntil([&] { return informer_->watch_events() > 0; }));
  Fault({{"action", "closeWatches"}});
  CreateWidget("after");
  ASSERT_TRUE(WaitUntil([&] { return informer_->cache().Get("default/after") != nullptr; }));
  EXPECT_EQ(informer_->lists(), 1);
  EXPECT_GE(informer_->watch_starts(), 2);
  EXPECT_EQ(handler_.Get("add:default/after"), 1);
  EXPECT_EQ(handler_.Get("add:default/before"), 1);  // not re-delivered
}

TEST_F(RuntimeIntegrationTest, SilencedWatchIsRestartedByTheWatchdog) {
  StartInformer(std::chrono::seconds(1));
  // Bookmarks (every 200 ms) keep a healthy watch alive past the 1 s watchdog.
  ASSERT_TRUE(WaitUntil([&] { return informer_->watch_events() >= 6; }));
  EXPECT_EQ(informer_->watchdog_restarts(), 0);
  Fault({{"action", "silenceWatches"}});
  CreateWidget("during-silence");
  ASSERT_TRUE(
      WaitUntil([&] { return informer_->cache().Get("default/during-silence") != nullptr; }));
  EXPECT_GE(informer_->watchdog_restarts(), 1);
  EXPECT_EQ(informer_->lists(), 1);  // resumed, not relisted
}

TEST_F(RuntimeIntegrationTest, CompactionCausesRelistAndDeleteForVanishedObject) {
  CreateWidget("stays");
  CreateWidget("goes");
  StartInformer();
  // Keep the informer away (its reconnects fail) while an object is deleted and history is
  // compacted; when it comes back its resourceVersion is too old.
  Fault({{"action", "respond"},
         {"pathPrefix", "/apis/test.cte.netskope.io/v1/widgets"},
         {"code", 503},
         {"count", 1000000}});
  Fault({{"action", "closeWatches"}});
  ASSERT_TRUE(client_->Do(DeleteRequest(kWidgets, "default", "goes")).ok());
  Fault({{"action", "compact"}});
  Fault({{"action", "clear"}});
  ASSERT_TRUE(WaitUntil([&] { return handler_.Get("delete:default/goes") == 1; }));
  EXPECT_EQ(informer_->lists(), 2);
  EXPECT_EQ(informer_->cache().Get("default/goes"), nullptr);
  EXPECT_NE(informer_->cache().Get("default/stays"), nullptr);
  EXPECT_EQ(handler_.Get("delete:default/stays"), 0);
}

TEST_F(RuntimeIntegrationTest, StatusWriteRetriesAConflictAndSkipsUnchangedStatus) {
  json w = CreateWidget("status");
  StatusWriter writer(*client_, kWidgets, "test");
  std::string put = "PUT /apis/test.cte.netskope.io/v1/namespaces/default/widgets/status/status";
  Fault({{"action", "respond"},
         {"pathPrefix", "/apis/test.cte.netskope.io/v1/namespaces/default/widgets/status/status"},
         {"method", "PUT"},
         {"code", 409},
         {"count", 1}});
  auto written = writer.Write(w, {{"observedGeneration", 1}});
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ((*written)["status"]["observedGeneration"], 1);
  EXPECT_EQ(Requests(put), 2);
  // Writing the same status again sends nothing.
  ASSERT_TRUE(writer.Write(*written, {{"observedGeneration", 1}}).ok());
  EXPECT_EQ(Requests(put), 2);
}

class CountingReconciler : public Reconciler {
 public:
  Result Reconcile(const Request&, const ReconcileContext&) override {
    ++calls;
    return Result::Ok();
  }
  std::atomic<int> calls{0};
};

// A status write reaches every handler of the informer (a controller that Watches this kind must
// see a Ready change), while the owning controller's generation predicate keeps it from
// reconciling its own status write.
TEST_F(RuntimeIntegrationTest, StatusWriteReachesOtherHandlersButNotTheOwner) {
  json w = CreateWidget("echo");
  InformerOptions o;
  informer_ = std::make_unique<Informer>(*client_, kWidgets, clock_, random_, NullLogger(), o);
  informer_->AddHandler(&handler_);
  CountingReconciler owner_reconciler;
  Controller owner("owner", owner_reconciler, clock_, random_, NullLogger());
  owner.For(*informer_);
  informer_->Start();
  ASSERT_TRUE(informer_->WaitForSync(std::chrono::seconds(10)));
  owner.Start();
  ASSERT_TRUE(WaitUntil([&] { return owner_reconciler.calls == 1; }));

  StatusWriter writer(*client_, kWidgets, "test");
  auto written = writer.Write(w, {{"observedGeneration", 1}});
  ASSERT_TRUE(written.ok());
  ASSERT_TRUE(WaitUntil([&] { return handler_.Get("update:default/echo") == 1; }));
  EXPECT_EQ((*informer_->cache().Get("default/echo"))["status"]["observedGeneration"], 1);

  // A spec change passes the owner's predicate. Its reconcile being the second one shows that
  // the status write before it caused none.
  ASSERT_TRUE(client_
                  ->Do(PatchRequest(kWidgets, "default", "echo", PatchType::kMerge,
                                    {{"spec", {{"size", 2}}}}))
                  .ok());
  ASSERT_TRUE(WaitUntil([&] { return handler_.Get("update:default/echo") == 2; }));
  ASSERT_TRUE(WaitUntil([&] { return owner_reconciler.calls == 2; }));
  owner.Stop(std::chrono::seconds(5));
  EXPECT_EQ(owner_reconciler.calls, 2);
}

TEST_F(RuntimeIntegrationTest, FinalizersAreAddedAndRemovedWithGuardedPatches) {
  json w = CreateWidget("fin");
  auto added = AddFinalizer(*client_, kWidgets, w, "test/one");
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_TRUE(added->changed);
  auto again = AddFinalizer(*client_, kWidgets, added->object, "test/two");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->object["metadata"]["finalizers"], json({"test/one", "test/two"}));
  auto unchanged = AddFinalizer(*client_, kWidgets, again->object, "test/two");
  ASSERT_TRUE(unchanged.ok());
  EXPECT_FALSE(unchanged->changed);
  // A stale view (someone removed test/one meanwhile) must not remove the wrong entry, and the
  // failed `test` is a conflict to retry after re-reading, not a terminal error.
  ASSERT_TRUE(RemoveFinalizer(*client_, kWidgets, again->object, "test/one").ok());
  auto stale = RemoveFinalizer(*client_, kWidgets, again->object, "test/two");  // index 1 is gone
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.status().code(), StatusCode::kConflict) << stale.status().ToString();
  EXPECT_TRUE(Result::FromStatus(stale.status()).kind() == Result::Kind::kRetryableError);
  auto fresh = client_->Do(GetRequest(kWidgets, "default", "fin"));
  EXPECT_EQ((*fresh)["metadata"]["finalizers"], json({"test/two"}));
}

TEST(KubeClientRetryTest, TooManyRequestsWaitsForRetryAfter) {
  apiserver::ApiServer server;
  ASSERT_TRUE(server.Start("127.0.0.1", 0).ok());
  auto transport = http::NewSocketTransport();
  SimulatedClock clock;
  FixedRandom random;
  KubeConfig config;
  config.server = server.url();
  KubeClient client(config, *transport, clock, random);
  http::ClientRequest fault{
      "POST",
      server.url() + "/__local/faults",
      {{"Content-Type", "application/json"}},
      R"({"action":"respond","pathPrefix":"/api/v1/namespaces/default/configmaps","code":429,"count":1,"retryAfterSeconds":3})",
      std::chrono::seconds(5)};
  ASSERT_EQ(transport->Send(fault)->status, 200);
  std::atomic<bool> done{false};
  StatusOr<json> result = InternalError("not run");
  std::thread t([&] {
    result = client.Do(ListRequest({"", "v1", "configmaps", true, "ConfigMap"}, "default", {}));
    done = true;
  });
  ASSERT_TRUE(WaitUntil([&] { return clock.waiters() == 1; }));
  clock.Advance(std::chrono::milliseconds(2999));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // give a wrong early wake a chance
  EXPECT_FALSE(done);
  clock.Advance(std::chrono::milliseconds(1));
  t.join();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ((*result)["kind"], "ConfigMapList");
  server.Stop();
}

}  // namespace
}  // namespace cte::kube
