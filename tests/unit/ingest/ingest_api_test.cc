// The ingest API's handlers against a real SQLite store: auth and scopes, plugin binding and
// namespace isolation, all-or-nothing validation, limits, PATCH/retraction, bulk delete, metrics.
// (tests/e2e/ingest_api_test.sh drives the same API with curl through the operator.)
#include "operator/ingest/ingest_api.h"

#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <random>

#include "operator/store/sqlite_store.h"
#include "tests/unit/store/store_test_support.h"

namespace cte::ingest {
namespace {

using http::HttpRequest;
using http::HttpResponse;
using nlohmann::json;

const store::SourceRef kFeedA{"team-a", "feed"};
const store::SourceRef kFeedB{"team-b", "feed"};

class RecordingObserver : public IngestObserver {
 public:
  void OnRequest(std::string_view route, std::string_view ns, std::string_view source, int code,
                 std::optional<Duration>) override {
    std::lock_guard<std::mutex> lock(mu_);
    requests.push_back(std::string(route) + " " + std::string(ns) + "/" + std::string(source) +
                       " " + std::to_string(code));
  }
  void OnIndicators(std::string_view result, int64_t count) override {
    std::lock_guard<std::mutex> lock(mu_);
    indicators[std::string(result)] += count;
  }
  std::mutex mu_;
  std::vector<std::string> requests;
  std::map<std::string, int64_t> indicators;
};

// Credentials with the default scopes (both).
ApiSourceCredentials Creds(const store::SourceRef& plugin, const std::string& id,
                           const std::string& secret) {
  ApiSourceCredentials c;
  c.plugin = plugin;
  c.client_id = id;
  c.client_secret = SecretString(secret);
  return c;
}

class IngestApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::SqliteStoreOptions so;
    so.path = dir_.File("ingest.db");
    store_ = std::move(store::SqliteIndicatorStore::Open(so)).value();
    ApiSourceCredentials a = Creds(kFeedA, "client-a", "secret-a-0123");
    a.policy.aging_days = 30;
    ASSERT_TRUE(creds_.Put(a).ok());
    ASSERT_TRUE(creds_.Put(Creds(kFeedB, "client-b", "secret-b-4567")).ok());
    ApiSourceCredentials ro = Creds({"team-a", "reader"}, "client-ro", "secret-ro");
    ro.scopes = {"cte_read"};
    ASSERT_TRUE(creds_.Put(ro).ok());
    api_ = std::make_unique<IngestApi>(*store_, creds_, tokens_, throttle_, clock_, &observer_,
                                       Logger(log_));
  }

  HttpResponse Login(const std::string& id, const std::string& secret,
                     const std::string& extra = "", const std::string& from = "10.0.0.1") {
    HttpRequest r;
    r.method = "POST";
    r.path = "/api/auth";
    r.remote_address = from;
    r.body = "grant_type=client_credentials&client_id=" + id + "&client_secret=" + secret + extra;
    return api_->Auth(r);
  }
  std::string Token(const std::string& id, const std::string& secret) {
    HttpResponse r = Login(id, secret);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body)["access_token"].get<std::string>();
  }
  HttpRequest Req(const std::string& method, const std::string& token, std::string body = "",
                  http::QueryParams query = {}) {
    HttpRequest r;
    r.method = method;
    r.path = "/api/cte/indicators";
    r.headers["Authorization"] = "Bearer " + token;
    r.body = std::move(body);
    r.query = std::move(query);
    r.remote_address = "10.0.0.9";
    return r;
  }
  int64_t Count(const std::string& ns) {
    store::IndicatorQuery q;
    q.namespace_name = ns;
    q.limit = 0;
    return *store_->Count(q);
  }

  store::testing::TempDir dir_;
  SimulatedClock clock_;
  std::unique_ptr<store::SqliteIndicatorStore> store_;
  StaticCredentialsRegistry creds_;
  TokenService tokens_{clock_};
  FailureThrottle throttle_{clock_};
  RecordingObserver observer_;
  std::shared_ptr<MemorySink> log_ = std::make_shared<MemorySink>();
  std::unique_ptr<IngestApi> api_;
};

TEST_F(IngestApiTest, AuthIssuesABearerTokenLikeCloudExchange) {
  HttpResponse r = Login("client-a", "secret-a-0123");
  ASSERT_EQ(r.status, 200) << r.body;
  json body = json::parse(r.body);
  EXPECT_EQ(body["token_type"], "bearer");
  EXPECT_EQ(body["expires_in"], 7200);
  EXPECT_EQ(body["scopes"], json({"cte_read", "cte_write"}));
  EXPECT_EQ(r.headers["Cache-Control"], "no-store");

  EXPECT_EQ(Login("client-a", "wrong").status, 401);
  EXPECT_EQ(json::parse(Login("nobody", "x").body)["detail"],
            "Invalid client_id/client_secret provided.");
  HttpRequest password;
  password.method = "POST";
  password.body = "grant_type=password&client_id=client-a&client_secret=secret-a-0123";
  EXPECT_EQ(json::parse(api_->Auth(password).body)["detail"], "grant_type not supported.");
  HttpResponse missing = Login("", "");
  EXPECT_EQ(missing.status, 422);
  EXPECT_EQ(json::parse(missing.body)["detail"].size(), 2u);
  HttpResponse narrowed = Login("client-a", "secret-a-0123", "&scope=cte_read");
  EXPECT_EQ(json::parse(narrowed.body)["scopes"], json({"cte_read"}));
  EXPECT_EQ(Login("client-a", "secret-a-0123", "&scope=admin").status, 422);
}

TEST_F(IngestApiTest, RepeatedLoginFailuresFromOneAddressAreSlowedDown) {
  // Each attempt on a new connection, as a guesser would: a new port every time.
  int port = 40000;
  auto from = [&](const std::string& ip) { return ip + ":" + std::to_string(++port); };
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(Login("client-a", "guess", "", from("10.9.9.9")).status, 401);
  }
  HttpResponse blocked = Login("client-a", "secret-a-0123", "", from("10.9.9.9"));
  EXPECT_EQ(blocked.status, 429) << "even the right secret waits: a guesser learns nothing";
  EXPECT_EQ(blocked.headers["Retry-After"], "1");
  EXPECT_EQ(Login("client-a", "secret-a-0123", "", from("10.1.1.1")).status, 200)
      << "other addresses are not slowed";
  EXPECT_EQ(Login("client-b", "secret-b-4567", "", from("10.9.9.9")).status, 200)
      << "nor other clients behind the same address";
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_EQ(Login("client-a", "secret-a-0123", "", from("10.9.9.9")).status, 200);
}

// Guessing across made-up client_ids from one address is slowed down as well: after 50 failures
// the address waits for any unknown id, while registered clients behind it still sign in.
TEST_F(IngestApiTest, GuessingAcrossMadeUpClientIdsFromOneAddressIsSlowedDown) {
  for (int i = 0; i < 51; ++i) {
    EXPECT_EQ(Login("made-up-" + std::to_string(i), "guess", "", "10.7.7.7:1").status, 401) << i;
  }
  EXPECT_EQ(Login("made-up-x", "guess", "", "10.7.7.7:2").status, 429);
  EXPECT_EQ(Login("client-a", "secret-a-0123", "", "10.7.7.7:3").status, 200)
      << "a registered client behind the same address is not locked out";
  // Unknown ids never reach the log (they are often a secret pasted into the wrong field).
  EXPECT_EQ(log_->All().find("made-up-"), std::string::npos);
  EXPECT_NE(log_->All().find("(unknown)"), std::string::npos);
}

TEST_F(IngestApiTest, AnOverlongClientIdIsRefusedBeforeTheThrottle) {
  HttpResponse r = Login(std::string(257, 'x'), "guess");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(json::parse(r.body)["detail"][0]["field"], "client_id") << r.body;
  EXPECT_EQ(throttle_.tracked(), 0u);
  EXPECT_FALSE(creds_.Put(Creds({"team-c", "long"}, std::string(257, 'x'), "s")).ok());
}

TEST(ThrottleAddressTest, IsTheIpWithoutThePortAndAnIpv6AddressCountsAsItsSlash64) {
  EXPECT_EQ(ThrottleAddress("10.1.2.3:5555"), "10.1.2.3");
  EXPECT_EQ(ThrottleAddress("10.1.2.3"), "10.1.2.3");
  EXPECT_EQ(ThrottleAddress("[2001:db8:1:2::7]:443"), "2001:db8:1:2::/64");
  EXPECT_EQ(ThrottleAddress("[2001:db8:1:2:ffff:1:2:3]:9"), "2001:db8:1:2::/64");
  EXPECT_NE(ThrottleAddress("[2001:db8:1:3::7]:443"), ThrottleAddress("[2001:db8:1:2::7]:443"));
  EXPECT_EQ(ThrottleAddress("[::ffff:10.1.2.3]:1"), "10.1.2.3") << "IPv4 on a dual-stack socket";
}

TEST_F(IngestApiTest, PostStoresEverythingAfterCommitWithThePluginsPolicy) {
  std::string token = Token("client-a", "secret-a-0123");
  HttpResponse r = api_->Create(Req(
      "POST", token,
      R"([{"value":"bad.example","type":"domain","source":"feed","severity":"high","tags":["x"]},)"
      R"({"value":"D41D8CD98F00B204E9800998ECF8427E","type":"md5","source":"feed"}])"));
  ASSERT_EQ(r.status, 201) << r.body;
  json out = json::parse(r.body);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["source"], "feed");
  EXPECT_EQ(out[0]["severity"], "high");
  EXPECT_FALSE(out[0].contains("sources")) << "POST answers IndicatorOut, as CE";
  EXPECT_FALSE(out[0]["expiresAt"].is_null()) << "agingDays 30 set an expiry";
  auto row = store_->Get(kFeedA, "d41d8cd98f00b204e9800998ecf8427e", store::IndicatorType::kMd5);
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_EQ((*row)->expires_at, clock_.WallNow() + std::chrono::hours(24 * 30));

  // The same again merges.
  r = api_->Create(
      Req("POST", token, R"([{"value":"bad.example","type":"domain","source":"feed"}])"));
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(observer_.indicators["created"], 2);
  EXPECT_EQ(observer_.indicators["updated"], 1);
  EXPECT_EQ(Count("team-a"), 2);
}

TEST_F(IngestApiTest, AnyInvalidItemRefusesTheWholeRequest) {
  std::string token = Token("client-a", "secret-a-0123");
  HttpResponse r =
      api_->Create(Req("POST", token,
                       R"([{"value":"good.example","type":"url","source":"feed"},)"
                       R"({"value":"1.2.3.999","type":"ipv4","source":"feed"},)"
                       R"({"value":"x.example","type":"url","source":"feed","reputation":0}])"));
  ASSERT_EQ(r.status, 422);
  json detail = json::parse(r.body)["detail"];
  ASSERT_EQ(detail.size(), 2u);
  EXPECT_EQ(detail[0]["index"], 1);
  EXPECT_EQ(detail[0]["field"], "value");
  EXPECT_EQ(detail[1]["index"], 2);
  EXPECT_EQ(detail[1]["field"], "reputation");
  EXPECT_EQ(Count("team-a"), 0) << "nothing stored";
  EXPECT_EQ(observer_.indicators["rejected"], 3);
}

TEST_F(IngestApiTest, TokensAreBoundToTheirPluginAndNamespace) {
  std::string a = Token("client-a", "secret-a-0123");
  std::string b = Token("client-b", "secret-b-4567");
  // B's plugin is also called "feed", in team-b: each token writes to its own namespace.
  ASSERT_EQ(api_->Create(Req("POST", a, R"([{"value":"a.example","type":"url","source":"feed"}])"))
                .status,
            201);
  ASSERT_EQ(api_->Create(Req("POST", b, R"([{"value":"b.example","type":"url","source":"feed"}])"))
                .status,
            201);
  // Writing another plugin's source is forbidden, and nothing of the request is stored.
  HttpResponse other =
      api_->Create(Req("POST", a,
                       R"([{"value":"c.example","type":"url","source":"feed"},)"
                       R"({"value":"d.example","type":"url","source":"reader"}])"));
  EXPECT_EQ(other.status, 403);
  EXPECT_EQ(json::parse(other.body)["detail"], "Not enough permissions.");
  EXPECT_EQ(Count("team-a"), 1);

  // Reads see only the token's namespace.
  HttpResponse list_a = api_->List(Req("GET", a));
  ASSERT_EQ(list_a.status, 200);
  json rows = json::parse(list_a.body);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["value"], "a.example");
  HttpResponse count_b = api_->List(Req("GET", b, "", {{"aggregate", "true"}}));
  EXPECT_EQ(json::parse(count_b.body), json({{"count", 1}}));

  // A read-only token cannot write; no token, a bad one, or revoked credentials: 401.
  std::string ro = Token("client-ro", "secret-ro");
  EXPECT_EQ(api_->Create(Req("POST", ro, "[]")).status, 403);
  EXPECT_EQ(api_->List(Req("GET", ro)).status, 200);
  HttpResponse none = api_->List(Req("GET", ""));
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(json::parse(none.body)["detail"], "Could not validate credentials.");
  EXPECT_EQ(none.headers["WWW-Authenticate"], "Bearer");
  EXPECT_EQ(api_->List(Req("GET", a + "x")).status, 401);
  creds_.Remove(kFeedB);
  EXPECT_EQ(api_->List(Req("GET", b)).status, 401);
  // Narrowing a client's scopes narrows its live tokens.
  ApiSourceCredentials narrowed = Creds(kFeedA, "client-a", "secret-a-0123");
  narrowed.scopes = {"cte_read"};
  ASSERT_TRUE(creds_.Put(narrowed).ok());
  EXPECT_EQ(api_->Create(Req("POST", a, "[]")).status, 403);
  EXPECT_EQ(api_->List(Req("GET", a)).status, 200);
  clock_.Advance(std::chrono::minutes(121));
  EXPECT_EQ(api_->List(Req("GET", a)).status, 401) << "expired";
  // Rotating the secret (a leaked one, say) revokes the tokens issued with the old one at once.
  std::string a2 = Token("client-a", "secret-a-0123");
  ASSERT_EQ(api_->List(Req("GET", a2)).status, 200);
  ASSERT_TRUE(creds_.Put(Creds(kFeedA, "client-a", "secret-a-rotated-9876")).ok());
  EXPECT_EQ(api_->List(Req("GET", a2)).status, 401) << "a token of the old secret";
  EXPECT_EQ(Login("client-a", "secret-a-0123").status, 401);
  EXPECT_EQ(api_->List(Req("GET", Token("client-a", "secret-a-rotated-9876"))).status, 200);
}

TEST_F(IngestApiTest, HeadChecksRefuseBeforeTheBodyMatters) {
  std::string token = Token("client-a", "secret-a-0123");
  HttpRequest head = Req("POST", token);
  head.headers["Content-Length"] = std::to_string(17 * 1024 * 1024);
  auto refused = api_->CheckHead(head, kScopeWrite, 16 * 1024 * 1024);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 413);
  head.headers["Content-Length"] = "100";
  EXPECT_FALSE(api_->CheckHead(head, kScopeWrite, 16 * 1024 * 1024).has_value());
  head.headers["Authorization"] = "Bearer nope";
  EXPECT_EQ(api_->CheckHead(head, kScopeWrite, 100)->status, 401);
  HttpRequest big = Req("POST", token, std::string(16 * 1024 * 1024 + 1, ' '));
  EXPECT_EQ(api_->Create(big).status, 413);
}

TEST_F(IngestApiTest, PatchUpdatesOrRetractsOneIndicator) {
  std::string token = Token("client-a", "secret-a-0123");
  ASSERT_EQ(
      api_->Create(Req("POST", token,
                       R"([{"value":"p.example","type":"url","source":"feed","tags":["a"]}])"))
          .status,
      201);
  HttpResponse updated = api_->Update(
      Req("PATCH", token,
          R"({"value":"p.example","type":"url","source":"feed","severity":"critical"})"));
  ASSERT_EQ(updated.status, 201) << updated.body;
  json row = json::parse(updated.body);
  EXPECT_EQ(row["severity"], "critical");
  EXPECT_EQ(row["tags"], json({"a"})) << "fields not sent are kept";

  HttpResponse retracted = api_->Update(
      Req("PATCH", token, R"({"value":"p.example","source":"feed","retracted":true})"));
  EXPECT_EQ(retracted.status, 201);
  EXPECT_EQ(retracted.body, "true");
  EXPECT_TRUE((*store_->Get(kFeedA, "p.example", store::IndicatorType::kUrl))->retracted);

  HttpResponse missing =
      api_->Update(Req("PATCH", token, R"({"value":"nope.example","type":"url","source":"feed"})"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(json::parse(missing.body)["detail"],
            "Indicator with value='nope.example' does not exist.");
  EXPECT_EQ(api_->Update(Req("PATCH", token, R"({"value":"p.example","source":"feed"})")).status,
            422)
      << "neither a type nor a retraction";
}

TEST_F(IngestApiTest, BulkDeleteRemovesValuesOfTheTokensPlugin) {
  std::string token = Token("client-a", "secret-a-0123");
  ASSERT_EQ(api_->Create(Req("POST", token,
                             R"([{"value":"1.1.1.1","type":"ipv4","source":"feed"},)"
                             R"({"value":"2.2.2.2","type":"ipv4","source":"feed"}])"))
                .status,
            201);
  HttpRequest del = Req("DELETE", token, R"({"values":["1.1.1.1","3.3.3.3"],"source":"feed"})");
  del.path = "/api/cte/indicators/bulk";
  HttpResponse r = api_->BulkDelete(del);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(json::parse(r.body), json({{"deleted", 1}}));
  EXPECT_EQ(Count("team-a"), 1);
  del.body = R"({"values":["2.2.2.2"],"source":"reader"})";
  EXPECT_EQ(api_->BulkDelete(del).status, 403);
  del.body = R"({"query":"{}"})";
  EXPECT_EQ(api_->BulkDelete(del).status, 422);
  del.body = R"({"values":[1]})";
  EXPECT_EQ(api_->BulkDelete(del).status, 422);
}

// Whatever arrives, the answer is a success or a 4xx: never a 5xx (which would mean a bug or a
// store failure), and the store stays usable.
TEST_F(IngestApiTest, MutatedBodiesAreAnsweredWithSuccessOr4xx) {
  std::string token = Token("client-a", "secret-a-0123");
  const std::string valid =
      R"([{"value":"m.example","type":"url","source":"feed","tags":["t"],"reputation":4},)"
      R"({"value":"0123456789abcdef0123456789abcdef","type":"md5","source":"feed"}])";
  std::mt19937 rng(11);
  for (int round = 0; round < 400; ++round) {
    std::string body = valid;
    for (int e = 0; e < 1 + static_cast<int>(rng() % 4); ++e) {
      size_t at = rng() % body.size();
      if (rng() % 2) {
        body[at] = static_cast<char>(rng() % 256);
      } else {
        body.erase(at, rng() % 8);
      }
      if (body.empty())
        body.assign(1, 'x');  // `= "x"`: GCC 12 at -O3 reports a false -Wrestrict (GCC PR 105329)
    }
    for (const char* method : {"POST", "PATCH", "DELETE"}) {
      HttpRequest req = Req(method, token, body);
      HttpResponse r = std::string(method) == "POST"    ? api_->Create(req)
                       : std::string(method) == "PATCH" ? api_->Update(req)
                                                        : api_->BulkDelete(req);
      EXPECT_TRUE(r.status == 201 || (r.status >= 400 && r.status < 500))
          << method << " " << r.status << " " << r.body.substr(0, 200);
    }
  }
  EXPECT_EQ(api_->List(Req("GET", token)).status, 200);
}

TEST_F(IngestApiTest, MetricsCarryNamespaceSourceAndCodeButNoSecrets) {
  std::string token = Token("client-a", "secret-a-0123");
  api_->List(Req("GET", token));
  api_->List(Req("GET", "bad"));
  std::lock_guard<std::mutex> lock(observer_.mu_);
  EXPECT_EQ(observer_.requests, (std::vector<std::string>{"auth team-a/feed 200",
                                                          "list team-a/feed 200", "list / 401"}));
  for (const auto& r : observer_.requests) EXPECT_EQ(r.find("secret"), std::string::npos);
}

// cte-operator layers the CTEPlugin reconciler's registry over --ingest-credentials-file's: a
// reconcile that finds no CTEPlugin of a file entry's name removes nothing of the file's.
TEST(LayeredCredentialsTest, RemovingAPluginKeepsTheUnderlyingEntries) {
  StaticCredentialsRegistry file;
  ASSERT_TRUE(file.Put(Creds(kFeedA, "client-a", "secret-a-0123")).ok());
  StaticCredentialsRegistry cluster(&file);
  ASSERT_TRUE(cluster.Put(Creds(kFeedB, "client-b", "secret-b-0123")).ok());

  cluster.Remove(kFeedA);  // the reconciler's "no such CTEPlugin"
  auto a = cluster.FindByClientId("client-a");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->plugin, kFeedA);
  cluster.Remove(kFeedB);
  EXPECT_FALSE(cluster.FindByClientId("client-b").has_value());

  // A client_id names one plugin across both layers; the same plugin may add its own.
  Status taken = cluster.Put(Creds(kFeedB, "client-a", "other-secret-01"));
  EXPECT_EQ(taken.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(taken.message().find("already used by team-a/feed"), std::string::npos);
  // A CTEPlugin of the file entry's name replaces it while it has credentials here.
  EXPECT_TRUE(cluster.Put(Creds(kFeedA, "client-a2", "secret-a2-0123")).ok());
  EXPECT_TRUE(cluster.FindByClientId("client-a2").has_value());
  EXPECT_FALSE(cluster.FindByClientId("client-a").has_value());
  cluster.Remove(kFeedA);
  EXPECT_TRUE(cluster.FindByClientId("client-a").has_value());
}

// The version a token carries is a digest of the credentials: the same credentials have the same
// version in either layer and after a removal (an API server hiccup that made the reconciler
// drop and re-add them revokes nothing); a changed secret or client_id has another.
TEST(LayeredCredentialsTest, TheSameCredentialsKeepTheirVersionEverywhere) {
  StaticCredentialsRegistry file;
  ASSERT_TRUE(file.Put(Creds(kFeedA, "client-a", "secret-a-0123")).ok());
  StaticCredentialsRegistry cluster(&file);
  const uint64_t from_file = cluster.FindByClientId("client-a")->version;
  ASSERT_TRUE(cluster.Put(Creds(kFeedA, "client-a", "secret-a-0123")).ok());
  EXPECT_EQ(cluster.FindByClientId("client-a")->version, from_file);
  cluster.Remove(kFeedA);
  ASSERT_TRUE(cluster.Put(Creds(kFeedA, "client-a", "secret-a-0123")).ok());
  EXPECT_EQ(cluster.FindByClientId("client-a")->version, from_file);
  ASSERT_TRUE(cluster.Put(Creds(kFeedA, "client-a", "secret-a-0124")).ok());
  EXPECT_NE(cluster.FindByClientId("client-a")->version, from_file);
  EXPECT_NE(CredentialsVersion(Creds(kFeedA, "client-b", "secret-a-0123")), from_file);
  EXPECT_NE(CredentialsVersion(Creds(kFeedB, "client-a", "secret-a-0123")), from_file);
}

}  // namespace
}  // namespace cte::ingest
