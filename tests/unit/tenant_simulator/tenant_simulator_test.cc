// The tenant simulator against the documented tenant behaviour (reference/netskope-api.md), over
// real HTTP on 127.0.0.1:0. The simulator runs on a SimulatedClock, so rate-limit windows move
// only when a test advances time.
#include "hack/tenant-simulator/tenant_simulator.h"

#include <gtest/gtest.h>

#include <regex>
#include <thread>

#include "operator/core/json_util.h"
#include "operator/http/cpprest_transport.h"

namespace cte::tenantsim {
namespace {

using nlohmann::json;

const std::string kMd5A(32, 'a');
const std::string kMd5B(32, 'b');
const std::string kSha(64, 'c');

SimulatorOptions TestOptions() {
  SimulatorOptions o;
  o.tokens.push_back(FullAccessToken("V1", TokenApi::kV1));
  o.tokens.push_back(FullAccessToken("V2", TokenApi::kV2));
  TokenSpec read_only;
  read_only.token = "RO";
  read_only.scopes["/api/v2/policy/urllist"] = Access::kRead;
  read_only.scopes["/api/v2/events/dataexport/alerts/malware"] = Access::kRead;
  o.tokens.push_back(read_only);
  TokenSpec no_deploy;
  no_deploy.token = "NODEPLOY";
  no_deploy.name = "svc-ce";
  no_deploy.scopes["/api/v2/policy/urllist"] = Access::kReadWrite;
  o.tokens.push_back(no_deploy);
  o.file_hash_lists.push_back({"cte-hashes", {}});
  o.url_lists.push_back({"seeded", "exact", {"seed.example"}});
  // Time stands still unless a test advances it, so limits are off unless a test turns them on.
  o.limits.v1_requests = 0;
  o.limits.v2_requests_per_second = 0;
  o.limits.iterator_requests_per_second = 0;
  o.iterator_page_size = 2;
  return o;
}

class TenantSimulatorTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(TestOptions()); }
  void Start(SimulatorOptions options) {
    sim_ = std::make_unique<TenantSimulator>(std::move(options), clock_);
    ASSERT_TRUE(sim_->Start("127.0.0.1", 0).ok());
  }

  http::ClientResponse Call(const std::string& method, const std::string& path,
                            const std::string& body = "", http::Headers headers = {},
                            std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto r = TryCall(method, path, body, std::move(headers), timeout);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::ClientResponse{};
  }
  StatusOr<http::ClientResponse> TryCall(const std::string& method, const std::string& path,
                                         const std::string& body, http::Headers headers,
                                         std::chrono::milliseconds timeout) {
    http::ClientRequest req;
    req.method = method;
    req.url = sim_->url() + path;
    req.body = body;
    req.headers = std::move(headers);
    if (!body.empty() && !req.headers.count("Content-Type")) {
      req.headers["Content-Type"] = "application/json";
    }
    req.timeout = timeout;
    return transport_->Send(req);
  }
  http::ClientResponse V2(const std::string& method, const std::string& path,
                          const std::string& body = "") {
    return Call(method, path, body, {{"Netskope-Api-Token", "V2"}});
  }
  http::ClientResponse V1Json(const json& body) {
    return Call("POST", "/api/v1/updateFileHashList", body.dump());
  }
  static json Body(const http::ClientResponse& r) {
    auto j = ParseJson(r.body);
    EXPECT_TRUE(j.ok()) << r.body;
    return j.ok() ? *j : json();
  }
  int64_t CreateList(const std::string& name, const std::vector<std::string>& urls,
                     const std::string& type = "exact") {
    auto r = V2("POST", "/api/v2/policy/urllist",
                json{{"name", name}, {"data", {{"urls", urls}, {"type", type}}}}.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return Body(r)[0].value("id", int64_t{0});
  }
  json SimList(const std::string& name) {
    json snapshot = sim_->UrlListsSnapshot();
    for (const auto& l : snapshot["urlLists"]) {
      if (l["name"] == name) return l;
    }
    return nullptr;
  }

  SimulatedClock clock_;
  std::unique_ptr<TenantSimulator> sim_;
  std::unique_ptr<http::HttpTransport> transport_ = http::NewCpprestTransport();
};

// --- auth (reference §1) ----------------------------------------------------------------------

TEST_F(TenantSimulatorTest, V2AcceptsTheTokenHeaderOrABearerToken) {
  EXPECT_EQ(Call("GET", "/api/v2/policy/urllist", "", {{"netskope-api-token", "V2"}}).status, 200);
  EXPECT_EQ(Call("GET", "/api/v2/policy/urllist", "", {{"Authorization", "Bearer V2"}}).status,
            200);
}

TEST_F(TenantSimulatorTest, V2UnknownTokenIs401AndMissingScopeIs403) {
  auto unknown = Call("GET", "/api/v2/policy/urllist", "", {{"Netskope-Api-Token", "nope"}});
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(Body(unknown)["status"], "error");
  EXPECT_TRUE(Body(unknown)["message"].is_string());
  EXPECT_EQ(Call("GET", "/api/v2/policy/urllist").status, 401);
  // A v1 token is not a v2 token.
  EXPECT_EQ(Call("GET", "/api/v2/policy/urllist", "", {{"Netskope-Api-Token", "V1"}}).status, 401);
  // Read scope: GET yes, writes no.
  EXPECT_EQ(Call("GET", "/api/v2/policy/urllist", "", {{"Netskope-Api-Token", "RO"}}).status, 200);
  auto write = Call("POST", "/api/v2/policy/urllist",
                    R"({"name":"x","data":{"urls":["a.example"],"type":"exact"}})",
                    {{"Netskope-Api-Token", "RO"}});
  EXPECT_EQ(write.status, 403);
  EXPECT_EQ(Body(write)["status"], "error");
  // A scope on /api/v2/policy/urllist does not cover /api/v2/policy/urllist/deploy.
  EXPECT_EQ(Call("POST", "/api/v2/policy/urllist/deploy", "", {{"Netskope-Api-Token", "NODEPLOY"}})
                .status,
            403);
  EXPECT_EQ(Call("GET", "/api/v2/events/dataexport/alerts/malsite?index=i&operation=head", "",
                 {{"Netskope-Api-Token", "RO"}})
                .status,
            403);
}

// --- URL lists (reference §3) -----------------------------------------------------------------

TEST_F(TenantSimulatorTest, CreateAnswers201WithAOneElementArrayOfAPendingList) {
  auto r = Call("POST", "/api/v2/policy/urllist",
                R"({"name":"cte-malsites","data":{"urls":["bad.example","*.evil.example"],)"
                R"("type":"exact"}})",
                {{"Netskope-Api-Token", "NODEPLOY"}});
  ASSERT_EQ(r.status, 201) << r.body;
  json body = Body(r);
  ASSERT_TRUE(body.is_array());
  ASSERT_EQ(body.size(), 1u);
  const json& list = body[0];
  EXPECT_TRUE(list["id"].is_number_integer());
  EXPECT_EQ(list["name"], "cte-malsites");
  EXPECT_EQ(list["data"]["urls"], (json{"bad.example", "*.evil.example"}));
  EXPECT_EQ(list["data"]["type"], "exact");
  EXPECT_EQ(list["data"]["json_version"], 2);
  EXPECT_EQ(list["pending"], 1);
  EXPECT_EQ(list["modify_type"], "Created");
  EXPECT_EQ(list["modify_by"], "svc-ce");
  EXPECT_TRUE(std::regex_match(list["modify_time"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
}

TEST_F(TenantSimulatorTest, GetAllIsAnArrayWithFieldSelectionAndGetOneAnObject) {
  int64_t id = CreateList("second", {"a.example"});
  auto all = V2("GET", "/api/v2/policy/urllist?field=id,name");
  ASSERT_EQ(all.status, 200);
  json lists = Body(all);
  ASSERT_TRUE(lists.is_array());
  ASSERT_EQ(lists.size(), 2u);
  EXPECT_EQ(lists[1], (json{{"id", id}, {"name", "second"}}));
  auto full = Body(V2("GET", "/api/v2/policy/urllist"));
  EXPECT_TRUE(full[0].contains("data"));
  EXPECT_TRUE(full[0].contains("pending"));
  auto one = V2("GET", "/api/v2/policy/urllist/" + std::to_string(id));
  ASSERT_EQ(one.status, 200);
  EXPECT_TRUE(Body(one).is_object());
  EXPECT_EQ(Body(one)["name"], "second");
  EXPECT_EQ(V2("GET", "/api/v2/policy/urllist/999").status, 404);
  EXPECT_EQ(V2("GET", "/api/v2/policy/urllist/abc").status, 404);
}

TEST_F(TenantSimulatorTest, CreateValidatesItsBody) {
  struct Case {
    std::string body;
    std::string why;
  };
  for (const auto& c : std::vector<Case>{
           {R"({"data":{"urls":["a.example"],"type":"exact"}})", "missing name"},
           {R"({"name":"a.b","data":{"urls":["a.example"],"type":"exact"}})", "dot in name"},
           {R"({"name":"x"})", "missing data"},
           {R"({"name":"x","data":null})", "null data"},
           {R"({"name":"x","data":{"urls":"a.example","type":"exact"}})", "urls not an array"},
           {R"({"name":"x","data":{"urls":["a.example"],"type":"glob"}})", "bad type"},
           {R"({"name":"x","data":{"urls":["a.example"]}})", "missing type"},
           {R"({"name":"x","data":{"urls":[],"type":"exact"}})", "empty list"},
           {R"({"name":"seeded","data":{"urls":["a.example"],"type":"exact"}})", "duplicate"},
           {R"(not json)", "not json"}}) {
    auto r = V2("POST", "/api/v2/policy/urllist", c.body);
    EXPECT_EQ(r.status, 400) << c.why;
    EXPECT_EQ(Body(r)["statusCode"], 400) << c.why;
    EXPECT_TRUE(Body(r)["message"].is_array()) << c.why;
  }
}

TEST_F(TenantSimulatorTest, AppendAddsWithSetSemanticsAndReplaceReplaces) {
  int64_t id = CreateList("l", {"a.example", "b.example"});
  std::string path = "/api/v2/policy/urllist/" + std::to_string(id);
  auto appended = V2("PATCH", path + "/append",
                     R"({"data":{"urls":["b.example","c.example"],"type":"exact"}})");
  ASSERT_EQ(appended.status, 200) << appended.body;
  EXPECT_TRUE(Body(appended).is_object());
  EXPECT_EQ(Body(appended)["data"]["urls"], (json{"a.example", "b.example", "c.example"}));
  EXPECT_EQ(Body(appended)["pending"], 1);
  auto replaced = V2("PATCH", path + "/replace", R"({"data":{"urls":["z.example"]}})");
  ASSERT_EQ(replaced.status, 200);
  EXPECT_EQ(Body(replaced)["data"]["urls"], json{"z.example"});
  EXPECT_EQ(V2("PATCH", path + "/remove", R"({"data":{"urls":["z.example"]}})").status, 404);
  EXPECT_EQ(V2("PATCH", path + "/append", R"({"data":{"urls":["x"],"type":"regex"}})").status, 400);
  EXPECT_EQ(
      V2("PATCH", "/api/v2/policy/urllist/999/append", R"({"data":{"urls":["x.example"]}})").status,
      404);
}

TEST_F(TenantSimulatorTest, PutReplacesNameAndContent) {
  int64_t id = CreateList("old", {"a.example"});
  auto r = V2("PUT", "/api/v2/policy/urllist/" + std::to_string(id),
              R"({"name":"new","data":{"urls":["x.example"],"type":"regex"}})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["name"], "new");
  EXPECT_EQ(Body(r)["data"]["type"], "regex");
  EXPECT_EQ(Body(r)["pending"], 1);
}

TEST_F(TenantSimulatorTest, InvalidUrlsAnswer400WithUrlReasonPairsAndApplyNothing) {
  int64_t id = CreateList("l", {"a.example"});
  auto r = V2("PATCH", "/api/v2/policy/urllist/" + std::to_string(id) + "/append",
              R"({"data":{"urls":["ok.example","bad host","x.example/*"],"type":"exact"}})");
  ASSERT_EQ(r.status, 400);
  json body = Body(r);
  EXPECT_EQ(body["statusCode"], 400);
  ASSERT_EQ(body["message"].size(), 2u);
  EXPECT_EQ(body["message"][0][0], "bad host");
  EXPECT_TRUE(body["message"][0][1].is_string());
  EXPECT_EQ(body["message"][1][0], "x.example/*");
  EXPECT_EQ(SimList("l")["urls"], json{"a.example"});
}

TEST_F(TenantSimulatorTest, RegexListsValidateAsRegex) {
  EXPECT_EQ(V2("POST", "/api/v2/policy/urllist",
               R"({"name":"r","data":{"urls":[".*\\.evil\\.example"],"type":"regex"}})")
                .status,
            201);
  auto r = V2("POST", "/api/v2/policy/urllist",
              R"j({"name":"r2","data":{"urls":["https://x","a(?=b)"],"type":"regex"}})j");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Body(r)["message"].size(), 2u);
}

TEST_F(TenantSimulatorTest, DeployAppliesEveryPendingChangeAndAnswersAnArray) {
  int64_t id = CreateList("l", {"a.example"});
  // Not deployed yet: the deployed view (pending=0) does not have it.
  EXPECT_EQ(Body(V2("GET", "/api/v2/policy/urllist?pending=0&field=name")),
            json::array({{{"name", "seeded"}}}));
  auto deployed = V2("POST", "/api/v2/policy/urllist/deploy");
  ASSERT_EQ(deployed.status, 200);
  ASSERT_TRUE(Body(deployed).is_array());
  EXPECT_EQ(Body(deployed).size(), 1u);
  EXPECT_EQ(Body(deployed)[0]["pending"], 0);
  std::string path = "/api/v2/policy/urllist/" + std::to_string(id);
  V2("PATCH", path + "/append", R"({"data":{"urls":["b.example"]}})");
  // Staged view has the edit, deployed view the old content.
  auto staged = Body(V2("GET", path));
  EXPECT_EQ(staged["modify_type"], "Edited");
  EXPECT_EQ(staged["pending"], 1);
  auto applied = Body(V2("GET", "/api/v2/policy/urllist?pending=0"));
  EXPECT_EQ(applied[1]["data"]["urls"], json{"a.example"});
  EXPECT_EQ(SimList("l")["applied"]["urls"], json{"a.example"});
  V2("POST", "/api/v2/policy/urllist/deploy");
  EXPECT_EQ(SimList("l")["applied"]["urls"], (json{"a.example", "b.example"}));
  // Nothing pending: deploy answers an empty array.
  EXPECT_EQ(Body(V2("POST", "/api/v2/policy/urllist/deploy")), json::array());
}

TEST_F(TenantSimulatorTest, DeleteIsPendingUntilDeploy) {
  int64_t id = CreateList("l", {"a.example"});
  std::string path = "/api/v2/policy/urllist/" + std::to_string(id);
  auto deleted = V2("DELETE", path);
  ASSERT_EQ(deleted.status, 200);
  EXPECT_EQ(Body(deleted)["modify_type"], "Deleted");
  EXPECT_EQ(Body(deleted)["pending"], 1);
  EXPECT_EQ(V2("GET", path).status, 200);
  EXPECT_EQ(V2("PATCH", path + "/append", R"({"data":{"urls":["b.example"]}})").status, 400);
  V2("POST", "/api/v2/policy/urllist/deploy");
  EXPECT_EQ(V2("GET", path).status, 404);
}

TEST_F(TenantSimulatorTest, SizeAndEntryCapsAreEnforced) {
  int64_t id = CreateList("l", {"a.example", "b.example", "c.example"});
  std::string append = "/api/v2/policy/urllist/" + std::to_string(id) + "/append";
  SimulatorLimits limits = sim_->limits();
  limits.url_list_max_bytes = 52;  // ["a.example", "b.example", "c.example"] is 39 bytes
  sim_->SetLimits(limits);
  auto r = V2("PATCH", append, R"({"data":{"urls":["dd.example"]}})");  // 53 bytes
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("bytes"), std::string::npos) << r.body;
  EXPECT_EQ(V2("PATCH", append, R"({"data":{"urls":["d.example"]}})").status, 200);  // 52 bytes
  limits.url_list_max_bytes = 1 << 20;
  limits.max_entries = 4;
  sim_->SetLimits(limits);
  r = V2("PATCH", append, R"({"data":{"urls":["e.example"]}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("entries"), std::string::npos) << r.body;
  EXPECT_EQ(SimList("l")["sizeBytes"], 52);
}

// --- file-hash lists (reference §4) -----------------------------------------------------------

TEST_F(TenantSimulatorTest, FileHashListTakesItsParametersFromQueryJsonOrForm) {
  auto json_body = V1Json({{"name", "cte-hashes"}, {"list", kMd5A + "," + kSha}, {"token", "V1"}});
  ASSERT_EQ(json_body.status, 200);
  EXPECT_EQ(Body(json_body),
            (json{{"status", "success"}, {"msg", "File Filter Profile updated successfully"}}));
  auto form = Call("PUT", "/api/v1/updateFileHashList", "token=V1&name=cte-hashes&list=" + kMd5B,
                   {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(Body(form)["status"], "success");
  auto query = Call("GET", "/api/v1/updateFileHashList?token=V1&name=cte-hashes&list=" + kMd5A);
  EXPECT_EQ(Body(query)["status"], "success");
  auto patch = Call("PATCH", "/api/v1/updateFileHashList?token=V1",
                    json{{"name", "cte-hashes"}, {"list", kSha}}.dump());
  EXPECT_EQ(Body(patch)["status"], "success");
  EXPECT_EQ(Call("DELETE", "/api/v1/updateFileHashList?token=V1").status, 405);
  // Replace semantics; read back through /__sim/ (the real API has no read-back).
  auto lists = sim_->FileHashListsSnapshot()["fileHashLists"];
  ASSERT_EQ(lists.size(), 1u);
  EXPECT_EQ(lists[0]["hashes"], json{kSha});
  EXPECT_EQ(lists[0]["updates"], 4);
}

TEST_F(TenantSimulatorTest, FileHashListErrorsUseTheV1EnvelopeWithHttp200) {
  struct Case {
    json body;
    std::string error;
  };
  for (const auto& c : std::vector<Case>{
           {{{"token", "V1"}}, "name not passed"},
           {{{"token", "V1"}, {"name", "cte-hashes"}}, "list not passed"},
           {{{"token", "V1"}, {"name", "nope"}, {"list", kMd5A}}, "does not exist"},
           {{{"token", "V1"}, {"name", "cte-hashes"}, {"list", kMd5A + ",xyz"}}, "Invalid hash"},
           {{{"token", "V1"}, {"name", "cte-hashes"}, {"list", std::string(40, 'a')}},
            "Invalid hash"}}) {
    auto r = V1Json(c.body);
    EXPECT_EQ(r.status, 200) << c.error;
    json body = Body(r);
    EXPECT_EQ(body["status"], "error") << c.error;
    EXPECT_TRUE(body["errorCode"].is_string());
    EXPECT_NE(body["errors"].dump().find(c.error), std::string::npos) << body.dump();
  }
  EXPECT_EQ(sim_->FileHashListsSnapshot()["fileHashLists"][0]["updates"], 0);
}

TEST_F(TenantSimulatorTest, SendingTheSameHashesAgainIsADuplicateRequest) {
  V1Json({{"name", "cte-hashes"}, {"list", kMd5A + "," + kMd5B}, {"token", "V1"}});
  auto again = V1Json({{"name", "cte-hashes"}, {"list", kMd5B + "," + kMd5A}, {"token", "V1"}});
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(Body(again)["status"], "error");
  EXPECT_EQ(Body(again)["errors"], json{"Duplicate request, no change in file hashes"});
}

TEST_F(TenantSimulatorTest, FileHashListBadTokenAndPendingChange) {
  auto bad = V1Json({{"name", "cte-hashes"}, {"list", kMd5A}, {"token", "V2"}});
  EXPECT_EQ(bad.status, 403);
  EXPECT_EQ(Body(bad)["errorCode"], "Authorization Error");
  ASSERT_TRUE(sim_->CreateFileHashList("held", {kMd5A}, /*pending=*/true).ok());
  auto pending = V1Json({{"name", "held"}, {"list", kMd5B}, {"token", "V1"}});
  EXPECT_EQ(Body(pending)["status"], "error");
  EXPECT_NE(Body(pending)["errors"][0].get<std::string>().find("pending"), std::string::npos);
}

TEST_F(TenantSimulatorTest, V1AuthErrorsCanBeAnsweredWithHttp200) {
  SimulatorOptions o = TestOptions();
  o.v1_auth_error_status = 200;
  Start(o);
  auto bad = V1Json({{"name", "cte-hashes"}, {"list", kMd5A}, {"token", "wrong"}});
  EXPECT_EQ(bad.status, 200);
  EXPECT_EQ(Body(bad)["errorCode"], "Authorization Error");
}

TEST_F(TenantSimulatorTest, FileHashListSizeCap) {
  SimulatorLimits limits = sim_->limits();
  limits.file_hash_list_max_bytes = 80;  // two md5s are 74 JSON bytes, three are 110
  sim_->SetLimits(limits);
  EXPECT_EQ(
      Body(V1Json(
          {{"name", "cte-hashes"}, {"list", kMd5A + "," + kMd5B}, {"token", "V1"}}))["status"],
      "success");
  auto big = V1Json({{"name", "cte-hashes"},
                     {"list", kMd5A + "," + kMd5B + "," + std::string(32, 'd')},
                     {"token", "V1"}});
  EXPECT_EQ(Body(big)["status"], "error");
  EXPECT_NE(Body(big)["errors"][0].get<std::string>().find("Maximum size"), std::string::npos);
}

// --- alert iterator (reference §5.1) ----------------------------------------------------------

TEST_F(TenantSimulatorTest, IteratorPagesThroughSeededAlerts) {
  sim_->GenerateAlerts("malware", 3, 1000, 10);
  const std::string base = "/api/v2/events/dataexport/alerts/malware?index=acme_malware&operation=";
  auto first = V2("GET", base + "1000");
  ASSERT_EQ(first.status, 200);
  json page = Body(first);
  EXPECT_EQ(page["ok"], 1);
  EXPECT_EQ(page["result"].size(), 2u);
  EXPECT_EQ(page["wait_time"], 0);
  EXPECT_EQ(page["timestamp_hwm"], 1010);
  EXPECT_EQ(page["result"][0]["alert_type"], "Malware");
  auto again = Body(V2("GET", base + "resend"));
  EXPECT_EQ(again["result"], page["result"]);
  auto next = Body(V2("GET", base + "next"));
  EXPECT_EQ(next["result"].size(), 1u);
  EXPECT_GT(next["wait_time"].get<int>(), 0);
  EXPECT_EQ(Body(V2("GET", base + "next"))["result"].size(), 0u);
}

TEST_F(TenantSimulatorTest, IteratorErrorsAreOkZero) {
  auto no_index = V2("GET", "/api/v2/events/dataexport/alerts/malware?operation=next");
  EXPECT_EQ(no_index.status, 400);
  EXPECT_EQ(Body(no_index)["ok"], 0);
  auto never_started = V2("GET", "/api/v2/events/dataexport/alerts/malsite?index=x&operation=next");
  EXPECT_EQ(never_started.status, 400);
  EXPECT_EQ(Body(never_started)["ok"], 0);
  EXPECT_EQ(V2("GET", "/api/v2/events/dataexport/alerts/dlp?index=x&operation=head").status, 404);
}

// --- rate limits (reference §6) ---------------------------------------------------------------

TEST_F(TenantSimulatorTest, V2GlobalLimitAnswers429WithTheDocumentedHeadersAndBody) {
  SimulatorLimits limits = sim_->limits();
  limits.v2_requests_per_second = 4;
  sim_->SetLimits(limits);
  for (int i = 0; i < 4; ++i) {
    auto ok = V2("GET", "/api/v2/policy/urllist");
    ASSERT_EQ(ok.status, 200);
    EXPECT_EQ(ok.Header("RateLimit-Limit"), "4");
    EXPECT_EQ(ok.Header("RateLimit-Remaining"), std::to_string(3 - i));
    EXPECT_EQ(ok.Header("RateLimit-Reset"), "1");
  }
  auto refused = V2("POST", "/api/v2/policy/urllist/deploy");
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(Body(refused), (json{{"message", "API rate limit exceeded"}}));
  EXPECT_EQ(refused.Header("Retry-After"), "1");
  EXPECT_EQ(refused.Header("RateLimit-Remaining"), "0");
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_EQ(V2("POST", "/api/v2/policy/urllist/deploy").status, 200);
}

TEST_F(TenantSimulatorTest, IteratorLimitIsFourPerSecondPerEndpoint) {
  SimulatorLimits limits = sim_->limits();
  limits.iterator_requests_per_second = 4;
  sim_->SetLimits(limits);
  const std::string malware = "/api/v2/events/dataexport/alerts/malware?index=i&operation=head";
  const std::string malsite = "/api/v2/events/dataexport/alerts/malsite?index=i&operation=head";
  for (int i = 0; i < 4; ++i) ASSERT_EQ(V2("GET", malware).status, 200);
  auto refused = V2("GET", malware);
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.Header("RateLimit-Limit"), "4");
  EXPECT_EQ(refused.Header("Retry-After"), "1");
  EXPECT_EQ(V2("GET", malsite).status, 200);  // its own budget
  EXPECT_EQ(V2("GET", "/api/v2/policy/urllist").status, 200);
  clock_.Advance(std::chrono::milliseconds(999));
  EXPECT_EQ(V2("GET", malware).status, 429);
  clock_.Advance(std::chrono::milliseconds(1));
  EXPECT_EQ(V2("GET", malware).status, 200);
}

TEST_F(TenantSimulatorTest, V1LimitIs24RequestsPerFiveSeconds) {
  SimulatorLimits limits = sim_->limits();
  limits.v1_requests = 24;
  sim_->SetLimits(limits);
  for (int i = 0; i < 24; ++i) {
    clock_.Advance(std::chrono::milliseconds(100));
    auto r = V1Json({{"name", "cte-hashes"}, {"list", i % 2 ? kMd5A : kMd5B}, {"token", "V1"}});
    ASSERT_EQ(Body(r)["status"], "success") << i;
  }
  auto refused = V1Json({{"name", "cte-hashes"}, {"list", kSha}, {"token", "V1"}});
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.Header("Retry-After"), "3");    // the first leaves the window at t=5.1 s
  clock_.Advance(std::chrono::milliseconds(2600));  // t = 5.0 s: the first is still in
  EXPECT_EQ(V1Json({{"name", "cte-hashes"}, {"list", kSha}, {"token", "V1"}}).status, 429);
  clock_.Advance(std::chrono::milliseconds(100));
  EXPECT_EQ(Body(V1Json({{"name", "cte-hashes"}, {"list", kSha}, {"token", "V1"}}))["status"],
            "success");
}

// --- faults and the control plane -------------------------------------------------------------

TEST_F(TenantSimulatorTest, FaultsAnswerTheNextNMatchingRequests) {
  auto add =
      Call("POST", "/__sim/faults",
           R"({"path":"/api/v2/policy/urllist/deploy","kind":"429","count":2,"retryAfter":3})");
  ASSERT_EQ(add.status, 201) << add.body;
  Call("POST", "/__sim/faults",
       R"({"path":"/api/v2/policy/urllist*","method":"GET","kind":"500"})");
  for (int i = 0; i < 2; ++i) {
    auto r = V2("POST", "/api/v2/policy/urllist/deploy");
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(r.Header("Retry-After"), "3");
    EXPECT_EQ(Body(r), (json{{"message", "API rate limit exceeded"}}));
  }
  EXPECT_EQ(V2("POST", "/api/v2/policy/urllist/deploy").status, 200);
  EXPECT_EQ(V2("GET", "/api/v2/policy/urllist/1").status, 500);  // prefix match
  EXPECT_EQ(V2("GET", "/api/v2/policy/urllist/1").status, 200);
  Call("POST", "/__sim/faults",
       R"({"path":"/api/v2/policy/urllist","kind":"status","status":200,)"
       R"("body":{"status":"error","message":"injected"}})");
  EXPECT_EQ(Body(V2("GET", "/api/v2/policy/urllist"))["status"], "error");
  EXPECT_EQ(Body(Call("GET", "/__sim/faults")), json::array());
}

TEST_F(TenantSimulatorTest, ANegativeCountKeepsAFaultUntilCleared) {
  auto add = Call("POST", "/__sim/faults",
                  R"({"path":"/api/v2/policy/urllist*","kind":"500","count":-1})");
  ASSERT_EQ(add.status, 201) << add.body;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(V2("GET", "/api/v2/policy/urllist").status, 500);
  EXPECT_EQ(Body(Call("GET", "/__sim/faults")).size(), 1u);
  Call("DELETE", "/__sim/faults");
  EXPECT_EQ(V2("GET", "/api/v2/policy/urllist").status, 200);
  auto zero = Call("POST", "/__sim/faults", R"({"path":"/x","kind":"500","count":0})");
  EXPECT_EQ(zero.status, 400);
  EXPECT_NE(zero.body.find("fault.count"), std::string::npos) << zero.body;
}

TEST_F(TenantSimulatorTest, ResetFaultDropsTheConnection) {
  Call("POST", "/__sim/faults", R"({"path":"/api/v2/policy/urllist","kind":"reset"})");
  // A fresh transport: on a pooled keep-alive connection cpprestsdk silently resends a request
  // whose connection was reset, which would hide the fault from this test.
  transport_ = http::NewCpprestTransport();
  auto r = TryCall("GET", "/api/v2/policy/urllist", "", {{"Netskope-Api-Token", "V2"}},
                   std::chrono::seconds(10));
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_EQ(V2("GET", "/api/v2/policy/urllist").status, 200);
}

TEST_F(TenantSimulatorTest, ResetAfterFaultAppliesTheRequestButNeverAnswers) {
  Call("POST", "/__sim/faults",
       R"({"path":"/api/v2/policy/urllist","method":"POST",)"
       R"("kind":"reset-after"})");
  EXPECT_EQ(Body(Call("GET", "/__sim/faults"))[0]["kind"], "reset-after");
  transport_ = http::NewCpprestTransport();  // a fresh connection, so nothing is resent
  auto r = TryCall("POST", "/api/v2/policy/urllist",
                   R"({"name":"applied","data":{"urls":["a.example"],"type":"exact"}})",
                   {{"Netskope-Api-Token", "V2"}}, std::chrono::seconds(10));
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_FALSE(SimList("applied").is_null());  // the tenant did it
  json last = sim_->RequestLog()["requests"].back();
  EXPECT_EQ(last["fault"], "reset-after");
  EXPECT_EQ(last["status"], 201);
}

TEST_F(TenantSimulatorTest, DuplicateListNamesAreRefusedUnlessConfiguredOtherwise) {
  CreateList("twice", {"a.example"});
  auto refused = V2("POST", "/api/v2/policy/urllist",
                    R"({"name":"twice","data":{"urls":["b.example"],"type":"exact"}})");
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.body.find("already exists"), std::string::npos) << refused.body;

  SimulatorOptions o = TestOptions();
  o.unique_url_list_names = false;
  Start(o);
  int64_t first = CreateList("twice", {"a.example"});
  int64_t second = CreateList("twice", {"a.example"});
  EXPECT_NE(first, second);
}

TEST_F(TenantSimulatorTest, DeeplyNestedJsonIs400AndNothingBreaks) {
  std::string deep = std::string(65000, '[') + std::string(65000, ']');
  auto r = V2("POST", "/api/v2/policy/urllist", deep);
  EXPECT_EQ(r.status, 400) << r.body.substr(0, 200);
  auto sim = Call("POST", "/__sim/alerts", "{\"type\":\"malware\",\"alerts\":" + deep + "}");
  EXPECT_EQ(sim.status, 400);
  EXPECT_EQ(V2("GET", "/api/v2/policy/urllist").status, 200);
}

TEST_F(TenantSimulatorTest, GeneratedAlertCountsAreCheckedBeforeUse) {
  for (const char* bad :
       {R"({"type":"malware","count":-1})", R"({"type":"malware","count":2.5})",
        R"({"type":"malware","count":1e300})", R"({"type":"malware","count":100000000})",
        R"({"type":"malware","count":1,"intervalSeconds":"x"})"}) {
    EXPECT_EQ(Call("POST", "/__sim/alerts", bad).status, 400) << bad;
  }
  auto ok = Call("POST", "/__sim/alerts",
                 R"({"type":"malware","count":2,"startTimestamp":1e300,"intervalSeconds":1})");
  EXPECT_EQ(ok.status, 201) << ok.body;
}

TEST_F(TenantSimulatorTest, LatencyFaultWaitsOnTheSimulatorClock) {
  Call("POST", "/__sim/faults",
       R"({"path":"/api/v2/policy/urllist","kind":"latency","latencyMs":5000,"count":1})");
  std::atomic<int> status{0};
  std::thread caller([&] { status = V2("GET", "/api/v2/policy/urllist").status; });
  while (clock_.waiters() == 0) std::this_thread::yield();
  EXPECT_EQ(status, 0);
  clock_.Advance(std::chrono::seconds(5));
  caller.join();
  EXPECT_EQ(status, 200);
  EXPECT_EQ(sim_->RequestLog()["requests"].back()["fault"], "latency");
}

TEST_F(TenantSimulatorTest, HangFaultHoldsTheRequestPastTheClientTimeout) {
  RealClock real;
  SimulatorOptions o = TestOptions();
  TenantSimulator sim(o, real);
  ASSERT_TRUE(sim.Start("127.0.0.1", 0).ok());
  Fault hang;
  hang.kind = Fault::Kind::kHang;
  hang.path = "/api/v2/policy/urllist";
  sim.AddFault(hang);
  http::ClientRequest req;
  req.url = sim.url() + "/api/v2/policy/urllist";
  req.headers["Netskope-Api-Token"] = "V2";
  req.timeout = std::chrono::milliseconds(300);
  auto r = transport_->Send(req);
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded) << r.status().ToString();
  EXPECT_EQ(sim.RequestLog()["requests"][0]["fault"], "hang");
  sim.Stop();  // returns although a handler may still be holding a request
}

TEST_F(TenantSimulatorTest, RequestLogCountsRequestsAndBytesPerEndpoint) {
  V2("GET", "/api/v2/policy/urllist");
  std::string body = R"({"data":{"urls":["b.example"]}})";
  V2("PATCH", "/api/v2/policy/urllist/1/append", body);
  V2("PATCH", "/api/v2/policy/urllist/1/append", body);
  Call("GET", "/api/v2/policy/urllist", "", {{"Netskope-Api-Token", "bad"}});
  json log = Body(Call("GET", "/__sim/requests"));
  EXPECT_EQ(log["total"], 4);
  const json& append = log["endpoints"]["PATCH /api/v2/policy/urllist/{id}/{action}"];
  EXPECT_EQ(append["requests"], 2);
  EXPECT_EQ(append["requestBytes"], 2 * body.size());
  EXPECT_GT(append["responseBytes"].get<int>(), 0);
  EXPECT_EQ(append["statuses"]["200"], 2);
  EXPECT_EQ(log["endpoints"]["GET /api/v2/policy/urllist"]["statuses"]["401"], 1);
  EXPECT_EQ(log["requests"][1]["path"], "/api/v2/policy/urllist/1/append");
  // /__sim/ calls are not logged, and the log never holds a token.
  EXPECT_EQ(log.dump().find("V2"), std::string::npos);
  Call("DELETE", "/__sim/requests");
  EXPECT_EQ(Body(Call("GET", "/__sim/requests"))["total"], 0);
}

TEST_F(TenantSimulatorTest, RequestLogRecordsTheUserAgentBounded) {
  Call("GET", "/api/v2/policy/urllist", "",
       {{"Netskope-Api-Token", "V2"}, {"User-Agent", "cte-operator/0.1.0 (replica-a_1f2e3d4c)"}});
  Call("GET", "/api/v2/policy/urllist", "",
       {{"Netskope-Api-Token", "V2"}, {"User-Agent", std::string(4000, 'u')}});
  json log = Body(Call("GET", "/__sim/requests"));
  ASSERT_EQ(log["total"], 2);
  EXPECT_EQ(log["requests"][0]["userAgent"], "cte-operator/0.1.0 (replica-a_1f2e3d4c)");
  EXPECT_EQ(log["requests"][1]["userAgent"], std::string(256, 'u'));
}

TEST_F(TenantSimulatorTest, ControlPlaneSeedsAlertsCreatesHashListsAndResets) {
  EXPECT_EQ(Call("POST", "/__sim/alerts", R"({"type":"malsite","count":3})").status, 201);
  EXPECT_EQ(Call("POST", "/__sim/alerts",
                 R"({"type":"malware","alerts":[{"md5":")" + kMd5A + R"(","timestamp":5}]})")
                .status,
            201);
  EXPECT_EQ(Body(Call("GET", "/__sim/alerts"))["alerts"], (json{{"malsite", 3}, {"malware", 1}}));
  EXPECT_EQ(
      Call("POST", "/__sim/filehashlists", R"({"name":"extra","hashes":[")" + kSha + "\"]}").status,
      201);
  EXPECT_EQ(Call("POST", "/__sim/filehashlists", R"({"name":"bad","hashes":["xyz"]})").status, 400);
  CreateList("l", {"a.example"});
  EXPECT_EQ(Call("POST", "/__sim/reset").status, 200);
  EXPECT_EQ(sim_->UrlListsSnapshot()["urlLists"].size(), 1u);  // only the seeded list
  EXPECT_EQ(sim_->FileHashListsSnapshot()["fileHashLists"].size(), 1u);
  EXPECT_EQ(Body(Call("GET", "/__sim/alerts"))["alerts"], json::object());
  const int started_with = sim_->limits().v2_requests_per_second;
  EXPECT_EQ(Call("PUT", "/__sim/limits", R"({"v2RequestsPerSecond":7})").status, 200);
  EXPECT_EQ(sim_->limits().v2_requests_per_second, 7);
  // Reset restores the limits the simulator started with.
  EXPECT_EQ(Call("POST", "/__sim/reset").status, 200);
  EXPECT_EQ(sim_->limits().v2_requests_per_second, started_with);
}

// --- configuration ----------------------------------------------------------------------------

TEST(SimulatorConfigTest, ReadsTokensListsAndLimits) {
  auto docs = ParseYamlDocuments(R"(
tokens:
  - token: ro
    scopes:
      /api/v2/policy/urllist: read
  - token: legacy
    api: v1
urlLists:
  - name: cte-malsites
    type: regex
    urls: ["a\\.example"]
fileHashLists:
  - name: cte-hashes
limits:
  urlListMaxBytes: 1000
  v2RequestsPerSecond: 10
  v1WindowSeconds: 2.5
iterator:
  pageSize: 50
v1AuthErrorStatus: 200
)");
  ASSERT_TRUE(docs.ok());
  auto o = ApplyConfig((*docs)[0], SimulatorOptions{});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  ASSERT_EQ(o->tokens.size(), 2u);
  EXPECT_EQ(o->tokens[0].scopes.at("/api/v2/policy/urllist"), Access::kRead);
  EXPECT_EQ(o->tokens[1].api, TokenApi::kV1);
  EXPECT_EQ(o->url_lists[0].type, "regex");
  EXPECT_EQ(o->file_hash_lists[0].name, "cte-hashes");
  EXPECT_EQ(o->limits.url_list_max_bytes, 1000u);
  EXPECT_EQ(o->limits.v2_requests_per_second, 10);
  EXPECT_EQ(o->limits.v1_window, std::chrono::milliseconds(2500));
  EXPECT_EQ(o->iterator_page_size, 50u);
  EXPECT_EQ(o->v1_auth_error_status, 200);
}

TEST(SimulatorConfigTest, RejectsMalformedConfig) {
  for (const char* bad :
       {R"({"tokens":[{"api":"v2"}]})", R"({"tokens":[{"token":"x","api":"v3"}]})",
        R"({"tokens":[{"token":"x","scopes":{"/a":"admin"}}]})",
        R"({"urlLists":[{"name":"x","type":"glob"}]})",
        R"({"limits":{"v2RequestsPerSecond":"fast"}})", R"({"v1AuthErrorStatus":500})",
        R"({"limits":{"maxEntries":1e300}})", R"({"limits":{"maxEntries":-1}})",
        R"({"limits":{"v2RequestsPerSecond":2.5}})", R"({"iterator":{"pageSize":1.5}})",
        R"({"uniqueUrlListNames":"no"})"}) {
    auto j = ParseJson(bad);
    ASSERT_TRUE(j.ok());
    EXPECT_FALSE(ApplyConfig(*j, SimulatorOptions{}).ok()) << bad;
  }
}

}  // namespace
}  // namespace cte::tenantsim
