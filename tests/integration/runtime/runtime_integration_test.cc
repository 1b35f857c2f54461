// The runtime against the local API server in-process, with its fault injection: watches that are
// dropped, silenced or compacted, conflicts and throttling.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "hack/local-apiserver/api_server.h"
#include "operator/core/base64.h"
#include "operator/core/json_util.h"
#include "operator/http/socket_transport.h"
#include "operator/kube/client.h"
#include "operator/kube/controller.h"
#include "operator/kube/informer.h"
#include "operator/kube/lister.h"
#include "operator/kube/object_helpers.h"
#include "operator/kube/secret_store.h"

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
  for (int i = 0; i < 7; ++i) {
    std::string name = "w";  // not "w" + std::to_string(i): GCC 12 at -O3 reports a false
                             // -Wrestrict (GCC PR 105329)
    name += std::to_string(i);
    CreateWidget(name);
  }
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

// A typed view of the test kind: size must be at most 100 (a rule the server does not know, to
// exercise an object that does not parse).
struct TypedWidget {
  std::string name;
  int64_t size = 0;
  std::string secret;
  static StatusOr<TypedWidget> FromJson(const json& j) {
    TypedWidget w;
    w.name = j.value("/metadata/name"_json_pointer, std::string());
    w.size = j.value("/spec/size"_json_pointer, int64_t{0});
    w.secret = j.value("/spec/secretRef/name"_json_pointer, std::string());
    if (w.size > 100) return InvalidArgumentError("spec.size: must be at most 100");
    return w;
  }
};

TEST_F(RuntimeIntegrationTest, TypedListerParsesOncePerObjectVersion) {
  CreateWidget("small");
  json big = {{"apiVersion", "test.cte.netskope.io/v1"},
              {"kind", "Widget"},
              {"metadata", {{"name", "big"}, {"namespace", "default"}}},
              {"spec", {{"size", 500}}}};
  ASSERT_TRUE(client_->Do(CreateRequest(kWidgets, "default", big)).ok());
  InformerOptions o;
  informer_ = std::make_unique<Informer>(*client_, kWidgets, clock_, random_, NullLogger(), o);
  Lister<TypedWidget> widgets(*informer_);
  widgets.AddIndex("size",
                   [](const TypedWidget& w) { return std::vector{std::to_string(w.size)}; });
  informer_->Start();
  ASSERT_TRUE(informer_->WaitForSync(std::chrono::seconds(10)));

  auto first = widgets.Get("default", "small");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto again = widgets.Get("default", "small");
  EXPECT_EQ(first->get(), again->get());  // the same parsed object, not a second parse
  EXPECT_EQ(widgets.Get("default", "missing").status().code(), StatusCode::kNotFound);
  auto bad = widgets.Get("default", "big");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("spec.size"), std::string::npos);
  EXPECT_EQ(widgets.List("default").size(), 1u);  // the one that parses
  EXPECT_EQ(widgets.ByIndex("size", "1").size(), 1u);

  ASSERT_TRUE(client_
                  ->Do(PatchRequest(kWidgets, "default", "small", PatchType::kMerge,
                                    {{"spec", {{"size", 7}}}}))
                  .ok());
  ASSERT_TRUE(WaitUntil([&] {
    auto w = widgets.Get("default", "small");
    return w.ok() && (*w)->size == 7;
  }));
  EXPECT_NE(widgets.Get("default", "small")->get(), first->get());
  EXPECT_EQ((*first)->size, 1);  // a handed-out object never changes under its holder
  EXPECT_EQ(widgets.ByIndex("size", "7").size(), 1u);
}

TEST_F(RuntimeIntegrationTest, SecretStoreHoldsOnlyReferencedSecretsAndSeesRotation) {
  const GroupVersionResource kSecrets = kSecretsResource;
  auto secret = [](const std::string& name, const std::string& token) {
    return json{{"apiVersion", "v1"},
                {"kind", "Secret"},
                {"metadata", {{"name", name}, {"namespace", "default"}}},
                {"data", {{"token", Base64Encode(token)}}}};
  };
  ASSERT_TRUE(client_->Do(CreateRequest(kSecrets, "default", secret("used", "one"))).ok());
  ASSERT_TRUE(client_->Do(CreateRequest(kSecrets, "default", secret("unused", "two"))).ok());
  json w = {{"apiVersion", "test.cte.netskope.io/v1"},
            {"kind", "Widget"},
            {"metadata", {{"name", "user"}, {"namespace", "default"}}},
            {"spec", {{"size", 1}, {"secretRef", {{"name", "used"}}}}}};
  ASSERT_TRUE(client_->Do(CreateRequest(kWidgets, "default", w)).ok());

  InformerOptions meta_only;
  meta_only.metadata_only = true;
  Informer secrets(*client_, kSecrets, clock_, random_, NullLogger(), meta_only);
  informer_ = std::make_unique<Informer>(*client_, kWidgets, clock_, random_, NullLogger());
  Lister<TypedWidget> widgets(*informer_);
  widgets.AddIndex("secret", [](const TypedWidget& x) {
    return x.secret.empty() ? std::vector<std::string>{} : std::vector{"default/" + x.secret};
  });
  SecretStore store(*client_, secrets);
  store.AddReferrer(*informer_, "secret");
  informer_->Start();
  secrets.Start();
  ASSERT_TRUE(informer_->WaitForSync(std::chrono::seconds(10)));
  ASSERT_TRUE(secrets.WaitForSync(std::chrono::seconds(10)));

  // The informer keeps metadata only: no Secret's data is in memory until asked for.
  for (const auto& s : secrets.cache().List()) EXPECT_FALSE(s->contains("data")) << s->dump();
  EXPECT_EQ((*secrets.cache().Get("default/unused"))["kind"], "PartialObjectMetadata");
  auto got = store.Get("default", "used");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)->Find("token")->Reveal(), "one");
  EXPECT_EQ(store.HeldCount(), 1u);
  const std::string get_path = "GET /api/v1/namespaces/default/secrets/used";
  EXPECT_EQ(Requests(get_path), 1);
  ASSERT_TRUE(store.Get("default", "used").ok());
  EXPECT_EQ(Requests(get_path), 1);  // unchanged: served from what is held

  // Rotation: the metadata watch sees the new resourceVersion, and the next Get fetches again.
  json rotated = *client_->Do(GetRequest(kSecrets, "default", "used"));
  rotated["data"]["token"] = Base64Encode("three");
  ASSERT_TRUE(client_->Do(UpdateRequest(kSecrets, "default", "used", rotated)).ok());
  ASSERT_TRUE(WaitUntil([&] {
    auto s = store.Get("default", "used");
    return s.ok() && (*s)->Find("token")->Reveal() == "three";
  }));

  // An unreferenced Secret is answered but not held; dropping the reference drops the data.
  auto unused = store.Get("default", "unused");
  ASSERT_TRUE(unused.ok());
  EXPECT_EQ((*unused)->Find("token")->Reveal(), "two");
  EXPECT_EQ(store.HeldCount(), 1u);
  ASSERT_TRUE(client_
                  ->Do(PatchRequest(kWidgets, "default", "user", PatchType::kMerge,
                                    {{"spec", {{"secretRef", nullptr}}}}))
                  .ok());
  ASSERT_TRUE(WaitUntil([&] { return widgets.ByIndex("secret", "default/used").empty(); }));
  ASSERT_TRUE(store.Get("default", "unused").ok());
  EXPECT_EQ(store.HeldCount(), 0u);
  EXPECT_EQ(store.Get("default", "nope").status().code(), StatusCode::kNotFound);
  secrets.Stop();
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
