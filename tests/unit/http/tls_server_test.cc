// Tests the TLS side of operator/http/http_server.cc with an OpenSSL client: HTTPS from PEM files,
// rotation in place picked up by new connections, a broken pair that keeps the old one serving,
// TLS 1.2 as the floor, and the handshake deadline.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "operator/http/http_server.h"
#include "tests/testing/socket_client.h"
#include "tests/testing/test_certs.h"

namespace cte::http {
namespace {

using cte::testing::MakeCertificate;
using cte::testing::Pem;
using cte::testing::ScratchDir;

struct TlsResult {
  bool handshake = false;
  std::string peer_cn;
  std::string response;
};

// One HTTPS GET with OpenSSL, trusting `ca_pem` only. `max_version` caps the protocol.
TlsResult HttpsGet(int port, const std::string& ca_pem, const std::string& path,
                   int max_version = 0) {
  TlsResult out;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (max_version) {
    SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
    SSL_CTX_set_max_proto_version(ctx, max_version);
    SSL_CTX_set_security_level(ctx, 0);  // let the client offer TLS 1.0/1.1 at all
  }
  X509* ca = cte::testing::ReadCert(ca_pem);
  X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca);
  X509_free(ca);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1");
    if (SSL_connect(ssl) == 1) {
      out.handshake = true;
      X509* peer = SSL_get1_peer_certificate(ssl);
      out.peer_cn = cte::testing::CommonName(peer);
      X509_free(peer);
      std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
      SSL_write(ssl, req.data(), static_cast<int>(req.size()));
      char buf[4096];
      int n;
      while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0) out.response.append(buf, n);
    }
    SSL_free(ssl);
  }
  ERR_clear_error();
  ::close(fd);
  SSL_CTX_free(ctx);
  return out;
}

class TlsServerTest : public ::testing::Test {
 protected:
  void StartServer(std::chrono::milliseconds reload_every = std::chrono::milliseconds(0)) {
    cert_file_ = dir_.Write("tls.crt", a_.cert);
    key_file_ = dir_.Write("tls.key", a_.key);
    HttpServerOptions o;
    o.tls = TlsServerOptions{cert_file_, key_file_, reload_every};
    o.handshake_timeout = std::chrono::milliseconds(300);
    o.log = Logger(sink_, LogLevel::kDebug);
    server_ = std::make_unique<HttpServer>(o);
    server_->Route("GET", "/hello", [](const HttpRequest&, const PathParams&, ResponseWriter& w) {
      w.Send(HttpResponse::Text(200, "hello over tls\n"));
    });
    ASSERT_TRUE(server_->Start("127.0.0.1", 0).ok());
  }

  // Two servers' worth of certificates, both signed by one CA the client trusts.
  Pem ca_ = MakeCertificate("test-ca", "");
  Pem a_ = MakeCertificate("server-a", "IP:127.0.0.1", &ca_, false);
  Pem b_ = MakeCertificate("server-b", "IP:127.0.0.1", &ca_, false);
  ScratchDir dir_;
  std::string cert_file_, key_file_;
  std::shared_ptr<MemorySink> sink_ = std::make_shared<MemorySink>();
  std::unique_ptr<HttpServer> server_;
};

TEST_F(TlsServerTest, ServesHttpsWithTheConfiguredCertificate) {
  StartServer();
  TlsResult r = HttpsGet(server_->port(), ca_.cert, "/hello");
  ASSERT_TRUE(r.handshake);
  EXPECT_EQ(r.peer_cn, "server-a");
  EXPECT_NE(r.response.find("HTTP/1.1 200 OK"), std::string::npos) << r.response;
  EXPECT_NE(r.response.find("hello over tls"), std::string::npos) << r.response;
}

TEST_F(TlsServerTest, NewConnectionsGetACertificateRotatedInPlace) {
  StartServer();
  ASSERT_EQ(HttpsGet(server_->port(), ca_.cert, "/hello").peer_cn, "server-a");
  // cert-manager (through the Secret volume) replaces both files.
  dir_.Write("tls.crt", b_.cert);
  dir_.Write("tls.key", b_.key);
  TlsResult r = HttpsGet(server_->port(), ca_.cert, "/hello");
  EXPECT_EQ(r.peer_cn, "server-b");
  EXPECT_NE(r.response.find("hello over tls"), std::string::npos);
  EXPECT_NE(sink_->All().find("TLS certificate reloaded"), std::string::npos);
}

TEST_F(TlsServerTest, AHalfWrittenRotationKeepsTheOldPairServing) {
  StartServer();
  // The new certificate is there, its key not yet: the pair does not match.
  dir_.Write("tls.crt", b_.cert);
  TlsResult r = HttpsGet(server_->port(), ca_.cert, "/hello");
  EXPECT_EQ(r.peer_cn, "server-a");
  EXPECT_NE(r.response.find("hello over tls"), std::string::npos);
  EXPECT_NE(sink_->All().find("TLS certificate reload failed"), std::string::npos);
  EXPECT_EQ(sink_->All().find("BEGIN"), std::string::npos);  // no key material in the logs
  // Once the key follows, the next connection gets the new pair.
  dir_.Write("tls.key", b_.key);
  EXPECT_EQ(HttpsGet(server_->port(), ca_.cert, "/hello").peer_cn, "server-b");
}

TEST_F(TlsServerTest, RefusesTls11) {
  StartServer();
  TlsResult r = HttpsGet(server_->port(), ca_.cert, "/hello", TLS1_1_VERSION);
  EXPECT_FALSE(r.handshake);
  TlsResult ok = HttpsGet(server_->port(), ca_.cert, "/hello", TLS1_2_VERSION);
  EXPECT_TRUE(ok.handshake);
  EXPECT_NE(ok.response.find("hello over tls"), std::string::npos);
}

TEST_F(TlsServerTest, ASilentClientIsCutAtTheHandshakeDeadline) {
  StartServer();
  cte::testing::SocketClient silent(server_->port());
  auto start = std::chrono::steady_clock::now();
  silent.ReadToClose(std::chrono::seconds(10));
  EXPECT_TRUE(silent.closed());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(TlsServerTest, PlainHttpToTheTlsPortIsDropped) {
  StartServer();
  cte::testing::SocketClient plain(server_->port());
  plain.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string out = plain.ReadToClose(std::chrono::seconds(10));
  EXPECT_TRUE(plain.closed());
  EXPECT_EQ(out.find("hello over tls"), std::string::npos);
  EXPECT_TRUE(HttpsGet(server_->port(), ca_.cert, "/hello").handshake);
}

TEST_F(TlsServerTest, StartFailsWhenTheFilesAreMissingOrDoNotMatch) {
  HttpServerOptions o;
  o.tls = TlsServerOptions{dir_.path() + "/absent.crt", dir_.path() + "/absent.key"};
  HttpServer missing(o);
  Status s = missing.Start("127.0.0.1", 0);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("absent.crt"), std::string::npos) << s.message();

  o.tls = TlsServerOptions{dir_.Write("a.crt", a_.cert), dir_.Write("b.key", b_.key)};
  HttpServer mismatched(o);
  s = mismatched.Start("127.0.0.1", 0);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("mismatch"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace cte::http
