#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "operator/http/cpprest_transport.h"
#include "operator/http/http_server.h"
#include "operator/http/socket_transport.h"
#include "tests/testing/scripted_server.h"

namespace cte::http {
namespace {

// Both HttpTransport implementations must behave the same; every test runs against each.
using TransportFactory = std::unique_ptr<HttpTransport> (*)(TransportOptions);

class TransportTest : public ::testing::TestWithParam<TransportFactory> {
 protected:
  void SetUp() override {
    server_.Route("POST", "/echo",
                  [](const HttpRequest& req, const PathParams&, ResponseWriter& w) {
                    HttpResponse r = HttpResponse::Json(201, req.body);
                    r.headers["X-Seen-Token"] = req.Header("Netskope-Api-Token");
                    r.headers["X-Seen-Type"] = req.Header("Content-Type");
                    w.Send(r);
                  });
    server_.Route("GET", "/missing", [](const HttpRequest&, const PathParams&, ResponseWriter& w) {
      w.Send(HttpResponse::Json(404, R"({"message":"nope"})"));
    });
    server_.Route("GET", "/stream",
                  [this](const HttpRequest&, const PathParams&, ResponseWriter& w) {
                    w.StartStream(200, {{"Content-Type", "application/json"}});
                    w.WriteChunk("line-1\n");
                    std::unique_lock<std::mutex> lock(mu_);
                    cv_.wait(lock, [this] { return release_; });
                    w.WriteChunk("line-2\n");
                  });
    server_.Route("GET", "/endless", [](const HttpRequest&, const PathParams&, ResponseWriter& w) {
      w.StartStream(200, {});
      w.WriteChunk("x");
      while (!w.Closed()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    });
    server_.Route("GET", "/slow", [this](const HttpRequest&, const PathParams&, ResponseWriter& w) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return release_; });
      w.Send(HttpResponse::Text(200, "late"));
    });
    ASSERT_TRUE(server_.Start("127.0.0.1", 0).ok());
    base_ = "http://127.0.0.1:" + std::to_string(server_.port());
  }
  void TearDown() override {
    Release();
    server_.Stop();
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      release_ = true;
    }
    cv_.notify_all();
  }

  HttpServer server_;
  std::string base_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool release_ = false;
  std::unique_ptr<HttpTransport> transport_ = GetParam()(TransportOptions{});
};

TEST_P(TransportTest, SendsBodyAndHeadersAndReadsTheResponse) {
  ClientRequest req;
  req.method = "POST";
  req.url = base_ + "/echo";
  req.headers["Netskope-Api-Token"] = "t0k3n";
  req.headers["Content-Type"] = "application/json";
  req.body = R"({"a":1})";
  auto resp = transport_->Send(req);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 201);
  EXPECT_EQ(resp->body, R"({"a":1})");
  EXPECT_EQ(resp->Header("x-seen-token"), "t0k3n");
  EXPECT_EQ(resp->Header("X-Seen-Type"), "application/json");
}

TEST_P(TransportTest, HttpErrorsAreResponsesNotTransportFailures) {
  auto resp = transport_->Send({"GET", base_ + "/missing", {}, "", std::chrono::seconds(5)});
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->status, 404);
}

TEST_P(TransportTest, RefusedConnectionIsUnavailable) {
  HttpServer closed;
  ASSERT_TRUE(closed.Start("127.0.0.1", 0).ok());
  int port = closed.port();
  closed.Stop();
  auto resp = transport_->Send(
      {"GET", "http://127.0.0.1:" + std::to_string(port) + "/", {}, "", std::chrono::seconds(5)});
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(resp.status().IsRetryable());
}

TEST_P(TransportTest, SlowServerHitsTheDeadline) {
  auto resp = transport_->Send({"GET", base_ + "/slow", {}, "", std::chrono::milliseconds(200)});
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kDeadlineExceeded) << resp.status().ToString();
}

TEST_P(TransportTest, StreamDeliversDataBeforeTheBodyEnds) {
  CancelToken cancel;
  std::string seen;
  int status = 0;
  Status s = transport_->Stream(
      {"GET", base_ + "/stream", {}, "", std::chrono::seconds(10)}, cancel,
      [&](const ClientResponse& head) { status = head.status; },
      [&](std::string_view data) {
        seen.append(data);
        // The first line arrived while the server is still holding the stream open.
        if (seen == "line-1\n") Release();
        return true;
      });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(status, 200);
  EXPECT_EQ(seen, "line-1\nline-2\n");
}

TEST_P(TransportTest, CancelStopsAnOpenStream) {
  CancelToken cancel;
  std::thread canceller;
  Status s = transport_->Stream(
      {"GET", base_ + "/endless", {}, "", std::chrono::seconds(10)}, cancel,
      [](const ClientResponse&) {},
      [&](std::string_view) {
        if (!canceller.joinable()) canceller = std::thread([&] { cancel.Cancel(); });
        return true;
      });
  canceller.join();
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(cancel.cancelled());
}

TEST_P(TransportTest, KeepAliveReusesTheConnectionAcrossRequests) {
  const uint64_t before = server_.connections_accepted();
  for (int i = 0; i < 20; ++i) {
    ClientRequest req;
    req.method = "POST";
    req.url = base_ + "/echo";
    req.headers["Content-Type"] = "application/json";
    req.body = std::to_string(i);
    auto resp = transport_->Send(req);
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    EXPECT_EQ(resp->body, std::to_string(i));
  }
  // Sequential requests share pooled connections instead of connecting twenty times. The socket
  // transport pools a connection before Send returns, so one carries all twenty; cpprestsdk
  // returns it to its pool on its own thread after handing over the response, so the next request
  // sometimes finds the pool empty and opens another.
  const uint64_t opened = server_.connections_accepted() - before;
  if (GetParam() == &NewSocketTransport) {
    EXPECT_EQ(opened, 1u);
  } else {
    EXPECT_LE(opened, 4u);
  }
}

TEST_P(TransportTest, StreamSilenceTimeoutIsDeadlineExceeded) {
  CancelToken cancel;
  std::string seen;
  Status s = transport_->Stream(
      {"GET", base_ + "/stream", {}, "", std::chrono::milliseconds(200)}, cancel,
      [](const ClientResponse&) {},
      [&](std::string_view d) {
        seen.append(d);
        return true;
      });
  EXPECT_EQ(seen, "line-1\n");
  EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded) << s.ToString();
}

TEST_P(TransportTest, AHeaderValueWithALineBreakIsRefusedBeforeSending) {
  const uint64_t before = server_.connections_accepted();
  ClientRequest req{"GET", base_ + "/missing", {}, "", std::chrono::seconds(5)};
  req.headers["X-Injected"] = "a\r\nX-Evil: 1";
  auto resp = transport_->Send(req);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(resp.status().message().find("X-Injected"), std::string::npos);
  EXPECT_EQ(server_.connections_accepted(), before);
}

TEST_P(TransportTest, ProxyCredentialsGoOutAsProxyAuthorization) {
  std::mutex mu;
  std::string seen;
  cte::testing::ScriptedServer proxy([&](int fd, int) {
    std::string carry;
    std::string request = cte::testing::ScriptedServer::ReadRequest(fd, carry);
    {
      std::lock_guard<std::mutex> lock(mu);
      seen += request;
    }
    cte::testing::ScriptedServer::Write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    cte::testing::ScriptedServer::ReadRequest(fd, carry);
  });
  TransportOptions options;
  options.proxy_url = "http://svc:s3cret@127.0.0.1:" + std::to_string(proxy.port());
  auto transport = GetParam()(options);
  auto resp = transport->Send({"GET", "http://tenant.example/x", {}, "", std::chrono::seconds(5)});
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->body, "ok");
  std::lock_guard<std::mutex> lock(mu);
  // base64("svc:s3cret")
  EXPECT_NE(seen.find("Basic c3ZjOnMzY3JldA=="), std::string::npos) << seen;
  EXPECT_EQ(seen.find("s3cret@"), std::string::npos) << seen;
}

// The server answers the first request of each connection and closes a connection when another
// request arrives on it: a pooled connection gone stale just as it is reused. Both transports
// resend a repeatable request then; one marked unrepeatable (an iterator's `next`) must reach the
// server once, so it goes on a connection of its own.
TEST_P(TransportTest, AnUnrepeatableRequestIsSentOnceOnAConnectionOfItsOwn) {
  std::mutex mu;
  std::vector<std::string> lines;
  cte::testing::ScriptedServer server([&](int fd, int) {
    std::string carry;
    for (int n = 0;; ++n) {
      std::string request = cte::testing::ScriptedServer::ReadRequest(fd, carry);
      if (request.empty()) return;
      {
        std::lock_guard<std::mutex> lock(mu);
        lines.push_back(request.substr(0, request.find("\r\n")));
      }
      if (n > 0) return;
      cte::testing::ScriptedServer::Write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    }
  });
  ASSERT_TRUE(
      transport_->Send({"GET", server.url() + "/warm", {}, "", std::chrono::seconds(10)}).ok());
  ClientRequest next{
      "GET", server.url() + "/page?operation=next", {}, "", std::chrono::seconds(10)};
  next.repeatable = false;
  auto resp = transport_->Send(next);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->body, "ok");
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(lines,
            (std::vector<std::string>{"GET /warm HTTP/1.1", "GET /page?operation=next HTTP/1.1"}));
  EXPECT_EQ(server.connections(), 2);
}

INSTANTIATE_TEST_SUITE_P(Implementations, TransportTest,
                         ::testing::Values(&NewCpprestTransport, &NewSocketTransport),
                         [](const ::testing::TestParamInfo<TransportFactory>& param_info) {
                           return std::string(param_info.index == 0 ? "Cpprest" : "Socket");
                         });

TEST(NoProxyTest, MatchesExactSuffixAndWildcard) {
  EXPECT_TRUE(HostBypassesProxy("localhost", "localhost,.example.com"));
  EXPECT_TRUE(HostBypassesProxy("a.example.com", "localhost,.example.com"));
  EXPECT_TRUE(HostBypassesProxy("a.example.com", "example.com"));
  EXPECT_FALSE(HostBypassesProxy("example.org", "example.com"));
  EXPECT_FALSE(HostBypassesProxy("badexample.com", "example.com"));
  EXPECT_TRUE(HostBypassesProxy("anything", "*"));
  EXPECT_FALSE(HostBypassesProxy("acme.goskope.com", ""));
}

}  // namespace
}  // namespace cte::http
