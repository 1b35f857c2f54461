#include "operator/http/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "tests/testing/socket_client.h"

namespace cte::http {
namespace {

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Route(
        "GET", "/hello/{name}", [](const HttpRequest& req, const PathParams& p, ResponseWriter& w) {
          w.Send(
              HttpResponse::Text(200, "hi " + p[0].second + " q=" + req.Query("q").value_or("")));
        });
    server_.Route("POST", "/echo",
                  [](const HttpRequest& req, const PathParams&, ResponseWriter& w) {
                    w.Send(HttpResponse::Text(200, req.body));
                  });
    server_.Route("GET", "/files/{path...}",
                  [](const HttpRequest&, const PathParams& p, ResponseWriter& w) {
                    w.Send(HttpResponse::Text(200, p[0].second));
                  });
    server_.Route("GET", "/stream",
                  [this](const HttpRequest&, const PathParams&, ResponseWriter& w) {
                    w.StartStream(200, {{"Content-Type", "application/json"}});
                    w.WriteChunk("{\"n\":1}\n");
                    // Wait until the test says so, then send the second line.
                    std::unique_lock<std::mutex> lock(mu_);
                    cv_.wait(lock, [this] { return release_; });
                    w.WriteChunk("{\"n\":2}\n");
                  });
    ASSERT_TRUE(server_.Start("127.0.0.1", 0).ok());
  }

  HttpServer server_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool release_ = false;
};

TEST_F(HttpServerTest, BindsAnEphemeralPort) { EXPECT_GT(server_.port(), 0); }

TEST_F(HttpServerTest, RoutesWithPathParamsAndQuery) {
  testing::SocketClient c(server_.port());
  ASSERT_TRUE(c.Send("GET /hello/world?q=a%20b HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string resp = c.ReadResponse();
  EXPECT_NE(resp.find("HTTP/1.1 200 OK"), std::string::npos) << resp;
  EXPECT_NE(resp.find("hi world q=a b"), std::string::npos) << resp;
}

TEST_F(HttpServerTest, RestPatternCapturesRemainingSegments) {
  testing::SocketClient c(server_.port());
  c.Send("GET /files/a/b/c HTTP/1.1\r\n\r\n");
  EXPECT_NE(c.ReadResponse().find("a/b/c"), std::string::npos);
}

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  testing::SocketClient c(server_.port());
  c.Send("POST /echo HTTP/1.1\r\nContent-Length: 5\r\n\r\nfirst");
  EXPECT_NE(c.ReadResponse().find("first"), std::string::npos);
  c.Send(
      "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nsec\r\n3\r\nond\r\n0\r\n\r\n");
  EXPECT_NE(c.ReadResponse().find("second"), std::string::npos);
}

TEST_F(HttpServerTest, UnknownPathIs404AndWrongMethodIs405) {
  testing::SocketClient c(server_.port());
  c.Send("GET /nope HTTP/1.1\r\n\r\n");
  EXPECT_NE(c.ReadResponse().find("404"), std::string::npos);
  c.Send("DELETE /echo HTTP/1.1\r\n\r\n");
  EXPECT_NE(c.ReadResponse().find("405"), std::string::npos);
}

TEST_F(HttpServerTest, StreamDeliversChunksAsTheyAreWritten) {
  testing::SocketClient c(server_.port());
  c.Send("GET /stream HTTP/1.1\r\n\r\n");
  std::string first = c.ReadUntil("{\"n\":1}\n");
  EXPECT_NE(first.find("Transfer-Encoding: chunked"), std::string::npos);
  EXPECT_NE(first.find("{\"n\":1}"), std::string::npos);
  {
    std::lock_guard<std::mutex> lock(mu_);
    release_ = true;
  }
  cv_.notify_all();
  EXPECT_NE(c.ReadUntil("{\"n\":2}\n").find("{\"n\":2}"), std::string::npos);
  EXPECT_NE(c.ReadUntil("0\r\n\r\n").find("0\r\n\r\n"), std::string::npos);
}

TEST_F(HttpServerTest, StopClosesOpenStreams) {
  testing::SocketClient c(server_.port());
  c.Send("GET /stream HTTP/1.1\r\n\r\n");
  c.ReadUntil("{\"n\":1}\n");
  {
    std::lock_guard<std::mutex> lock(mu_);
    release_ = true;
  }
  cv_.notify_all();
  server_.Stop();
  c.ReadUntil("never-sent", std::chrono::seconds(5));
  EXPECT_TRUE(c.closed());
}

TEST(BindAddressTest, ParsesControllerRuntimeSpellings) {
  auto all = ParseBindAddress("--metrics-bind-address", ":8080");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->host, "0.0.0.0");
  EXPECT_EQ(all->port, 8080);
  auto loopback = ParseBindAddress("--listen", "127.0.0.1:0");
  ASSERT_TRUE(loopback.ok());
  EXPECT_EQ(loopback->host, "127.0.0.1");
  EXPECT_EQ(loopback->port, 0);
  EXPECT_TRUE(ParseBindAddress("--x", "0")->disabled);
  for (const char* bad : {"8080", "127.0.0.1:", "127.0.0.1:abc", "127.0.0.1:99999", ":-1"}) {
    auto r = ParseBindAddress("--listen", bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("--listen"), std::string::npos);
  }
}

}  // namespace
}  // namespace cte::http
