// The socket transport against servers that misbehave on purpose (tests/testing/scripted_server.h):
// response framing read with Beast's parser (trailers, chunk sizes, the response size cap), the
// keep-alive pool's stale-connection retry (repeatable requests only), the cancel hook racing the
// end of a stream, and proxy credentials.
#include "operator/http/socket_transport.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "operator/core/base64.h"
#include "operator/http/http_server.h"
#include "tests/testing/scripted_server.h"

namespace cte::http {
namespace {

using cte::testing::ScriptedServer;

constexpr char kOk[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

ClientRequest Get(const std::string& url) { return {"GET", url, {}, "", std::chrono::seconds(10)}; }

TEST(SocketTransportTest, TrailersAreConsumedAndTheConnectionIsReused) {
  ScriptedServer server([](int fd, int) {
    std::string carry;
    ScriptedServer::ReadRequest(fd, carry);
    ScriptedServer::Write(fd,
                          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n"
                          "X-Checksum: abc\r\n\r\n");
    // The second request must come on this connection, after a clean end of the first.
    if (ScriptedServer::ReadRequest(fd, carry).empty()) return;
    ScriptedServer::Write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntwo");
    ScriptedServer::ReadRequest(fd, carry);
  });
  auto transport = NewSocketTransport();
  auto first = transport->Send(Get(server.url() + "/a"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->body, "ok");
  auto second = transport->Send(Get(server.url() + "/b"));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->body, "two");
  EXPECT_EQ(server.connections(), 1);
}

TEST(SocketTransportTest, AnOverflowingChunkSizeIsAMalformedResponse) {
  ScriptedServer server([](int fd, int) {
    std::string carry;
    ScriptedServer::ReadRequest(fd, carry);
    ScriptedServer::Write(fd,
                          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "10000000000000001\r\nx\r\n");
    ScriptedServer::ReadRequest(fd, carry);
  });
  auto resp = NewSocketTransport()->Send(Get(server.url() + "/"));
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(resp.status().message().find("malformed response"), std::string::npos)
      << resp.status().message();
}

TEST(SocketTransportTest, AResponseAboveTheCapIsRefusedWithoutWaitingForIt) {
  ScriptedServer server([](int fd, int) {
    std::string carry;
    ScriptedServer::ReadRequest(fd, carry);
    // Announces a gigabyte, sends a little, then waits for the client to hang up.
    ScriptedServer::Write(
        fd, "HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n" + std::string(4096, 'x'));
    ScriptedServer::ReadRequest(fd, carry);
  });
  TransportOptions options;
  options.max_response_bytes = 1024;
  auto resp = NewSocketTransport(options)->Send(Get(server.url() + "/"));
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kResourceExhausted) << resp.status().ToString();
  EXPECT_NE(resp.status().message().find("1024"), std::string::npos);
}

TEST(SocketTransportTest, InterimContinueIsSkipped) {
  ScriptedServer server([](int fd, int) {
    std::string carry;
    ScriptedServer::ReadRequest(fd, carry);
    ScriptedServer::Write(fd, std::string("HTTP/1.1 100 Continue\r\n\r\n") + kOk);
    ScriptedServer::ReadRequest(fd, carry);
  });
  auto resp = NewSocketTransport()->Send(Get(server.url() + "/"));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->body, "ok");
}

TEST(SocketTransportTest, BodyUntilCloseIsReadToTheEnd) {
  ScriptedServer server([](int fd, int) {
    std::string carry;
    ScriptedServer::ReadRequest(fd, carry);
    ScriptedServer::Write(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it");
  });
  auto resp = NewSocketTransport()->Send(Get(server.url() + "/"));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->body, "all of it");
}

TEST(SocketTransportTest, ATruncatedBodyIsAnError) {
  ScriptedServer server([](int fd, int) {
    std::string carry;
    ScriptedServer::ReadRequest(fd, carry);
    ScriptedServer::Write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");
  });
  auto resp = NewSocketTransport()->Send(Get(server.url() + "/"));
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kUnavailable);
}

// The server answers the first request of each connection, then closes the connection when the
// next request arrives on it without answering: what a client sees when the server's idle
// timeout closed a pooled connection just as it was reused.
class StaleConnectionTest : public ::testing::Test {
 protected:
  ScriptedServer server_{[this](int fd, int) {
    std::string carry;
    for (int n = 0;; ++n) {
      std::string request = ScriptedServer::ReadRequest(fd, carry);
      if (request.empty()) return;
      {
        std::lock_guard<std::mutex> lock(mu_);
        methods_.push_back(request.substr(0, request.find(' ')));
      }
      if (n > 0) return;  // closed "while idle"
      ScriptedServer::Write(fd, kOk);
    }
  }};
  std::vector<std::string> Methods() {
    std::lock_guard<std::mutex> lock(mu_);
    return methods_;
  }
  std::mutex mu_;
  std::vector<std::string> methods_;
  std::unique_ptr<HttpTransport> transport_ = NewSocketTransport();
};

TEST_F(StaleConnectionTest, AnIdempotentRequestIsRetriedOnceOnANewConnection) {
  ASSERT_TRUE(transport_->Send(Get(server_.url() + "/warm")).ok());
  ClientRequest put{"PUT", server_.url() + "/x", {}, "{}", std::chrono::seconds(10)};
  auto resp = transport_->Send(put);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->body, "ok");
  EXPECT_EQ(server_.connections(), 2);
  EXPECT_EQ(Methods(), (std::vector<std::string>{"GET", "PUT", "PUT"}));
}

TEST_F(StaleConnectionTest, APostIsNeverSentTwice) {
  ASSERT_TRUE(transport_->Send(Get(server_.url() + "/warm")).ok());
  for (const char* method : {"POST", "PATCH"}) {
    ClientRequest write{method, server_.url() + "/x", {}, "{}", std::chrono::seconds(10)};
    auto resp = transport_->Send(write);
    ASSERT_FALSE(resp.ok()) << method;
    EXPECT_EQ(resp.status().code(), StatusCode::kUnavailable);
    // Re-warm the pool for the next method.
    ASSERT_TRUE(transport_->Send(Get(server_.url() + "/warm")).ok());
  }
  EXPECT_EQ(Methods(), (std::vector<std::string>{"GET", "POST", "GET", "PATCH", "GET"}));
}

// A POST the caller marks repeatable is resent like a PUT.
TEST_F(StaleConnectionTest, APostMarkedRepeatableIsRetried) {
  ASSERT_TRUE(transport_->Send(Get(server_.url() + "/warm")).ok());
  ClientRequest post{"POST", server_.url() + "/x", {}, "{}", std::chrono::seconds(10)};
  post.repeatable = true;
  ASSERT_TRUE(transport_->Send(post).ok());
  EXPECT_EQ(Methods(), (std::vector<std::string>{"GET", "POST", "POST"}));
}

TEST(CancelTokenTest, ClearingTheHookWaitsForARunningHook) {
  CancelToken token;
  std::atomic<bool> in_hook{false};
  std::atomic<bool> release{false};
  token.OnCancel([&] {
    in_hook = true;
    while (!release) std::this_thread::yield();
    in_hook = false;
  });
  std::thread canceller([&] { token.Cancel(); });
  while (!in_hook) std::this_thread::yield();
  std::atomic<bool> cleared{false};
  std::atomic<bool> hook_running_after_clear{true};
  std::thread transport([&] {
    token.OnCancel(nullptr);  // what a transport does before freeing its connection
    hook_running_after_clear = in_hook.load();
    cleared = true;
  });
  // Give a broken token every chance to return early; a correct one waits for the hook.
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  while (!cleared && std::chrono::steady_clock::now() < until) std::this_thread::yield();
  release = true;
  transport.join();
  canceller.join();
  EXPECT_FALSE(hook_running_after_clear);
}

TEST(SocketTransportCancelTest, CancelRacingTheEndOfAStreamIsSafe) {
  HttpServer server;
  server.Route("GET", "/short", [](const HttpRequest&, const PathParams&, ResponseWriter& w) {
    w.StartStream(200, {});
    w.WriteChunk("a");
    w.WriteChunk("b");
  });
  ASSERT_TRUE(server.Start("127.0.0.1", 0).ok());
  auto transport = NewSocketTransport();
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/short";
  for (int i = 0; i < 200; ++i) {
    CancelToken cancel;
    std::thread canceller([&] {
      for (int spin = 0; spin < i % 50; ++spin) std::this_thread::yield();
      cancel.Cancel();
    });
    Status s = transport->Stream(
        {"GET", url, {}, "", std::chrono::seconds(10)}, cancel, [](const ClientResponse&) {},
        [](std::string_view) { return true; });
    canceller.join();
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
}

// A forward proxy that records the Proxy-Authorization it gets and answers every request itself.
TEST(ProxyCredentialsTest, CredentialsInTheProxyUrlGoOutAsBasicAuth) {
  std::mutex mu;
  std::vector<std::string> seen;
  ScriptedServer proxy([&](int fd, int) {
    std::string carry;
    std::string request = ScriptedServer::ReadRequest(fd, carry);
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(request);
    ScriptedServer::Write(fd, kOk);
  });
  TransportOptions options;
  options.proxy_url = "http://svc-user:p%40ss:w0rd@127.0.0.1:" + std::to_string(proxy.port());
  auto resp = NewSocketTransport(options)->Send(Get("http://tenant.example/api/v2/x"));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].rfind("GET http://tenant.example/api/v2/x HTTP/1.1\r\n", 0), 0u) << seen[0];
  EXPECT_NE(seen[0].find("Proxy-Authorization: Basic " + Base64Encode("svc-user:p@ss:w0rd")),
            std::string::npos)
      << seen[0];
  EXPECT_NE(seen[0].find("Host: tenant.example\r\n"), std::string::npos) << seen[0];
}

TEST(ProxyCredentialsTest, ErrorsNeverRepeatTheProxyPassword) {
  TransportOptions options;
  options.proxy_url = "https://user:hunter2@proxy.example:3128";
  auto resp = NewSocketTransport(options)->Send(Get("https://tenant.example/"));
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().message().find("hunter2"), std::string::npos) << resp.status().message();
  EXPECT_NE(resp.status().message().find("user:***@proxy.example"), std::string::npos)
      << resp.status().message();
}

}  // namespace
}  // namespace cte::http
