// Contract tests: the real tenant client (cpprestsdk transport, real clock) against the tenant
// simulator on 127.0.0.1:0, for every endpoint and every error path of issue 4. Assertions about
// rates use the simulator's request log (arrival times on its clock and status counts), not
// wall-time thresholds.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "hack/tenant-simulator/tenant_simulator.h"
#include "operator/core/log.h"
#include "operator/core/random.h"
#include "operator/http/http_server.h"
#include "operator/netskope/alert_iterator.h"
#include "operator/netskope/netskope_client.h"
#include "operator/netskope/transport_options.h"
#include "tests/testing/scoped_env.h"
#include "tests/testing/scripted_server.h"

namespace cte::netskope {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using tenantsim::Fault;
using tenantsim::TenantSimulator;

constexpr const char* kV1 = "contract-v1-token-7f3a";
constexpr const char* kV2 = "contract-v2-token-9b1c";
const std::string kMd5A(32, 'a');
const std::string kMd5B(32, 'b');
const std::string kSha(64, 'c');

class RecordingObserver : public TenantApiObserver {
 public:
  struct Call {
    std::string endpoint, code;
    Duration duration;
  };
  void OnRequest(std::string_view, std::string_view endpoint, std::string_view code,
                 Duration duration) override {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back({std::string(endpoint), std::string(code), duration});
  }
  void OnThrottled(std::string_view) override { ++throttled_; }
  std::vector<Call> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  int throttled() const { return throttled_; }

 private:
  mutable std::mutex mu_;
  std::vector<Call> calls_;
  std::atomic<int> throttled_{0};
};

// Request-log helpers: entries for one endpoint key ("PATCH /api/v2/policy/urllist/{id}/{action}").
std::vector<json> Entries(const json& log, const std::string& endpoint = "") {
  std::vector<json> out;
  for (const auto& e : log["requests"]) {
    if (endpoint.empty() || e["endpoint"] == endpoint) out.push_back(e);
  }
  return out;
}

int CountStatus(const std::vector<json>& entries, int status) {
  return static_cast<int>(std::count_if(entries.begin(), entries.end(),
                                        [&](const json& e) { return e["status"] == status; }));
}

// The most requests that arrived in any window of `window` seconds.
int MaxInWindow(const std::vector<json>& entries, double window) {
  std::vector<double> t;
  for (const auto& e : entries) t.push_back(e["time"].get<double>());
  std::sort(t.begin(), t.end());
  int best = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    size_t j = i;
    while (j < t.size() && t[j] < t[i] + window) ++j;
    best = std::max(best, static_cast<int>(j - i));
  }
  return best;
}

class ContractTest : public ::testing::Test {
 protected:
  static constexpr int kV2PerSecond = 20;

  void SetUp() override { StartSimulator(BaseOptions()); }

  static tenantsim::SimulatorOptions BaseOptions() {
    tenantsim::SimulatorOptions o;
    o.tokens.push_back(tenantsim::FullAccessToken(kV1, tenantsim::TokenApi::kV1));
    o.tokens.push_back(tenantsim::FullAccessToken(kV2, tenantsim::TokenApi::kV2));
    tenantsim::TokenSpec read_only;
    read_only.token = "read-only-token";
    read_only.scopes["/api/v2/policy/urllist"] = tenantsim::Access::kRead;
    o.tokens.push_back(read_only);
    o.file_hash_lists.push_back({"cte-hashes", {}});
    o.limits.v2_requests_per_second = kV2PerSecond;  // v1 and iterator keep the published values
    o.iterator_page_size = 10;
    o.iterator_wait_seconds = 1;
    return o;
  }

  void StartSimulator(tenantsim::SimulatorOptions o) {
    if (sim_) sim_->Stop();
    sim_ = std::make_unique<TenantSimulator>(std::move(o), clock_);
    ASSERT_TRUE(sim_->Start("127.0.0.1", 0).ok());
    limiter_ = std::make_shared<TenantRateLimiter>(clock_, ClientLimits());
    client_ = MakeClient(kV1, kV2);
  }

  void TearDown() override {
    // Whatever happened in the test, no token reached the logs.
    std::string logs = sink_->All();
    EXPECT_EQ(logs.find(kV1), std::string::npos);
    EXPECT_EQ(logs.find(kV2), std::string::npos);
    EXPECT_EQ(logs.find("read-only-token"), std::string::npos);
    client_.reset();
    sim_->Stop();
  }

  TenantRateLimits ClientLimits() {
    TenantRateLimits limits;
    limits.v2.requests = kV2PerSecond;
    return limits;
  }

  NetskopeClientOptions Options(const std::string& v1, const std::string& v2) {
    NetskopeClientOptions o;
    o.tenant = "acme";
    o.base_url = sim_->url();
    o.v1_token = SecretString(v1);
    o.v2_token = SecretString(v2);
    o.request_timeout = seconds(10);
    o.iterator_timeout = seconds(10);
    o.retry.backoff = {milliseconds(50), milliseconds(400), 2.0, 0.2};
    return o;
  }

  std::unique_ptr<NetskopeClient> MakeClient(const std::string& v1, const std::string& v2,
                                             std::optional<NetskopeClientOptions> o = {}) {
    return std::make_unique<NetskopeClient>(o ? *o : Options(v1, v2), *transport_, clock_, random_,
                                            limiter_, &observer_, Logger(sink_, LogLevel::kDebug));
  }

  UrlList Create(const std::string& name, const std::vector<std::string>& urls) {
    auto r = client_->CreateUrlList(name, urls, UrlListType::kExact);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && r->list ? *r->list : UrlList{};
  }

  json SimList(const std::string& name) {
    json snapshot = sim_->UrlListsSnapshot();
    for (const auto& l : snapshot["urlLists"]) {
      if (l["name"] == name) return l;
    }
    return nullptr;
  }

  RealClock clock_;
  RealRandom random_;
  std::unique_ptr<http::HttpTransport> transport_ = NewTenantTransport({false, ""});
  RecordingObserver observer_;
  std::shared_ptr<MemorySink> sink_ = std::make_shared<MemorySink>();
  std::unique_ptr<TenantSimulator> sim_;
  std::shared_ptr<TenantRateLimiter> limiter_;
  std::unique_ptr<NetskopeClient> client_;
};

// --- URL lists --------------------------------------------------------------------------------

// A create that reaches the tenant twice (docs/netskope-client.md, "Creates sent twice").
class CreateSentTwiceTest : public ContractTest {
 protected:
  // Creates `name` while the simulator applies the POST and then resets the connection instead of
  // answering. cpprestsdk resends a request whose pooled keep-alive connection was reset, so the
  // POST usually reaches the tenant a second time. Returns whether it did.
  bool CreateThroughAReset(const std::string& name, StatusOr<UrlListWriteResult>* result) {
    sim_->ClearRequestLog();
    // A keep-alive connection for the POST to reuse.
    EXPECT_TRUE(client_->ListUrlLists({{"id"}, std::nullopt}).ok());
    Fault f;
    f.kind = Fault::Kind::kResetAfter;
    f.method = "POST";
    f.path = "/api/v2/policy/urllist";
    sim_->AddFault(f);
    *result = client_->CreateUrlList(name, {"dup.example"}, UrlListType::kExact);
    sim_->ClearFaults();
    return Entries(sim_->RequestLog(), "POST /api/v2/policy/urllist").size() == 2;
  }

  // Lists named `name` on the tenant that are not deleted, staged or applied.
  std::vector<int64_t> LiveIds(const std::string& name) {
    std::vector<int64_t> ids;
    const json snapshot = sim_->UrlListsSnapshot();
    for (const auto& l : snapshot["urlLists"]) {
      if (l["name"] == name && !l["deleted"].get<bool>()) ids.push_back(l["id"].get<int64_t>());
    }
    return ids;
  }

  // Runs the scenario until the POST was sent twice (or gives up after a few tries) and checks
  // after every try that the lookup leaves exactly one list, the first one created.
  void ExpectOneListAfterLookup(bool expect_duplicate_before_lookup) {
    bool sent_twice = false;
    for (int attempt = 0; attempt < 10 && !sent_twice; ++attempt) {
      const std::string name = "cte-dup-" + std::to_string(attempt);
      StatusOr<UrlListWriteResult> created = InvalidArgumentError("not run");
      sent_twice = CreateThroughAReset(name, &created);
      std::vector<int64_t> before = LiveIds(name);
      ASSERT_FALSE(before.empty()) << created.status().ToString();
      if (sent_twice && expect_duplicate_before_lookup) {
        EXPECT_EQ(before.size(), 2u) << "the tenant applied the create twice";
      }
      auto resolved = ResolveUrlListByName(*client_, name);
      ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
      ASSERT_TRUE(resolved->has_value());
      EXPECT_EQ((*resolved)->id, before.front());
      ASSERT_TRUE(client_->DeployUrlLists().ok());
      EXPECT_EQ(LiveIds(name), std::vector<int64_t>{before.front()});
      // A second lookup finds the same single list and changes nothing.
      auto again = ResolveUrlListByName(*client_, name);
      ASSERT_TRUE(again.ok() && again->has_value());
      EXPECT_EQ((*again)->id, before.front());
    }
    EXPECT_TRUE(sent_twice) << "cpprestsdk never resent the POST in 10 tries";
  }
};

TEST_F(CreateSentTwiceTest, ATenantThatAllowsDuplicateNamesIsLeftWithOneListAfterTheLookup) {
  tenantsim::SimulatorOptions o = BaseOptions();
  o.unique_url_list_names = false;
  StartSimulator(o);
  ExpectOneListAfterLookup(/*expect_duplicate_before_lookup=*/true);
}

TEST_F(CreateSentTwiceTest, ATenantThatRefusesDuplicateNamesFailsTheResendButTheListIsFound) {
  // The resent POST gets "already exists" although the first one created the list: the create
  // reports an error, and the lookup the rule asks for afterwards finds the list.
  ExpectOneListAfterLookup(/*expect_duplicate_before_lookup=*/false);
}

TEST_F(ContractTest, UrlListLifecycleFromCreateToDeployedDelete) {
  UrlList created = Create("cte-malsites", {"cedefaultpush.io"});
  EXPECT_GT(created.id, 0);
  EXPECT_TRUE(created.pending);
  EXPECT_EQ(created.modify_type, "Created");
  EXPECT_EQ(created.json_version, 2);

  auto found = FindUrlListByName(*client_, "cte-malsites");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->id, created.id);

  auto appended =
      client_->AppendUrls(created.id, {"bad.example", "*.evil.example"}, UrlListType::kExact);
  ASSERT_TRUE(appended.ok()) << appended.status().ToString();
  EXPECT_EQ(appended->list->urls,
            (std::vector<std::string>{"cedefaultpush.io", "bad.example", "*.evil.example"}));

  auto replaced = client_->ReplaceUrls(created.id, {"bad.example"}, UrlListType::kExact);
  ASSERT_TRUE(replaced.ok());
  EXPECT_EQ(replaced->list->urls, std::vector<std::string>{"bad.example"});

  auto renamed =
      client_->UpdateUrlList(created.id, "cte-malsites-2", {"x.example"}, UrlListType::kExact);
  ASSERT_TRUE(renamed.ok());
  EXPECT_EQ(renamed->list->name, "cte-malsites-2");

  auto one = client_->GetUrlList(created.id);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->urls, std::vector<std::string>{"x.example"});

  // Nothing is applied before deploy.
  auto deployed_view = client_->ListUrlLists({{"id", "name"}, false});
  ASSERT_TRUE(deployed_view.ok());
  EXPECT_TRUE(deployed_view->empty());

  auto deployed = client_->DeployUrlLists();
  ASSERT_TRUE(deployed.ok()) << deployed.status().ToString();
  ASSERT_EQ(deployed->size(), 1u);
  EXPECT_FALSE((*deployed)[0].pending);
  EXPECT_EQ(SimList("cte-malsites-2")["applied"]["urls"], json{"x.example"});

  auto all = client_->ListUrlLists({});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_TRUE((*all)[0].has_data);

  auto deleted = client_->DeleteUrlList(created.id);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->modify_type, "Deleted");
  auto gone_by_name = FindUrlListByName(*client_, "cte-malsites-2");
  ASSERT_TRUE(gone_by_name.ok());
  EXPECT_FALSE(gone_by_name->has_value());
  ASSERT_TRUE(client_->DeployUrlLists().ok());
  EXPECT_EQ(client_->GetUrlList(created.id).status().code(), StatusCode::kNotFound);

  // Every call was one request: nothing throttled, nothing retried.
  json log = sim_->RequestLog();
  EXPECT_EQ(CountStatus(Entries(log), 429), 0);
  EXPECT_EQ(observer_.calls().size(), Entries(log).size());
}

TEST_F(ContractTest, InvalidUrlsAreDroppedReportedAndTheRestIsWrittenWithOneRetry) {
  UrlList list = Create("l", {"a.example"});
  auto r = client_->AppendUrls(list.id, {"ok.example", "bad host", "x.example/*", "fine.example"},
                               UrlListType::kExact);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rejected.size(), 2u);
  EXPECT_EQ(r->rejected[0].url, "bad host");
  EXPECT_FALSE(r->rejected[0].reason.empty());
  EXPECT_EQ(r->rejected[1].url, "x.example/*");
  EXPECT_EQ(SimList("l")["urls"], (json{"a.example", "ok.example", "fine.example"}));
  auto appends = Entries(sim_->RequestLog(), "PATCH /api/v2/policy/urllist/{id}/{action}");
  ASSERT_EQ(appends.size(), 2u);
  EXPECT_EQ(appends[0]["status"], 400);
  EXPECT_EQ(appends[1]["status"], 200);
}

TEST_F(ContractTest, WhenTheTenantRefusesEveryEntryNothingIsRetried) {
  UrlList list = Create("l", {"a.example"});
  auto r = client_->ReplaceUrls(list.id, {"bad host"}, UrlListType::kExact);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->list.has_value());
  EXPECT_EQ(r->rejected.size(), 1u);
  EXPECT_EQ(SimList("l")["urls"], json{"a.example"});
  EXPECT_EQ(Entries(sim_->RequestLog(), "PATCH /api/v2/policy/urllist/{id}/{action}").size(), 1u);
}

TEST_F(ContractTest, RequestErrorsAreClassified) {
  UrlList list = Create("l", {"a.example"});
  EXPECT_EQ(client_->CreateUrlList("bad.name", {"a.example"}, UrlListType::kExact).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->CreateUrlList("l", {"a.example"}, UrlListType::kExact).status().code(),
            StatusCode::kInvalidArgument);  // duplicate name
  EXPECT_EQ(client_->GetUrlList(9999).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(client_->AppendUrls(9999, {"a.example"}, UrlListType::kExact).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(client_->AppendUrls(list.id, {"x"}, UrlListType::kRegex).status().code(),
            StatusCode::kInvalidArgument);  // type mismatch on append
}

TEST_F(ContractTest, SizeCapIsAnInvalidArgument) {
  UrlList list = Create("l", {"a.example"});
  tenantsim::SimulatorLimits limits = sim_->limits();
  limits.url_list_max_bytes = 100;
  sim_->SetLimits(limits);
  std::vector<std::string> many;
  for (int i = 0; i < 10; ++i) many.push_back("host-" + std::to_string(i) + ".example");
  auto r = client_->AppendUrls(list.id, many, UrlListType::kExact);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("limit"), std::string::npos) << r.status().ToString();
}

// --- auth ---------------------------------------------------------------------------------------

TEST_F(ContractTest, BadTokensAndMissingScopesAreTerminal) {
  auto bad_v2 = MakeClient(kV1, "wrong");
  EXPECT_EQ(bad_v2->ListUrlLists({}).status().code(), StatusCode::kUnauthenticated);
  auto read_only = MakeClient(kV1, "read-only-token");
  EXPECT_TRUE(read_only->ListUrlLists({}).ok());
  EXPECT_EQ(read_only->CreateUrlList("x", {"a.example"}, UrlListType::kExact).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(read_only->DeployUrlLists().status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(read_only->IterateAlerts(AlertType::kMalware, "i", IteratorOperation::Head(), nullptr)
                .status()
                .code(),
            StatusCode::kPermissionDenied);
  auto bad_v1 = MakeClient("wrong", kV2);
  EXPECT_EQ(bad_v1->UpdateFileHashList("cte-hashes", {kMd5A}).status().code(),
            StatusCode::kUnauthenticated);
  // None of these was retried: six calls, six requests reached the tenant.
  EXPECT_EQ(Entries(sim_->RequestLog()).size(), 6u);
  EXPECT_EQ(observer_.calls().size(), 6u);
}

TEST_F(ContractTest, BadV1TokenAnsweredWithHttp200IsStillUnauthenticated) {
  tenantsim::SimulatorOptions o;
  o.tokens.push_back(tenantsim::FullAccessToken(kV1, tenantsim::TokenApi::kV1));
  o.file_hash_lists.push_back({"cte-hashes", {}});
  o.v1_auth_error_status = 200;
  StartSimulator(o);
  auto bad_v1 = MakeClient("wrong", kV2);
  EXPECT_EQ(bad_v1->UpdateFileHashList("cte-hashes", {kMd5A}).status().code(),
            StatusCode::kUnauthenticated);
}

// --- file-hash lists ----------------------------------------------------------------------------

TEST_F(ContractTest, FileHashListReplaceDuplicateAndErrors) {
  auto first = client_->UpdateFileHashList("cte-hashes", {kMd5A, kSha});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->unchanged);
  auto again = client_->UpdateFileHashList("cte-hashes", {kSha, kMd5A});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->unchanged);
  auto replaced = client_->UpdateFileHashList("cte-hashes", {kMd5B});
  ASSERT_TRUE(replaced.ok());
  EXPECT_EQ(sim_->FileHashListsSnapshot()["fileHashLists"][0]["hashes"], json{kMd5B});

  EXPECT_EQ(client_->UpdateFileHashList("no-such-list", {kMd5A}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(client_->UpdateFileHashList("cte-hashes", {"not-a-hash"}).status().code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(sim_->CreateFileHashList("held", {kMd5A}, /*pending=*/true).ok());
  auto pending = client_->UpdateFileHashList("held", {kMd5B});
  EXPECT_EQ(pending.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(pending.status().IsRetryable());
}

// --- alert iterator -----------------------------------------------------------------------------

TEST_F(ContractTest, IteratorDeliversEveryAlertOnceInOrder) {
  // 95 alerts in pages of 10: twelve requests, enough to exceed the 4/s budget if it were ignored.
  sim_->GenerateAlerts("malware", 95, 1'700'000'000, 60);
  sim_->GenerateAlerts("malsite", 3, 1'700'000'000, 60);
  AlertIterator malware(*client_, clock_, AlertType::kMalware,
                        IteratorIndexName("acme", AlertType::kMalware));
  std::vector<Alert> got;
  auto page = malware.Fetch(IteratorOperation::Epoch(1'700'000'000));
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  while (page.ok()) {
    got.insert(got.end(), page->alerts.begin(), page->alerts.end());
    if (page->alerts.empty()) break;
    page = malware.Next();
  }
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(got.size(), 95u);
  for (size_t i = 1; i < got.size(); ++i) EXPECT_GT(got[i].timestamp, got[i - 1].timestamp);
  EXPECT_EQ(got[0].md5.size(), 32u);
  EXPECT_EQ(got[0].alert_type, "Malware");
  EXPECT_FALSE(got[0].incident_id.empty());
  EXPECT_GE(page->timestamp_hwm, got.back().timestamp);

  auto malsite = client_->IterateAlerts(AlertType::kMalsite, "acme_malsite",
                                        IteratorOperation::Head(), nullptr);
  ASSERT_TRUE(malsite.ok());
  ASSERT_EQ(malsite->alerts.size(), 3u);
  EXPECT_FALSE(malsite->alerts[0].url.empty());
  EXPECT_EQ(malsite->alerts[0].malsite_category, std::vector<std::string>{"Phishing"});

  // The iterator budget (4/s per endpoint) was respected: no 429 anywhere.
  auto log = Entries(sim_->RequestLog(), "GET /api/v2/events/dataexport/alerts/malware");
  EXPECT_GE(log.size(), 11u);
  EXPECT_EQ(CountStatus(log, 429), 0);
  EXPECT_LE(MaxInWindow(log, 1.0), 4);
}

TEST_F(ContractTest, IteratorNextOnAnUnstartedIndexIsAnError) {
  auto page = client_->IterateAlerts(AlertType::kMalware, "never-started",
                                     IteratorOperation::Next(), nullptr);
  EXPECT_EQ(page.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ContractTest, IteratorFailureOfNextIsRepeatedAsResendSoNoPageIsLost) {
  sim_->GenerateAlerts("malware", 4, 1'700'000'000, 60);
  std::string index = "acme_malware";
  auto first =
      client_->IterateAlerts(AlertType::kMalware, index, IteratorOperation::Head(), nullptr);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->alerts.size(), 4u);
  sim_->GenerateAlerts("malware", 2, 1'800'000'000, 60);
  Fault fault;
  fault.path = "/api/v2/events/dataexport/alerts/malware";
  fault.status = 500;
  sim_->AddFault(fault);
  // The 500 happened before the tenant moved the index; the resend returns the previous page
  // again (at-least-once), and the next call continues without a gap.
  auto repeated =
      client_->IterateAlerts(AlertType::kMalware, index, IteratorOperation::Next(), nullptr);
  ASSERT_TRUE(repeated.ok()) << repeated.status().ToString();
  EXPECT_EQ(repeated->alerts.size(), 4u);
  EXPECT_EQ(repeated->alerts[0].id, first->alerts[0].id);
  auto next =
      client_->IterateAlerts(AlertType::kMalware, index, IteratorOperation::Next(), nullptr);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->alerts.size(), 2u);
}

// --- faults: throttling, server errors, hangs, resets, latency ----------------------------------

TEST_F(ContractTest, Injected429sAreRetriedAfterRetryAfter) {
  Fault fault;
  fault.path = "/api/v2/policy/urllist";
  fault.method = "GET";
  fault.status = 429;
  fault.count = 2;
  fault.retry_after_seconds = 1;
  sim_->AddFault(fault);
  auto lists = client_->ListUrlLists({});
  ASSERT_TRUE(lists.ok()) << lists.status().ToString();
  EXPECT_EQ(observer_.throttled(), 2);
  auto log = Entries(sim_->RequestLog(), "GET /api/v2/policy/urllist");
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0]["status"], 429);
  EXPECT_EQ(log[2]["status"], 200);
  // Retry-After: 1 was honoured between every attempt (on the simulator's clock).
  EXPECT_GE(log[1]["time"].get<double>() - log[0]["time"].get<double>(), 0.99);
  EXPECT_GE(log[2]["time"].get<double>() - log[1]["time"].get<double>(), 0.99);
}

TEST_F(ContractTest, AStricterTenantIsFollowedThroughItsRateLimitHeaders) {
  // A tenant stricter than the client's configured budget: the client reads RateLimit-Remaining
  // and RateLimit-Reset from the simulator's real limiter and holds back, so it stays within the
  // tenant's rate without being throttled.
  tenantsim::SimulatorLimits strict = sim_->limits();
  strict.v2_requests_per_second = 2;
  sim_->SetLimits(strict);
  for (int i = 0; i < 6; ++i) {
    auto lists = client_->ListUrlLists({});
    ASSERT_TRUE(lists.ok()) << i << ": " << lists.status().ToString();
  }
  auto log = Entries(sim_->RequestLog(), "GET /api/v2/policy/urllist");
  EXPECT_EQ(log.size(), 6u);
  EXPECT_EQ(CountStatus(log, 429), 0);
  EXPECT_LE(MaxInWindow(log, 1.0), 2);
}

TEST_F(ContractTest, EntryCapAndFileHashSizeCapAreInvalidArguments) {
  tenantsim::SimulatorLimits limits = sim_->limits();
  limits.max_entries = 3;
  limits.file_hash_list_max_bytes = 100;
  sim_->SetLimits(limits);
  auto too_many = client_->CreateUrlList(
      "cte-capped", {"a.example", "b.example", "c.example", "d.example"}, UrlListType::kExact);
  EXPECT_EQ(too_many.status().code(), StatusCode::kInvalidArgument) << too_many.status().ToString();
  std::vector<std::string> hashes;
  for (int i = 0; i < 10; ++i) {
    char buf[33];
    std::snprintf(buf, sizeof(buf), "%032x", i + 1);
    hashes.push_back(buf);
  }
  auto too_big = client_->UpdateFileHashList("cte-hashes", hashes);
  EXPECT_EQ(too_big.status().code(), StatusCode::kInvalidArgument) << too_big.status().ToString();
  // Nothing was stored by the refused requests.
  EXPECT_TRUE(SimList("cte-capped").is_null());
}

TEST_F(ContractTest, IteratorTailSkipsThePastAndNextBringsOnlyNewAlerts) {
  sim_->GenerateAlerts("malware", 5, 1'700'000'000, 60);
  auto tail =
      client_->IterateAlerts(AlertType::kMalware, "acme_tail", IteratorOperation::Tail(), nullptr);
  ASSERT_TRUE(tail.ok()) << tail.status().ToString();
  EXPECT_TRUE(tail->alerts.empty());
  sim_->GenerateAlerts("malware", 2, 1'800'000'000, 60);
  auto next =
      client_->IterateAlerts(AlertType::kMalware, "acme_tail", IteratorOperation::Next(), nullptr);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  ASSERT_EQ(next->alerts.size(), 2u);
  EXPECT_GE(next->alerts[0].timestamp, 1'800'000'000);
}

TEST_F(ContractTest, ServerErrorsAreRetriedButCreateIsNot) {
  Fault fault;
  fault.path = "/api/v2/policy/urllist/deploy";
  fault.status = 500;
  fault.count = 2;
  sim_->AddFault(fault);
  EXPECT_TRUE(client_->DeployUrlLists().ok());
  EXPECT_EQ(Entries(sim_->RequestLog(), "POST /api/v2/policy/urllist/deploy").size(), 3u);

  fault.path = "/api/v2/policy/urllist";
  fault.method = "POST";
  fault.count = 1;
  sim_->AddFault(fault);
  EXPECT_EQ(client_->CreateUrlList("x", {"a.example"}, UrlListType::kExact).status().code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(Entries(sim_->RequestLog(), "POST /api/v2/policy/urllist").size(), 1u);

  fault.path = "/api/v1/updateFileHashList";
  fault.method = "*";
  fault.status = 503;
  sim_->AddFault(fault);
  EXPECT_TRUE(client_->UpdateFileHashList("cte-hashes", {kMd5A}).ok());
}

TEST_F(ContractTest, PersistentServerErrorsGiveUpAfterTheBoundedAttempts) {
  Fault fault;
  fault.path = "/api/v2/policy/urllist";
  fault.status = 500;
  fault.count = -1;
  sim_->AddFault(fault);
  auto lists = client_->ListUrlLists({});
  EXPECT_EQ(lists.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(lists.status().IsRetryable());
  EXPECT_EQ(Entries(sim_->RequestLog(), "GET /api/v2/policy/urllist").size(), 4u);
}

TEST_F(ContractTest, AHangPastTheTimeoutIsRetried) {
  NetskopeClientOptions o = Options(kV1, kV2);
  // Short enough to cut the hang quickly, long enough for the healthy retry to answer within it
  // under the asan preset on a loaded machine (300 ms was not: a third call timed out).
  o.request_timeout = milliseconds(1000);
  auto client = MakeClient(kV1, kV2, o);
  Fault fault;
  fault.kind = Fault::Kind::kHang;
  fault.path = "/api/v2/policy/urllist";
  sim_->AddFault(fault);
  auto lists = client->ListUrlLists({});
  ASSERT_TRUE(lists.ok()) << lists.status().ToString();
  auto calls = observer_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].code, "timeout");
  EXPECT_EQ(calls[1].code, "200");
}

TEST_F(ContractTest, AResetConnectionIsRetried) {
  Fault fault;
  fault.kind = Fault::Kind::kReset;
  fault.path = "/api/v2/policy/urllist/deploy";
  fault.count = 2;
  sim_->AddFault(fault);
  EXPECT_TRUE(client_->DeployUrlLists().ok());
  auto log = Entries(sim_->RequestLog(), "POST /api/v2/policy/urllist/deploy");
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0]["fault"], "reset");
  EXPECT_EQ(log[2]["status"], 200);
}

TEST_F(ContractTest, AddedLatencyShowsInTheObservedDuration) {
  Fault fault;
  fault.kind = Fault::Kind::kLatency;
  fault.path = "/api/v2/policy/urllist";
  fault.latency = milliseconds(250);
  fault.count = 1;
  sim_->AddFault(fault);
  ASSERT_TRUE(client_->ListUrlLists({}).ok());
  auto calls = observer_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_GE(calls[0].duration, milliseconds(250));
}

TEST_F(ContractTest, ErrorBodiesWithHttp200AndDeploy400AreErrors) {
  Fault fault;
  fault.path = "/api/v2/policy/urllist/deploy";
  fault.status = 400;
  fault.body = R"({"message":["another deploy is in progress"]})";
  sim_->AddFault(fault);
  auto deploy = client_->DeployUrlLists();
  EXPECT_EQ(deploy.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(deploy.status().message().find("another deploy is in progress"), std::string::npos);
  fault.path = "/api/v2/policy/urllist";
  fault.status = 200;
  fault.body = R"({"status":"error","message":"internal"})";
  sim_->AddFault(fault);
  EXPECT_EQ(client_->ListUrlLists({}).status().code(), StatusCode::kInternal);
}

// --- the published rate, end to end -------------------------------------------------------------

TEST_F(ContractTest, BurstOf100UrlListWritesFromFourWorkersNeverSees429) {
  // Two clients of the same tenant share one limiter, as the operator's reconcilers do.
  UrlList list = Create("burst", {"seed.example"});
  auto second = MakeClient(kV1, kV2);
  sim_->ClearRequestLog();
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    NetskopeClient* client = w % 2 ? second.get() : client_.get();
    workers.emplace_back([&, client, w] {
      for (int i = 0; i < 25; ++i) {
        std::string url = "w";  // not "w" + std::to_string(w): GCC 12 at -O3 reports a false
                                // -Wrestrict (GCC PR 105329)
        url += std::to_string(w);
        url += '-';
        url += std::to_string(i);
        url += ".example";
        auto r = client->AppendUrls(list.id, {url}, UrlListType::kExact);
        if (!r.ok()) ++failures;
      }
    });
  }
  for (auto& t : workers) t.join();
  ASSERT_TRUE(client_->DeployUrlLists().ok());
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(SimList("burst")["applied"]["urls"].size(), 101u);

  auto log = Entries(sim_->RequestLog());
  ASSERT_EQ(log.size(), 101u);  // 100 appends and one deploy: no retries
  EXPECT_EQ(CountStatus(log, 429), 0);
  EXPECT_EQ(observer_.throttled(), 0);
  EXPECT_LE(MaxInWindow(log, 1.0), kV2PerSecond);
  // Within the published rate but not needlessly slow: at least half the allowed rate.
  double span = log.back()["time"].get<double>() - log.front()["time"].get<double>();
  EXPECT_GE((log.size() - 1) / span, kV2PerSecond / 2.0) << "span " << span << " s";
}

TEST_F(ContractTest, BurstOf100FileHashWritesStaysWithin24PerFiveSeconds) {
  std::vector<std::string> hashes;
  for (int i = 0; i < 100; ++i) {
    char buf[33];
    std::snprintf(buf, sizeof(buf), "%032x", i + 1);
    hashes.push_back(buf);
  }
  for (int i = 0; i < 100; ++i) {
    auto r = client_->UpdateFileHashList("cte-hashes", {hashes[i]});
    ASSERT_TRUE(r.ok()) << i << ": " << r.status().ToString();
  }
  auto log = Entries(sim_->RequestLog(), "* /api/v1/updateFileHashList");
  ASSERT_EQ(log.size(), 100u);
  EXPECT_EQ(CountStatus(log, 429), 0);
  EXPECT_LE(MaxInWindow(log, 5.0), 24);
  double span = log.back()["time"].get<double>() - log.front()["time"].get<double>();
  EXPECT_GE(99 / span, 24 / 5.0 / 2) << "span " << span << " s";
  EXPECT_EQ(sim_->FileHashListsSnapshot()["fileHashLists"][0]["hashes"], json{hashes.back()});
}

// --- connection options -------------------------------------------------------------------------

// A forward proxy for plain-HTTP targets: it records what it saw and relays to the target.
class RelayProxy {
 public:
  RelayProxy() {
    server_.Route(
        "*", "/{rest...}",
        [this](const http::HttpRequest& req, const http::PathParams&, http::ResponseWriter& w) {
          ++seen_;
          http::ClientRequest out;
          out.method = req.method;
          // A proxied plain-HTTP request names its target in absolute form; the server hands
          // its authority over as Host.
          out.url = "http://" + req.Header("Host") + req.path +
                    (req.raw_query.empty() ? "" : "?" + req.raw_query);
          out.body = req.body;
          for (const auto& [k, v] : req.headers) {
            if (k == "Host" || k == "Content-Length" || k == "Connection" ||
                k == "Proxy-Connection") {
              continue;
            }
            out.headers[k] = v;
          }
          auto r = direct_->Send(out);
          if (!r.ok()) {
            w.Send(http::HttpResponse::Text(502, r.status().ToString()));
            return;
          }
          http::HttpResponse resp;
          resp.status = r->status;
          resp.body = r->body;
          for (const auto& [k, v] : r->headers) {
            if (k != "Content-Length" && k != "Connection") resp.headers[k] = v;
          }
          w.Send(resp);
        });
  }
  Status Start() { return server_.Start("127.0.0.1", 0); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }
  int seen() const { return seen_; }

 private:
  std::unique_ptr<http::HttpTransport> direct_ = http::NewCpprestTransport();
  http::HttpServer server_;
  std::atomic<int> seen_{0};
};

using cte::testing::ScopedEnv;

TEST_F(ContractTest, UseSystemProxyGoesThroughHttpsProxyUnlessNoProxyMatches) {
  RelayProxy proxy;
  ASSERT_TRUE(proxy.Start().ok());
  ScopedEnv https_proxy("HTTPS_PROXY", proxy.url());
  {
    ScopedEnv no_proxy("NO_PROXY", "");
    auto transport = NewTenantTransport({/*use_system_proxy=*/true, ""});
    NetskopeClient client(Options(kV1, kV2), *transport, clock_, random_, limiter_);
    ASSERT_TRUE(client.ListUrlLists({}).ok());
    EXPECT_EQ(proxy.seen(), 1);
    ASSERT_TRUE(client.UpdateFileHashList("cte-hashes", {kMd5A}).ok());
    EXPECT_EQ(proxy.seen(), 2);
  }
  {
    ScopedEnv no_proxy("NO_PROXY", "localhost,127.0.0.1");
    auto transport = NewTenantTransport({true, ""});
    NetskopeClient client(Options(kV1, kV2), *transport, clock_, random_, limiter_);
    ASSERT_TRUE(client.ListUrlLists({}).ok());
    EXPECT_EQ(proxy.seen(), 2);
  }
  {
    // useSystemProxy off: the environment is ignored.
    ScopedEnv no_proxy("NO_PROXY", "");
    auto transport = NewTenantTransport({false, ""});
    NetskopeClient client(Options(kV1, kV2), *transport, clock_, random_, limiter_);
    ASSERT_TRUE(client.ListUrlLists({}).ok());
    EXPECT_EQ(proxy.seen(), 2);
  }
}

TEST_F(ContractTest, HttpsIsNeverDowngradedToPlainHttp) {
  // A server that answers plain HTTP on an https:// URL must fail the TLS handshake, never be
  // read as an answer; the failure is a retryable transport error.
  cte::testing::ScriptedServer plain([](int fd, int) {
    cte::testing::ScriptedServer::Write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]");
  });
  NetskopeClientOptions o = Options(kV1, kV2);
  o.base_url = "https://127.0.0.1:" + std::to_string(plain.port());
  o.retry.max_attempts = 1;
  auto client = MakeClient(kV1, kV2, o);
  auto lists = client->ListUrlLists({});
  EXPECT_FALSE(lists.ok());
  EXPECT_EQ(lists.status().code(), StatusCode::kUnavailable) << lists.status().ToString();
}

}  // namespace
}  // namespace cte::netskope
