#include "operator/netskope/requests.h"

#include <gtest/gtest.h>

namespace cte::netskope {
namespace {

using nlohmann::json;

struct RequestCase {
  std::string name;
  TenantRequest request;
  Endpoint endpoint;
  Api api;
  std::string method;
  std::string path;
  http::QueryParams query;
  json body;  // null: no body
};

class RequestTableTest : public ::testing::TestWithParam<RequestCase> {};

TEST_P(RequestTableTest, BuildsMethodPathQueryAndBody) {
  const RequestCase& c = GetParam();
  EXPECT_EQ(c.request.endpoint, c.endpoint);
  EXPECT_EQ(c.request.api, c.api);
  EXPECT_EQ(c.request.method, c.method);
  EXPECT_EQ(c.request.path, c.path);
  EXPECT_EQ(c.request.query, c.query);
  if (c.body.is_null()) {
    EXPECT_FALSE(c.request.body.has_value());
  } else {
    ASSERT_TRUE(c.request.body.has_value());
    EXPECT_EQ(*c.request.body, c.body);
  }
}

const std::vector<std::string> kUrls = {"bad.example", "*.evil.example"};

INSTANTIATE_TEST_SUITE_P(
    AllEndpoints, RequestTableTest,
    ::testing::Values(
        RequestCase{"ListAll",
                    ListUrlListsRequest({}),
                    Endpoint::kUrlListList,
                    Api::kV2,
                    "GET",
                    "/api/v2/policy/urllist",
                    {},
                    nullptr},
        RequestCase{"ListIdName",
                    ListUrlListsRequest({{"id", "name"}, std::nullopt}),
                    Endpoint::kUrlListList,
                    Api::kV2,
                    "GET",
                    "/api/v2/policy/urllist",
                    {{"field", "id,name"}},
                    nullptr},
        RequestCase{"ListDeployedView",
                    ListUrlListsRequest({{"id", "name", "data"}, false}),
                    Endpoint::kUrlListList,
                    Api::kV2,
                    "GET",
                    "/api/v2/policy/urllist",
                    {{"field", "id,name,data"}, {"pending", "0"}},
                    nullptr},
        RequestCase{"GetOne",
                    GetUrlListRequest(12),
                    Endpoint::kUrlListGet,
                    Api::kV2,
                    "GET",
                    "/api/v2/policy/urllist/12",
                    {},
                    nullptr},
        RequestCase{"Create",
                    CreateUrlListRequest("cte-malsites", kUrls, UrlListType::kExact),
                    Endpoint::kUrlListCreate,
                    Api::kV2,
                    "POST",
                    "/api/v2/policy/urllist",
                    {},
                    json{{"name", "cte-malsites"}, {"data", {{"urls", kUrls}, {"type", "exact"}}}}},
        RequestCase{"Update",
                    UpdateUrlListRequest(7, "renamed", kUrls, UrlListType::kRegex),
                    Endpoint::kUrlListUpdate,
                    Api::kV2,
                    "PUT",
                    "/api/v2/policy/urllist/7",
                    {},
                    json{{"name", "renamed"}, {"data", {{"urls", kUrls}, {"type", "regex"}}}}},
        RequestCase{"Append",
                    AppendUrlsRequest(7, kUrls, UrlListType::kExact),
                    Endpoint::kUrlListAppend,
                    Api::kV2,
                    "PATCH",
                    "/api/v2/policy/urllist/7/append",
                    {},
                    json{{"data", {{"urls", kUrls}, {"type", "exact"}}}}},
        RequestCase{"Replace",
                    ReplaceUrlsRequest(7, kUrls, UrlListType::kExact),
                    Endpoint::kUrlListReplace,
                    Api::kV2,
                    "PATCH",
                    "/api/v2/policy/urllist/7/replace",
                    {},
                    json{{"data", {{"urls", kUrls}, {"type", "exact"}}}}},
        RequestCase{"Delete",
                    DeleteUrlListRequest(7),
                    Endpoint::kUrlListDelete,
                    Api::kV2,
                    "DELETE",
                    "/api/v2/policy/urllist/7",
                    {},
                    nullptr},
        RequestCase{"Deploy",
                    DeployUrlListsRequest(),
                    Endpoint::kUrlListDeploy,
                    Api::kV2,
                    "POST",
                    "/api/v2/policy/urllist/deploy",
                    {},
                    nullptr},
        RequestCase{
            "FileHashList",
            UpdateFileHashListRequest("cte-hashes", {std::string(32, 'a'), std::string(64, 'b')}),
            Endpoint::kFileHashListUpdate,
            Api::kV1,
            "POST",
            "/api/v1/updateFileHashList",
            {},
            json{{"name", "cte-hashes"},
                 {"list", std::string(32, 'a') + "," + std::string(64, 'b')}}},
        RequestCase{"IteratorEpoch",
                    AlertIteratorRequest(AlertType::kMalware, "acme_malware",
                                         IteratorOperation::Epoch(1716200000)),
                    Endpoint::kAlertsMalware,
                    Api::kV2,
                    "GET",
                    "/api/v2/events/dataexport/alerts/malware",
                    {{"index", "acme_malware"}, {"operation", "1716200000"}},
                    nullptr},
        RequestCase{
            "IteratorResend",
            AlertIteratorRequest(AlertType::kMalsite, "acme_malsite", IteratorOperation::Resend()),
            Endpoint::kAlertsMalsite,
            Api::kV2,
            "GET",
            "/api/v2/events/dataexport/alerts/malsite",
            {{"index", "acme_malsite"}, {"operation", "resend"}},
            nullptr}),
    [](const ::testing::TestParamInfo<RequestCase>& p) { return p.param.name; });

TEST(ToClientRequestTest, V2PutsTheTokenInTheHeaderAndEncodesTheQuery) {
  auto r = ToClientRequest(ListUrlListsRequest({{"id", "name"}, std::nullopt}),
                           "https://acme.goskope.com/", SecretString("v2-secret"),
                           std::chrono::seconds(7));
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.url, "https://acme.goskope.com/api/v2/policy/urllist?field=id%2Cname");
  EXPECT_EQ(r.headers["Netskope-Api-Token"], "v2-secret");
  EXPECT_EQ(r.headers["Accept"], "application/json");
  EXPECT_EQ(r.headers.count("Content-Type"), 0u);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.timeout, std::chrono::seconds(7));
  EXPECT_EQ(r.headers["User-Agent"], kUserAgent);
  auto named =
      ToClientRequest(ListUrlListsRequest({}), "https://acme.goskope.com", SecretString("t"),
                      std::chrono::seconds(1), "cte-operator/0.1.0 (host_0a1b2c3d)");
  EXPECT_EQ(named.headers["User-Agent"], "cte-operator/0.1.0 (host_0a1b2c3d)");
}

TEST(ToClientRequestTest, V1PutsTheTokenInTheJsonBodyNeverInTheUrl) {
  auto r = ToClientRequest(UpdateFileHashListRequest("h", {std::string(32, 'a')}),
                           "https://acme.goskope.com", SecretString("v1-secret"),
                           std::chrono::seconds(30));
  EXPECT_EQ(r.url, "https://acme.goskope.com/api/v1/updateFileHashList");
  EXPECT_EQ(r.url.find("v1-secret"), std::string::npos);
  EXPECT_EQ(r.headers.count("Netskope-Api-Token"), 0u);
  EXPECT_EQ(r.headers["Content-Type"], "application/json");
  EXPECT_EQ(json::parse(r.body),
            (json{{"name", "h"}, {"list", std::string(32, 'a')}, {"token", "v1-secret"}}));
}

TEST(ToClientRequestTest, TheRequestValueNeverHoldsTheToken) {
  TenantRequest request = UpdateFileHashListRequest("h", {std::string(32, 'a')});
  ToClientRequest(request, "https://t", SecretString("v1-secret"), std::chrono::seconds(1));
  EXPECT_FALSE(request.body->contains("token"));
}

TEST(ToClientRequestTest, IteratorIndexIsPercentEncoded) {
  auto r =
      ToClientRequest(AlertIteratorRequest(AlertType::kMalware, "a b&c", IteratorOperation::Next()),
                      "http://127.0.0.1:8080", SecretString("t"), std::chrono::seconds(1));
  EXPECT_EQ(r.url,
            "http://127.0.0.1:8080/api/v2/events/dataexport/alerts/malware?index=a%20b%26c&"
            "operation=next");
}

// The transport may repeat a GET on a new connection by itself; a `next` sent twice would skip a
// page, so only `next` is marked unrepeatable (resend and epochs name fixed positions).
TEST(ToClientRequestTest, OnlyAnIteratorNextIsUnrepeatable) {
  auto wire = [](const IteratorOperation& op) {
    return ToClientRequest(AlertIteratorRequest(AlertType::kMalware, "i", op),
                           "http://127.0.0.1:8080", SecretString("t"), std::chrono::seconds(1));
  };
  EXPECT_EQ(wire(IteratorOperation::Next()).repeatable, std::optional<bool>(false));
  EXPECT_FALSE(wire(IteratorOperation::Resend()).repeatable.has_value());
  EXPECT_FALSE(wire(IteratorOperation::Epoch(1716200000)).repeatable.has_value());
  EXPECT_FALSE(ToClientRequest(GetUrlListRequest(7), "http://127.0.0.1:8080", SecretString("t"),
                               std::chrono::seconds(1))
                   .repeatable.has_value());
}

TEST(EndpointLabelTest, LabelsAreDistinct) {
  std::set<std::string_view> seen;
  for (int e = 0; e <= static_cast<int>(Endpoint::kAlertsMalsite); ++e) {
    EXPECT_TRUE(seen.insert(EndpointLabel(static_cast<Endpoint>(e))).second);
  }
}

}  // namespace
}  // namespace cte::netskope
