// Tests operator/http/http_server.cc over real sockets on loopback: routing and streaming, the
// framing rules an attacker probes (smuggling, oversized headers and bodies, trailers), the
// deadlines and the connection cap, HEAD and HTTP/1.0, header injection, and the fault-injection
// hooks the test tools use (Abort, CloseAllConnections). Deadlines are set to a few hundred
// milliseconds and waited for with a bound; nothing sleeps for correctness.
#include "operator/http/http_server.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/testing/socket_client.h"

namespace cte::http {
namespace {

using cte::testing::SocketClient;
using std::chrono::milliseconds;

// Polls `condition` until it holds or `timeout` passes.
template <typename F>
bool WaitFor(F condition, milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

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
    server_.Route("GET", "/inject",
                  [](const HttpRequest& req, const PathParams&, ResponseWriter& w) {
                    HttpResponse r = HttpResponse::Text(200, "ok\n");
                    r.headers["X-Echo"] = req.Query("v").value_or("");
                    w.Send(r);
                  });
    server_.Route("GET", "/throw", [](const HttpRequest&, const PathParams&, ResponseWriter&) {
      throw std::runtime_error("database password is hunter2");
    });
    server_.Route("GET", "/reset",
                  [](const HttpRequest&, const PathParams&, ResponseWriter& w) { w.Abort(); });
    server_.Route("GET", "/whoami",
                  [](const HttpRequest& req, const PathParams&, ResponseWriter& w) {
                    w.Send(HttpResponse::Text(200, req.remote_address));
                  });
    RouteOptions small;
    small.max_body_bytes = 16;
    server_.Route(
        "POST", "/small",
        [](const HttpRequest& req, const PathParams&, ResponseWriter& w) {
          w.Send(HttpResponse::Text(200, req.body));
        },
        small);
    RouteOptions guarded;
    guarded.max_body_bytes = 64;
    guarded.too_large = HttpResponse::Json(413, R"({"detail":"too large for /ingest"})");
    guarded.on_refused = [this](const HttpRequest& head, int status) {
      std::lock_guard<std::mutex> lock(mu_);
      refused_.push_back(std::to_string(status) + " " + head.Header("Authorization"));
    };
    guarded.before_body = [this](const HttpRequest& head) -> std::optional<HttpResponse> {
      std::lock_guard<std::mutex> lock(mu_);
      hook_saw_body_ = hook_saw_body_ || !head.body.empty();
      hook_remote_ = head.remote_address;
      if (head.Header("Authorization") != "Bearer good") {
        return HttpResponse::Json(401, R"({"error":"unauthorized"})");
      }
      return std::nullopt;
    };
    server_.Route(
        "POST", "/ingest",
        [](const HttpRequest& req, const PathParams&, ResponseWriter& w) {
          w.Send(HttpResponse::Text(200, std::to_string(req.body.size())));
        },
        guarded);
    ASSERT_TRUE(server_.Start("127.0.0.1", 0).ok());
  }

  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      release_ = true;
    }
    cv_.notify_all();
  }

  void TearDown() override {
    Release();
    server_.Stop();
  }

  // Sends `request` on a fresh connection and returns everything until the server closes it.
  std::string Exchange(const std::string& request) {
    SocketClient c(server_.port());
    c.Send(request);
    return c.ReadToClose();
  }

  HttpServer server_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool release_ = false;
  bool hook_saw_body_ = false;
  std::string hook_remote_;
  std::vector<std::string> refused_;  // on_refused calls: "<status> <Authorization>"
};

TEST_F(HttpServerTest, BindsAnEphemeralPort) { EXPECT_GT(server_.port(), 0); }

TEST_F(HttpServerTest, RoutesWithPathParamsAndQuery) {
  SocketClient c(server_.port());
  ASSERT_TRUE(c.Send("GET /hello/world?q=a%20b HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string resp = c.ReadResponse();
  EXPECT_NE(resp.find("HTTP/1.1 200 OK"), std::string::npos) << resp;
  EXPECT_NE(resp.find("hi world q=a b"), std::string::npos) << resp;
}

TEST_F(HttpServerTest, RestPatternCapturesRemainingSegments) {
  SocketClient c(server_.port());
  c.Send("GET /files/a/b/c HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(c.ReadResponse().find("a/b/c"), std::string::npos);
}

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  SocketClient c(server_.port());
  c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nfirst");
  EXPECT_NE(c.ReadResponse().find("first"), std::string::npos);
  c.Send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
      "chunked\r\n\r\n3\r\nsec\r\n3\r\nond\r\n0"
      "\r\n\r\n");
  EXPECT_NE(c.ReadResponse().find("second"), std::string::npos);
  EXPECT_EQ(server_.connections_accepted(), 1u);
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  SocketClient c(server_.port());
  c.Send(
      "GET /hello/a HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: "
      "3\r\n\r\nbcdGET /hello/e HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(c.ReadResponse().find("hi a"), std::string::npos);
  EXPECT_NE(c.ReadResponse().find("bcd"), std::string::npos);
  EXPECT_NE(c.ReadResponse().find("hi e"), std::string::npos);
}

TEST_F(HttpServerTest, UnknownPathIs404AndWrongMethodIs405) {
  SocketClient c(server_.port());
  c.Send("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(c.ReadResponse().find("404"), std::string::npos);
  c.Send("DELETE /echo HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(c.ReadResponse().find("405"), std::string::npos);
}

TEST_F(HttpServerTest, StreamDeliversChunksAsTheyAreWritten) {
  SocketClient c(server_.port());
  c.Send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string first = c.ReadUntil("{\"n\":1}\n");
  EXPECT_NE(first.find("Transfer-Encoding: chunked"), std::string::npos);
  EXPECT_NE(first.find("{\"n\":1}"), std::string::npos);
  Release();
  EXPECT_NE(c.ReadUntil("{\"n\":2}\n").find("{\"n\":2}"), std::string::npos);
  EXPECT_NE(c.ReadUntil("0\r\n\r\n").find("0\r\n\r\n"), std::string::npos);
}

TEST_F(HttpServerTest, StopClosesOpenStreams) {
  SocketClient c(server_.port());
  c.Send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  c.ReadUntil("{\"n\":1}\n");
  Release();
  server_.Stop();
  c.ReadUntil("never-sent", std::chrono::seconds(5));
  EXPECT_TRUE(c.closed());
}

// ---- Framing an attacker would try (request smuggling and friends): 400 and close. ----------

struct Smuggle {
  const char* name;
  std::string request;
};

class SmugglingTest : public HttpServerTest, public ::testing::WithParamInterface<Smuggle> {};

TEST_P(SmugglingTest, IsRefusedWith400AndTheConnectionClosed) {
  std::string out = Exchange(GetParam().request);
  EXPECT_EQ(out.rfind("HTTP/1.1 400 ", 0), 0u) << out;
  EXPECT_NE(out.find("Connection: close"), std::string::npos) << out;
  // Nothing after the refusal was taken for a second request.
  EXPECT_EQ(out.find("HTTP/1.1", 1), std::string::npos) << out;
}

INSTANTIATE_TEST_SUITE_P(
    Framing, SmugglingTest,
    ::testing::Values(
        Smuggle{"DuplicateContentLength",
                "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"
                "helloGET /hello/smuggled HTTP/1.1\r\nHost: x\r\n\r\n"},
        Smuggle{"ContentLengthList",
                "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nhello"},
        Smuggle{"ContentLengthAndChunked",
                "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: "
                "chunked\r\n\r\n0\r\n\r\nGET /hello/smuggled HTTP/1.1\r\nHost: x\r\n\r\n"},
        Smuggle{"ChunkedAndContentLength",
                "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: "
                "4\r\n\r\n0\r\n\r\n"},
        Smuggle{
            "OtherTransferEncoding",
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"},
        Smuggle{"ChunkSizeOverflow",
                "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                "10000000000000001\r\nx\r\n0\r\n\r\n"},
        Smuggle{"ChunkSizeNotHex",
                "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nx\r\n"},
        Smuggle{"Trailers",
                "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
                "0\r\nX-Trailer: 1\r\n\r\nGET /hello/smuggled HTTP/1.1\r\nHost: x\r\n\r\n"},
        Smuggle{"MissingHost", "GET /hello/a HTTP/1.1\r\n\r\n"},
        Smuggle{"TwoHosts", "GET /hello/a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"},
        Smuggle{"BareLineFeeds", "GET /hello/a HTTP/1.1\nHost: x\n\n"},
        Smuggle{"NulInHeader",
                std::string("GET /hello/a HTTP/1.1\r\nHost: x\r\nX: a") + '\0' + "b\r\n\r\n"},
        Smuggle{"AuthorityTarget", "GET evil:80 HTTP/1.1\r\nHost: x\r\n\r\n"}),
    [](const ::testing::TestParamInfo<Smuggle>& param_info) {
      return std::string(param_info.param.name);
    });

TEST_F(HttpServerTest, AbsoluteFormTargetIsRoutedByItsPathWithItsAuthorityAsHost) {
  server_.Stop();
  HttpServer proxy_like;
  proxy_like.Route(
      "GET", "/api/{x}", [](const HttpRequest& req, const PathParams&, ResponseWriter& w) {
        w.Send(HttpResponse::Text(200, req.Header("Host") + " " + req.path + " " + req.raw_query));
      });
  ASSERT_TRUE(proxy_like.Start("127.0.0.1", 0).ok());
  SocketClient c(proxy_like.port());
  c.Send("GET http://tenant.example:8080/api/lists?a=1 HTTP/1.1\r\nHost: other\r\n\r\n");
  EXPECT_NE(c.ReadResponse().find("tenant.example:8080 /api/lists a=1"), std::string::npos);
}

TEST_F(HttpServerTest, HeaderBlockOverTheLimitIs431) {
  std::string out = Exchange(
      "GET /hello/a HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 431 ", 0), 0u) << out.substr(0, 200);
}

TEST_F(HttpServerTest, BodyAboveTheRouteLimitIsRefusedBeforeItIsSent) {
  SocketClient c(server_.port());
  // Only the headers go out; the 64 MiB are never sent, yet the answer comes.
  c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 67108864\r\n\r\n");
  std::string out = c.ReadToClose();
  EXPECT_EQ(out.rfind("HTTP/1.1 413 ", 0), 0u) << out;
  EXPECT_TRUE(c.closed());
}

TEST_F(HttpServerTest, ChunkedBodyThatGrowsPastTheLimitIs413) {
  std::string out = Exchange(
      "POST /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n"
      "a\r\n0123456789\r\n0\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 413 ", 0), 0u) << out;
}

TEST_F(HttpServerTest, ExpectContinueIsAnsweredBeforeTheBodyIsSent) {
  SocketClient c(server_.port());
  c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(c.ReadUntil("\r\n\r\n"), "HTTP/1.1 100 Continue\r\n\r\n");
  c.Send("hello");
  std::string out = c.ReadResponse();
  EXPECT_NE(out.find("HTTP/1.1 200 OK"), std::string::npos) << out;
  EXPECT_NE(out.find("hello"), std::string::npos) << out;
}

TEST_F(HttpServerTest, ExpectContinueForATooLargeBodyGets413Instead) {
  SocketClient c(server_.port());
  c.Send("POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n");
  std::string out = c.ReadToClose();
  EXPECT_EQ(out.rfind("HTTP/1.1 413 ", 0), 0u) << out;
  EXPECT_EQ(out.find("100 Continue"), std::string::npos) << out;
}

TEST_F(HttpServerTest, BeforeBodyHookRefusesWithoutReadingTheBody) {
  SocketClient c(server_.port());
  c.Send("POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Length: 16000000\r\n\r\n");
  std::string out = c.ReadToClose();
  EXPECT_EQ(out.rfind("HTTP/1.1 401 ", 0), 0u) << out;
  EXPECT_NE(out.find("unauthorized"), std::string::npos);
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_FALSE(hook_saw_body_);
  EXPECT_EQ(hook_remote_.rfind("127.0.0.1:", 0), 0u) << hook_remote_;
}

TEST_F(HttpServerTest, BeforeBodyHookAnswersBeforeTheSizeLimitAndTheRoutesOwn413After) {
  // Over the limit and without a token: the hook's refusal comes first (checked above, with a
  // Content-Length far over the route's 64 bytes). With a token: the route's own 413, before any
  // body byte is read or a 100 Continue sent.
  SocketClient c(server_.port());
  c.Send(
      "POST /ingest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nContent-Length: 65\r\n"
      "Expect: 100-continue\r\n\r\n");
  std::string out = c.ReadToClose();
  EXPECT_EQ(out.rfind("HTTP/1.1 413 ", 0), 0u) << out;
  EXPECT_NE(out.find(R"({"detail":"too large for /ingest"})"), std::string::npos) << out;
  EXPECT_EQ(out.find("100 Continue"), std::string::npos) << out;
  // A chunked body that grows past the limit gets the same answer.
  std::string chunked = Exchange(
      "POST /ingest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\n"
      "Transfer-Encoding: chunked\r\n\r\n40\r\n" +
      std::string(64, 'a') + "\r\n1\r\nb\r\n0\r\n\r\n");
  EXPECT_EQ(chunked.rfind("HTTP/1.1 413 ", 0), 0u) << chunked;
  EXPECT_NE(chunked.find("too large for /ingest"), std::string::npos) << chunked;
  // Both refusals came from the server, not the handler: the route heard of them (metrics).
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(refused_, (std::vector<std::string>{"413 Bearer good", "413 Bearer good"}));
}

TEST_F(HttpServerTest, AMalformedBodyIsRefusedAndTheRouteHearsOfIt) {
  std::string out = Exchange(
      "POST /ingest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\n"
      "Transfer-Encoding: chunked\r\n\r\nzz\r\nx\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 400 ", 0), 0u) << out;
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(refused_, std::vector<std::string>{"400 Bearer good"});
}

TEST_F(HttpServerTest, BeforeBodyHookLetsTheRequestThrough) {
  SocketClient c(server_.port());
  c.Send(
      "POST /ingest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nContent-Length: 7\r\n"
      "\r\npayload");
  std::string out = c.ReadResponse();
  EXPECT_NE(out.find("HTTP/1.1 200 OK"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\n\r\n7"), std::string::npos) << out;
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_FALSE(hook_saw_body_);
}

TEST_F(HttpServerTest, HeadAnswersLikeGetWithoutABody) {
  SocketClient c(server_.port());
  c.Send(
      "HEAD /hello/world HTTP/1.1\r\nHost: x\r\n\r\nGET /hello/again HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string head = c.ReadUntil("\r\n\r\n");
  EXPECT_NE(head.find("HTTP/1.1 200 OK"), std::string::npos) << head;
  EXPECT_NE(head.find("Content-Length: 11"), std::string::npos) << head;  // "hi world q="
  // The next bytes are the second response: the HEAD answer carried no body.
  std::string next = c.ReadResponse();
  EXPECT_EQ(next.rfind("HTTP/1.1 200 OK", 0), 0u) << next;
  EXPECT_NE(next.find("hi again"), std::string::npos) << next;
}

TEST_F(HttpServerTest, Http10ClientGetsAStreamWithoutChunkedEncoding) {
  SocketClient c(server_.port());
  c.Send("GET /stream HTTP/1.0\r\n\r\n");
  c.ReadUntil("{\"n\":1}\n");
  Release();
  std::string rest = c.ReadToClose();
  EXPECT_TRUE(c.closed());
  EXPECT_NE(rest.find("{\"n\":2}\n"), std::string::npos) << rest;
  EXPECT_EQ(rest.find("0\r\n\r\n"), std::string::npos) << rest;
}

TEST_F(HttpServerTest, Http10ResponseHasNoChunkedHeader) {
  SocketClient c(server_.port());
  c.Send("GET /stream HTTP/1.0\r\n\r\n");
  std::string head = c.ReadUntil("\r\n\r\n");
  EXPECT_EQ(head.rfind("HTTP/1.0 200 OK", 0), 0u) << head;
  EXPECT_EQ(head.find("chunked"), std::string::npos) << head;
}

TEST_F(HttpServerTest, HeaderValueWithCrLfNeverReachesTheWire) {
  SocketClient c(server_.port());
  c.Send("GET /inject?v=a%0d%0aSet-Cookie:%20evil=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string out = c.ReadResponse();
  EXPECT_NE(out.find("HTTP/1.1 500 "), std::string::npos) << out;
  EXPECT_EQ(out.find("Set-Cookie"), std::string::npos) << out;
}

TEST_F(HttpServerTest, HandlerExceptionIs500WithoutItsText) {
  std::string out = Exchange("GET /throw HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 500 ", 0), 0u) << out;
  EXPECT_EQ(out.find("hunter2"), std::string::npos) << out;
}

TEST_F(HttpServerTest, RequestCarriesTheRemoteAddress) {
  SocketClient c(server_.port());
  c.Send("GET /whoami HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(c.ReadResponse().find("\r\n\r\n127.0.0.1:"), std::string::npos);
}

TEST_F(HttpServerTest, AbortResetsTheConnection) {
  SocketClient c(server_.port());
  c.Send("GET /reset HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string out = c.ReadToClose();
  EXPECT_TRUE(out.empty()) << out;
  EXPECT_TRUE(c.reset());
}

TEST_F(HttpServerTest, CloseAllConnectionsEndsStreamsAndKeepsServing) {
  SocketClient c(server_.port());
  c.Send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  c.ReadUntil("{\"n\":1}\n");
  server_.CloseAllConnections();
  c.ReadToClose();
  EXPECT_TRUE(c.closed());
  SocketClient again(server_.port());
  again.Send("GET /hello/back HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(again.ReadResponse().find("hi back"), std::string::npos);
}

// ---- Deadlines, the connection cap, descriptors ----------------------------------------------

HttpServerOptions FastDeadlines() {
  HttpServerOptions o;
  o.header_timeout = milliseconds(300);
  o.body_timeout = milliseconds(300);
  o.idle_timeout = milliseconds(300);
  o.write_timeout = milliseconds(300);
  return o;
}

void AddHello(HttpServer& s) {
  s.Route("GET", "/ok", [](const HttpRequest&, const PathParams&, ResponseWriter& w) {
    w.Send(HttpResponse::Text(200, "ok\n"));
  });
}

TEST(HttpServerDeadlineTest, SlowHeaderIsCutAtTheHeaderDeadline) {
  HttpServer server(FastDeadlines());
  AddHello(server);
  ASSERT_TRUE(server.Start("127.0.0.1", 0).ok());
  SocketClient slow(server.port());
  auto start = std::chrono::steady_clock::now();
  slow.Send("GET /ok HTTP/1.1\r\nHost: x\r\nX-Slow: a");  // and then nothing
  slow.ReadToClose(std::chrono::seconds(10));
  EXPECT_TRUE(slow.closed());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  SocketClient fine(server.port());
  fine.Send("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(fine.ReadResponse().find("200 OK"), std::string::npos);
}

TEST(HttpServerDeadlineTest, SilentConnectionIsCutAtTheHeaderDeadline) {
  HttpServer server(FastDeadlines());
  AddHello(server);
  ASSERT_TRUE(server.Start("127.0.0.1", 0).ok());
  SocketClient idle(server.port());
  idle.ReadToClose(std::chrono::seconds(10));
  EXPECT_TRUE(idle.closed());
}

TEST(HttpServerDeadlineTest, SlowBodyIsCutAtTheBodyDeadline) {
  HttpServer server(FastDeadlines());
  server.Route("POST", "/up", [](const HttpRequest&, const PathParams&, ResponseWriter& w) {
    w.Send(HttpResponse::Text(200, "ok\n"));
  });
  ASSERT_TRUE(server.Start("127.0.0.1", 0).ok());
  SocketClient c(server.port());
  c.Send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly a little");
  std::string out = c.ReadToClose(std::chrono::seconds(10));
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(out.find("200 OK"), std::string::npos) << out;
}

TEST(HttpServerDeadlineTest, IdleKeepAliveConnectionIsClosed) {
  HttpServer server(FastDeadlines());
  AddHello(server);
  ASSERT_TRUE(server.Start("127.0.0.1", 0).ok());
  SocketClient c(server.port());
  c.Send("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(c.ReadResponse().find("200 OK"), std::string::npos);
  c.ReadToClose(std::chrono::seconds(10));
  EXPECT_TRUE(c.closed());
  EXPECT_TRUE(WaitFor([&] { return server.open_connections() == 0; }));
}

TEST(HttpServerDeadlineTest, WriteTimeoutCutsAPeerThatStopsReading) {
  HttpServer server(FastDeadlines());
  std::mutex mu;
  std::condition_variable cv;
  bool handler_done = false;
  server.Route("GET", "/firehose", [&](const HttpRequest&, const PathParams&, ResponseWriter& w) {
    w.StartStream(200, {});
    const std::string piece(64 * 1024, 'x');
    while (w.WriteChunk(piece)) {
    }
    std::lock_guard<std::mutex> lock(mu);
    handler_done = true;
    cv.notify_all();
  });
  ASSERT_TRUE(server.Start("127.0.0.1", 0).ok());
  SocketClient reader_that_never_reads(server.port());
  int small = 4096;
  ::setsockopt(reader_that_never_reads.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  reader_that_never_reads.Send("GET /firehose HTTP/1.1\r\nHost: x\r\n\r\n");
  std::unique_lock<std::mutex> lock(mu);
  EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return handler_done; }));
}

TEST(HttpServerCapTest, ConnectionsOverTheCapGet503AndAreClosed) {
  HttpServerOptions o;
  o.max_connections = 2;
  HttpServer server(o);
  AddHello(server);
  ASSERT_TRUE(server.Start("127.0.0.1", 0).ok());
  auto a = std::make_unique<SocketClient>(server.port());
  SocketClient b(server.port());
  ASSERT_TRUE(WaitFor([&] { return server.open_connections() == 2; }));
  SocketClient over(server.port());
  std::string out = over.ReadToClose();
  EXPECT_EQ(out.rfind("HTTP/1.1 503 ", 0), 0u) << out;
  EXPECT_TRUE(over.closed());
  // The connections under the cap still work, and a slot that frees up is usable again.
  b.Send("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(b.ReadResponse().find("200 OK"), std::string::npos);
  a.reset();
  ASSERT_TRUE(WaitFor([&] { return server.open_connections() == 1; }));
  SocketClient next(server.port());
  next.Send("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(next.ReadResponse().find("200 OK"), std::string::npos);
}

TEST(HttpServerCapTest, AcceptBacksOffWhenOutOfDescriptorsAndRecovers) {
  auto sink = std::make_shared<MemorySink>();
  HttpServerOptions o;
  o.log = Logger(sink, LogLevel::kDebug);
  HttpServer server(o);
  AddHello(server);
  ASSERT_TRUE(server.Start("127.0.0.1", 0).ok());
  // The client socket exists before the process runs out of descriptors.
  int client = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(client, 0);
  rlimit original{};
  ::getrlimit(RLIMIT_NOFILE, &original);
  rlimit low = original;
  low.rlim_cur = static_cast<rlim_t>(client) + 32;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  std::vector<int> burned;
  for (int fd; (fd = ::dup(client)) >= 0;) burned.push_back(fd);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server.port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  // The server cannot accept it now, says so, and keeps trying.
  bool backed_off = WaitFor([&] { return sink->All().find("backing off") != std::string::npos; });
  for (int fd : burned) ::close(fd);
  ::setrlimit(RLIMIT_NOFILE, &original);
  EXPECT_TRUE(backed_off);
  const char kRequest[] = "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(client, kRequest, sizeof(kRequest) - 1, MSG_NOSIGNAL),
            static_cast<ssize_t>(sizeof(kRequest) - 1));
  pollfd p{client, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 10000), 1);
  char buf[256] = {};
  ssize_t n = ::recv(client, buf, sizeof(buf) - 1, 0);
  ::close(client);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf).rfind("HTTP/1.1 200 OK", 0), 0u) << buf;
}

TEST(HttpServerAddressTest, ServesOnIpv6Loopback) {
  HttpServer server;
  server.Route("GET", "/whoami", [](const HttpRequest& req, const PathParams&, ResponseWriter& w) {
    w.Send(HttpResponse::Text(200, req.remote_address));
  });
  Status s = server.Start("::1", 0);
  if (!s.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << s.ToString();
  SocketClient c(server.port(), "::1");
  ASSERT_TRUE(c.connected());
  c.Send("GET /whoami HTTP/1.1\r\nHost: [::1]\r\n\r\n");
  EXPECT_NE(c.ReadResponse().find("\r\n\r\n[::1]:"), std::string::npos);
}

TEST(HttpServerAddressTest, RefusesAHostName) {
  HttpServer server;
  Status s = server.Start("localhost", 0);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("localhost"), std::string::npos);
}

TEST(HeaderValidationTest, RefusesControlCharactersAndNonTokenNames) {
  EXPECT_TRUE(IsValidHeaderValue("text/plain; charset=utf-8"));
  EXPECT_TRUE(IsValidHeaderValue("a\tb"));
  EXPECT_FALSE(IsValidHeaderValue("a\r\nSet-Cookie: x"));
  EXPECT_FALSE(IsValidHeaderValue("a\nb"));
  EXPECT_FALSE(IsValidHeaderValue(std::string("a\0b", 3)));
  EXPECT_TRUE(IsValidHeaderName("X-Request-Id"));
  EXPECT_FALSE(IsValidHeaderName("X Bad"));
  EXPECT_FALSE(IsValidHeaderName("X:Bad"));
  EXPECT_FALSE(IsValidHeaderName(""));
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
  auto v6 = ParseBindAddress("--listen", "[::1]:8443");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 8443);
  EXPECT_TRUE(ParseBindAddress("--x", "0")->disabled);
  for (const char* bad :
       {"8080", "127.0.0.1:", "127.0.0.1:abc", "127.0.0.1:99999", ":-1", "::1:8080"}) {
    auto r = ParseBindAddress("--listen", bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("--listen"), std::string::npos);
  }
}

}  // namespace
}  // namespace cte::http
