#include "controllers/tenant_clients.h"

#include "operator/netskope/netskope_client.h"

namespace cte::controllers {

namespace {

// A NetskopeClient together with the transport it sends through (which must outlive it).
struct OwnedClient {
  std::unique_ptr<http::HttpTransport> transport;
  std::unique_ptr<netskope::NetskopeClient> client;
};

}  // namespace

TenantClients::TenantClients(Clock& clock, Random& random, netskope::TenantApiObserver* observer,
                             Logger log, netskope::TenantRateLimits limits)
    : clock_(clock), random_(random), observer_(observer), log_(std::move(log)), limits_(limits) {}

std::shared_ptr<netskope::TenantClient> TenantClients::Build(
    const TenantConnectionSpec& spec, std::shared_ptr<netskope::TenantRateLimiter> limiter) {
  if (factory_) return factory_(spec, std::move(limiter));
  auto owned = std::make_shared<OwnedClient>();
  owned->transport = netskope::NewTenantTransport(spec.connection);
  netskope::NetskopeClientOptions options;
  options.tenant = spec.host;
  options.base_url = spec.base_url;
  options.v1_token = spec.v1_token;
  options.v2_token = spec.v2_token;
  options.user_agent = user_agent_;
  owned->client = std::make_unique<netskope::NetskopeClient>(
      options, *owned->transport, clock_, random_, std::move(limiter), observer_, log_);
  // Aliasing: the client lives as long as anyone holds it, and its transport with it.
  return std::shared_ptr<netskope::TenantClient>(owned, owned->client.get());
}

std::shared_ptr<netskope::TenantClient> TenantClients::Ensure(const std::string& tenant,
                                                              const TenantConnectionSpec& spec) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = clients_.find(tenant);
  if (it != clients_.end() && it->second.spec == spec) return it->second.client;
  auto& limiter = limiters_[spec.host];
  if (!limiter) limiter = std::make_shared<netskope::TenantRateLimiter>(clock_, limits_);
  auto client = Build(spec, limiter);
  clients_[tenant] = {spec, client};
  return client;
}

std::shared_ptr<netskope::TenantClient> TenantClients::Get(const std::string& tenant) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = clients_.find(tenant);
  return it == clients_.end() ? nullptr : it->second.client;
}

void TenantClients::Remove(const std::string& tenant) {
  std::lock_guard<std::mutex> lock(mu_);
  clients_.erase(tenant);
}

}  // namespace cte::controllers
