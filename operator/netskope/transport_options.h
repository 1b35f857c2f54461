// How the operator connects to a tenant: TLS verification always on, an optional CA bundle
// (NetskopeTenant caBundleSecretRef, for TLS-inspecting proxies or private endpoints), and the
// system proxy (HTTPS_PROXY / NO_PROXY) only when the tenant says useSystemProxy.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "operator/http/cpprest_transport.h"

namespace cte::netskope {

struct TenantConnection {
  bool use_system_proxy = false;
  // caBundleSecretRef's PEM, trusted in addition to the system roots (never instead of them).
  std::string ca_bundle_pem;
};

// Environment lookup, injectable so tests need not touch the process environment.
using EnvLookup = std::function<std::string(const char* name)>;
std::string ProcessEnv(const char* name);

// Transport options for one tenant. Certificates are always verified: no tenant field turns
// verification off.
http::TransportOptions TenantTransportOptions(const TenantConnection& connection,
                                              const EnvLookup& env = ProcessEnv);

std::unique_ptr<http::HttpTransport> NewTenantTransport(const TenantConnection& connection);

}  // namespace cte::netskope
