// Resolves a SharingConfiguration against the caches: its destination plugin (which must be of
// type Netskope) and that plugin's tenant, its source plugin and its business rule (compiled,
// once per rule version). Shared by the SharingConfiguration reconciler, which reports what is
// missing, and the tenant sync cycle, which needs the resolved form.
//
// Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "controllers/api/business_rule.h"
#include "controllers/api/cte_plugin.h"
#include "controllers/api/netskope_tenant.h"
#include "controllers/api/sharing_configuration.h"
#include "controllers/status.h"
#include "controllers/tenant_clients.h"
#include "operator/kube/lister.h"
#include "operator/sharing/engine.h"

namespace cte::controllers {

struct Resolution {
  Status status;  // Ok, or what is missing
  Health health = Health::kReady;
  std::string reason;      // when not Ok: the condition reason
  std::string tenant_key;  // "namespace/tenant" once the destination resolves, else empty
  sharing::ResolvedSharing resolved;  // complete when status is Ok
};

class SharingResolver {
 public:
  SharingResolver(kube::Lister<api::CtePlugin>& plugins, kube::Lister<api::NetskopeTenant>& tenants,
                  kube::Lister<api::BusinessRule>& rules, TenantClients& clients);

  Resolution Resolve(const api::SharingConfiguration& s, const nlohmann::json& raw);
  // The tenant a configuration writes to, when its destination resolves.
  std::optional<std::string> TenantOf(const api::SharingConfiguration& s);

 private:
  StatusOr<std::shared_ptr<const sharing::CompiledRule>> Rule(const std::string& ns,
                                                              const std::string& name);

  kube::Lister<api::CtePlugin>& plugins_;
  kube::Lister<api::NetskopeTenant>& tenants_;
  kube::Lister<api::BusinessRule>& rules_;
  TenantClients& clients_;
  std::mutex mu_;
  // Compiled rules by "namespace/name", with the version they were compiled from.
  std::map<std::string, std::pair<std::string, std::shared_ptr<const sharing::CompiledRule>>>
      compiled_;
};

}  // namespace cte::controllers
