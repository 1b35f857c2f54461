// NetskopeTenant: resolves the tenant's token Secrets (and CA bundle), keeps its client in
// TenantClients, and checks reachability and authentication with one cheap call (the list of URL
// lists, ids and names only) when anything changed and every `recheck` otherwise.
// Ready: Connected | TokensResolved (no v2 token to check with); False: SecretNotFound,
// InvalidToken (Stalled until the Secret or spec changes), TenantUnreachable (retried).
//
// RBAC: netskopetenants get/list/watch, netskopetenants/status update, secrets get/list/watch,
// events create.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "controllers/api/netskope_tenant.h"
#include "controllers/status.h"
#include "controllers/tenant_clients.h"
#include "operator/kube/lister.h"
#include "operator/kube/manager.h"
#include "operator/kube/object_helpers.h"
#include "operator/kube/secret_store.h"

namespace cte::controllers {

class NetskopeTenantReconciler : public kube::Reconciler {
 public:
  NetskopeTenantReconciler(kube::KubeClient& client, Clock& clock,
                           kube::Lister<api::NetskopeTenant>& tenants, kube::SecretStore& secrets,
                           TenantClients& clients, kube::EventRecorder& events,
                           Duration recheck = std::chrono::minutes(5));

  kube::Result Reconcile(const kube::Request& request,
                         const kube::ReconcileContext& context) override;

  // Registers the controller: tenants, and the Secrets they reference.
  kube::Controller& Register(kube::Manager& manager);

 private:
  struct Check {
    std::string fingerprint;  // generation and the Secrets' resourceVersions
    MonoTime at{};
    Health health = Health::kReady;
    std::string reason, message;
  };
  // The tenant's connection from its Secrets; on failure the condition to report.
  StatusOr<TenantConnectionSpec> Resolve(const api::NetskopeTenant& t, std::string* fingerprint,
                                         std::string* reason);
  Check Probe(netskope::TenantClient& client, const api::NetskopeTenant& t,
              const TenantConnectionSpec& spec);

  kube::KubeClient& client_;
  Clock& clock_;
  kube::Lister<api::NetskopeTenant>& tenants_;
  kube::SecretStore& secrets_;
  TenantClients& clients_;
  kube::EventRecorder& events_;
  kube::StatusWriter status_;
  Duration recheck_;
  std::mutex mu_;
  std::map<std::string, Check> checks_;
};

}  // namespace cte::controllers
