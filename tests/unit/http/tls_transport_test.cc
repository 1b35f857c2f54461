// TLS behaviour of both HttpTransport implementations against an in-process OpenSSL server with
// certificates made for the test: verification on by default, a CA bundle as trust anchor,
// hostname checking, insecure-skip-verify, and client certificates (kubeconfig auth).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "operator/http/cpprest_transport.h"
#include "operator/http/socket_transport.h"
#include "tests/testing/scoped_env.h"
#include "tests/testing/scripted_server.h"
#include "tests/testing/test_certs.h"

namespace cte::http {
namespace {

using cte::testing::MakeCertificate;
using cte::testing::Pem;

SSL_CTX* ServerContext(const Pem& server, const std::string& client_ca_pem) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  BIO* cb = BIO_new_mem_buf(server.cert.data(), static_cast<int>(server.cert.size()));
  X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  BIO* kb = BIO_new_mem_buf(server.key.data(), static_cast<int>(server.key.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  SSL_CTX_use_certificate(ctx, cert);
  SSL_CTX_use_PrivateKey(ctx, key);
  X509_free(cert);
  EVP_PKEY_free(key);
  BIO_free(cb);
  BIO_free(kb);
  if (!client_ca_pem.empty()) {
    BIO* ca = BIO_new_mem_buf(client_ca_pem.data(), static_cast<int>(client_ca_pem.size()));
    X509* ca_cert = PEM_read_bio_X509(ca, nullptr, nullptr, nullptr);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca_cert);
    X509_free(ca_cert);
    BIO_free(ca);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return ctx;
}

// Answers every TLS connection with "ok" until destroyed.
class TlsServer {
 public:
  TlsServer(const Pem& cert, const std::string& client_ca_pem = "")
      : ctx_(ServerContext(cert, client_ca_pem)) {
    fd_ = cte::testing::ListenOnLoopback(port_);
    thread_ = std::thread([this] { Loop(); });
  }
  ~TlsServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
    SSL_CTX_free(ctx_);
  }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_) + "/"; }

 private:
  void Loop() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, c);
      if (SSL_accept(ssl) == 1) {
        std::string req;
        char buf[4096];
        while (req.find("\r\n\r\n") == std::string::npos) {
          int n = SSL_read(ssl, buf, sizeof(buf));
          if (n <= 0) break;
          req.append(buf, static_cast<size_t>(n));
        }
        const char kAnswer[] =
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
        SSL_write(ssl, kAnswer, sizeof(kAnswer) - 1);
        SSL_shutdown(ssl);
      }
      SSL_free(ssl);
      ::close(c);
    }
  }

  SSL_CTX* ctx_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

using TransportFactory = std::unique_ptr<HttpTransport> (*)(TransportOptions);

class TlsTransportTest : public ::testing::TestWithParam<TransportFactory> {
 protected:
  StatusOr<ClientResponse> Get(const std::string& url, TlsOptions tls) {
    TransportOptions o;
    o.tls = std::move(tls);
    auto transport = GetParam()(o);
    return transport->Send({"GET", url, {}, "", std::chrono::seconds(10)});
  }
  Pem server_ = MakeCertificate("127.0.0.1", "IP:127.0.0.1");
};

TEST_P(TlsTransportTest, TrustsTheConfiguredCaBundle) {
  TlsServer server(server_);
  TlsOptions tls;
  tls.ca_bundle_pem = server_.cert;
  auto resp = Get(server.url(), tls);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->body, "ok");
}

TEST_P(TlsTransportTest, VerifiesByDefaultAndRejectsAnUnknownIssuer) {
  TlsServer server(server_);
  auto resp = Get(server.url(), {});
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kUnavailable) << resp.status().ToString();
}

TEST_P(TlsTransportTest, RejectsACertificateForAnotherHost) {
  Pem other = MakeCertificate("other.example", "DNS:other.example");
  TlsServer server(other);
  TlsOptions tls;
  tls.ca_bundle_pem = other.cert;  // trusted issuer, wrong name
  auto resp = Get(server.url(), tls);
  ASSERT_FALSE(resp.ok());
}

TEST_P(TlsTransportTest, InsecureSkipVerifyConnectsAnyway) {
  TlsServer server(server_);
  TlsOptions tls;
  tls.insecure_skip_verify = true;
  auto resp = Get(server.url(), tls);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->body, "ok");
}

TEST_P(TlsTransportTest, PresentsTheClientCertificate) {
  Pem client = MakeCertificate("operator", "DNS:operator");
  TlsServer server(server_, client.cert);
  TlsOptions tls;
  tls.ca_bundle_pem = server_.cert;
  EXPECT_FALSE(Get(server.url(), tls).ok());  // no client certificate: refused
  tls.client_cert_pem = client.cert;
  tls.client_key_pem = client.key;
  auto resp = Get(server.url(), tls);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->body, "ok");
}

// A stand-in for the system trust store: OpenSSL's default paths honour SSL_CERT_FILE.
class CaBundleTest : public TlsTransportTest {
 protected:
  Pem public_ca_ = MakeCertificate("public-ca", "");
  Pem proxy_ca_ = MakeCertificate("inspecting-proxy-ca", "");
  Pem public_site_ = MakeCertificate("127.0.0.1", "IP:127.0.0.1", &public_ca_, false);
  Pem inspected_site_ = MakeCertificate("127.0.0.1", "IP:127.0.0.1", &proxy_ca_, false);
  cte::testing::ScratchDir dir_;
  cte::testing::ScopedEnv system_roots_{"SSL_CERT_FILE",
                                        dir_.Write("system-roots.pem", public_ca_.cert)};
};

TEST_P(CaBundleTest, ATenantBundleAddsToTheSystemRoots) {
  TlsOptions tenant;
  tenant.ca_bundle_pem = proxy_ca_.cert;
  tenant.ca_bundle_adds_to_system_roots = true;
  TlsServer through_proxy(inspected_site_);
  auto inspected = Get(through_proxy.url(), tenant);
  ASSERT_TRUE(inspected.ok()) << inspected.status().ToString();
  EXPECT_EQ(inspected->body, "ok");
  TlsServer direct(public_site_);
  auto public_chain = Get(direct.url(), tenant);
  ASSERT_TRUE(public_chain.ok()) << public_chain.status().ToString();
  EXPECT_EQ(public_chain->body, "ok");
}

TEST_P(CaBundleTest, AKubeconfigCaIsTheOnlyTrustAnchor) {
  TlsOptions kube;
  kube.ca_bundle_pem = proxy_ca_.cert;
  TlsServer signed_by_it(inspected_site_);
  EXPECT_TRUE(Get(signed_by_it.url(), kube).ok());
  TlsServer signed_by_a_system_root(public_site_);
  auto resp = Get(signed_by_a_system_root.url(), kube);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kUnavailable);
}

TEST_P(CaBundleTest, NoBundleMeansTheSystemRoots) {
  TlsServer direct(public_site_);
  EXPECT_TRUE(Get(direct.url(), {}).ok());
  TlsServer through_proxy(inspected_site_);
  EXPECT_FALSE(Get(through_proxy.url(), {}).ok());
}

INSTANTIATE_TEST_SUITE_P(Implementations, CaBundleTest,
                         ::testing::Values(&NewCpprestTransport, &NewSocketTransport),
                         [](const ::testing::TestParamInfo<TransportFactory>& param_info) {
                           return std::string(param_info.index == 0 ? "Cpprest" : "Socket");
                         });

INSTANTIATE_TEST_SUITE_P(Implementations, TlsTransportTest,
                         ::testing::Values(&NewCpprestTransport, &NewSocketTransport),
                         [](const ::testing::TestParamInfo<TransportFactory>& param_info) {
                           return std::string(param_info.index == 0 ? "Cpprest" : "Socket");
                         });

}  // namespace
}  // namespace cte::http
