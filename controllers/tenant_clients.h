// The tenant clients of the operator, one per NetskopeTenant. The NetskopeTenant reconciler
// builds each from the tenant's resolved Secrets; the alert pollers and the sharing cycle use the
// same client object, so the tenant's rate limiter counts every request the operator sends it.
// A rotated token (or any other change of the connection) replaces the client; the rate limiter
// of a tenant host is kept across replacements, since the tenant's limits are per host.
//
// Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "operator/core/clock.h"
#include "operator/core/log.h"
#include "operator/core/random.h"
#include "operator/core/secret_string.h"
#include "operator/netskope/rate_limiter.h"
#include "operator/netskope/tenant_api_observer.h"
#include "operator/netskope/tenant_client.h"
#include "operator/netskope/transport_options.h"

namespace cte::controllers {

struct TenantConnectionSpec {
  std::string host;      // spec.tenantName: the metrics label and the rate limiter's key
  std::string base_url;  // https://<tenantName>, or spec.apiBaseURL
  SecretString v1_token;
  SecretString v2_token;
  netskope::TenantConnection connection;  // useSystemProxy and the CA bundle

  friend bool operator==(const TenantConnectionSpec& a, const TenantConnectionSpec& b) {
    return a.host == b.host && a.base_url == b.base_url && a.v1_token == b.v1_token &&
           a.v2_token == b.v2_token &&
           a.connection.use_system_proxy == b.connection.use_system_proxy &&
           a.connection.ca_bundle_pem == b.connection.ca_bundle_pem;
  }
};

class TenantClients {
 public:
  // Builds a client for a spec; the default makes a NetskopeClient over the cpprestsdk
  // transport. Tests pass their own.
  using Factory = std::function<std::shared_ptr<netskope::TenantClient>(
      const TenantConnectionSpec&, std::shared_ptr<netskope::TenantRateLimiter>)>;

  TenantClients(Clock& clock, Random& random, netskope::TenantApiObserver* observer, Logger log,
                netskope::TenantRateLimits limits = {});
  void SetFactory(Factory factory) { factory_ = std::move(factory); }
  // The User-Agent of the clients built from now on (default netskope::kUserAgent).
  void SetUserAgent(std::string user_agent) { user_agent_ = std::move(user_agent); }

  // The client of `tenant` ("namespace/name") for `spec`: the existing one when the spec is
  // unchanged, a new one otherwise.
  std::shared_ptr<netskope::TenantClient> Ensure(const std::string& tenant,
                                                 const TenantConnectionSpec& spec);
  // Null when the tenant has no client (not reconciled yet, or its Secrets are missing).
  std::shared_ptr<netskope::TenantClient> Get(const std::string& tenant) const;
  void Remove(const std::string& tenant);

 private:
  struct Entry {
    TenantConnectionSpec spec;
    std::shared_ptr<netskope::TenantClient> client;
  };
  std::shared_ptr<netskope::TenantClient> Build(const TenantConnectionSpec& spec,
                                                std::shared_ptr<netskope::TenantRateLimiter> l);

  Clock& clock_;
  Random& random_;
  netskope::TenantApiObserver* observer_;
  Logger log_;
  netskope::TenantRateLimits limits_;
  Factory factory_;
  std::string user_agent_{netskope::kUserAgent};
  mutable std::mutex mu_;
  std::map<std::string, Entry> clients_;
  std::map<std::string, std::shared_ptr<netskope::TenantRateLimiter>> limiters_;  // by host
};

}  // namespace cte::controllers
