#include "operator/netskope/transport_options.h"

#include <cstdlib>

namespace cte::netskope {
namespace {

std::string FirstSet(const EnvLookup& env, const char* a, const char* b) {
  std::string v = env(a);
  return v.empty() ? env(b) : v;
}

}  // namespace

std::string ProcessEnv(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

http::TransportOptions TenantTransportOptions(const TenantConnection& connection,
                                              const EnvLookup& env) {
  http::TransportOptions options;
  options.tls.ca_bundle_pem = connection.ca_bundle_pem;
  // caBundleSecretRef adds to the system roots (a TLS-inspecting proxy's CA); the tenant's own
  // certificate still chains to a public CA.
  options.tls.ca_bundle_adds_to_system_roots = true;
  options.tls.insecure_skip_verify = false;
  if (connection.use_system_proxy) {
    // The same variables (and precedence) as http::ProxyFromEnvironment.
    options.proxy_url = FirstSet(env, "HTTPS_PROXY", "https_proxy");
    options.no_proxy = FirstSet(env, "NO_PROXY", "no_proxy");
  }
  return options;
}

std::unique_ptr<http::HttpTransport> NewTenantTransport(const TenantConnection& connection) {
  return http::NewCpprestTransport(TenantTransportOptions(connection));
}

}  // namespace cte::netskope
