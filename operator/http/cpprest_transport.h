// HttpTransport over cpprestsdk, with TLS through OpenSSL (boost::asio::ssl under cpprestsdk).
// This header is light on purpose: cpprestsdk is included only by cpprest_transport.cc.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "operator/http/http_transport.h"

namespace cte::http {

struct TlsOptions {
  // PEM text. An empty CA bundle means the system trust store.
  std::string ca_bundle_pem;
  // What a non-empty bundle means. false (the Kubernetes API server): the bundle is the only trust
  // anchor, as a kubeconfig's certificate-authority-data is. true (a tenant's caBundleSecretRef):
  // the bundle is trusted in addition to the system roots, so a TLS-inspecting proxy's CA can be
  // added without losing the public CAs the tenant's own certificate chains to.
  bool ca_bundle_adds_to_system_roots = false;
  std::string client_cert_pem;
  std::string client_key_pem;
  bool insecure_skip_verify = false;  // only when a kubeconfig says so explicitly
};

struct TransportOptions {
  TlsOptions tls;
  // Proxy URL (e.g. from HTTPS_PROXY); empty means direct. Credentials in it
  // (http://user:pass@proxy:3128) go out as Proxy-Authorization: Basic, never in messages.
  std::string proxy_url;
  // Hosts that bypass the proxy, as NO_PROXY lists them ("localhost,.example.com,10.0.0.1").
  std::string no_proxy;
  // The socket transport refuses a response body above this (ResourceExhausted), so a broken or
  // hostile server cannot grow the process without bound. Streams (watches) are not capped: they
  // are delivered piece by piece.
  size_t max_response_bytes = 256 << 20;
};

// Reads HTTPS_PROXY/https_proxy and NO_PROXY/no_proxy from the environment.
TransportOptions ProxyFromEnvironment(TransportOptions base = {});

// True when `host` matches a NO_PROXY list entry (exact, suffix ".example.com", or "*").
bool HostBypassesProxy(const std::string& host, const std::string& no_proxy);

std::unique_ptr<HttpTransport> NewCpprestTransport(TransportOptions options = {});

}  // namespace cte::http
