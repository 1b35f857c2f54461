// The local API server against hostile input over real HTTP on 127.0.0.1:0: bodies nested deep
// enough to overflow a recursive copy, a watch timeout that would overflow the deadline, and
// names checked with RE2.
#include <gtest/gtest.h>

#include <thread>

#include "hack/local-apiserver/api_server.h"
#include "operator/core/json_util.h"
#include "operator/http/socket_transport.h"

namespace cte::apiserver {
namespace {

class ApiServerInputTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start("127.0.0.1", 0).ok()); }
  void TearDown() override { server_.Stop(); }

  http::ClientResponse Send(const std::string& method, const std::string& path,
                            const std::string& body = "") {
    http::ClientRequest req{method, server_.url() + path, {}, body, std::chrono::seconds(10)};
    if (!body.empty()) req.headers["Content-Type"] = "application/json";
    auto r = transport_->Send(req);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::ClientResponse{};
  }

  ApiServer server_;
  std::unique_ptr<http::HttpTransport> transport_ = http::NewSocketTransport();
};

TEST_F(ApiServerInputTest, DeeplyNestedJsonIs400AndTheServerKeepsServing) {
  std::string deep = std::string(65000, '[') + std::string(65000, ']');
  auto r =
      Send("POST", "/api/v1/namespaces/default/configmaps",
           R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":)" + deep + "}");
  EXPECT_EQ(r.status, 400) << r.body.substr(0, 300);
  EXPECT_NE(r.body.find("nested more than"), std::string::npos) << r.body.substr(0, 300);
  EXPECT_EQ(Send("GET", "/api/v1/namespaces/default").status, 200);
}

TEST_F(ApiServerInputTest, NamesAreCheckedAsDns1123Subdomains) {
  auto bad = Send("POST", "/api/v1/namespaces/default/configmaps",
                  R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Bad_Name"}})");
  EXPECT_EQ(bad.status, 422) << bad.body;
  auto good = Send("POST", "/api/v1/namespaces/default/configmaps",
                   R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"good.name-1"}})");
  EXPECT_EQ(good.status, 201) << good.body;
}

TEST_F(ApiServerInputTest, AHugeWatchTimeoutKeepsTheWatchOpen) {
  // 2^63-1 seconds: added to "now" unchecked it overflows, and the watch ended at once.
  http::CancelToken cancel;
  std::string seen;
  std::thread writer;
  Status s = transport_->Stream(
      {"GET",
       server_.url() +
           "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=9223372036854775807",
       {},
       "",
       std::chrono::seconds(10)},
      cancel,
      [&](const http::ClientResponse& head) {
        EXPECT_EQ(head.status, 200);
        // Created after the watch started: only a watch that stayed open sees it.
        writer = std::thread([&] {
          Send("POST", "/api/v1/namespaces/default/configmaps",
               R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"later"}})");
        });
      },
      [&](std::string_view data) {
        seen.append(data);
        if (seen.find("\"later\"") != std::string::npos) cancel.Cancel();
        return true;
      });
  if (writer.joinable()) writer.join();
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_NE(seen.find("\"type\":\"ADDED\""), std::string::npos) << seen;
  EXPECT_NE(seen.find("\"later\""), std::string::npos) << seen;
}

}  // namespace
}  // namespace cte::apiserver
