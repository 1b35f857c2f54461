// CTEPlugin: checks the type rules and references (the CRD's CEL rules too, since the local API
// server does not evaluate CEL), starts and stops the alert pollers of a Netskope plugin, and
// registers an APISource plugin's client credentials with the ingest API (a rotated Secret takes
// effect at the next reconcile, which the Secret watch triggers within about a second). Status:
// the plugin's indicators in the store (active and total), the last poll and its error.
// Ready: Polling | Receiving | Ready; False: TenantNotFound, TenantNotReady, TenantInvalid,
// SecretNotFound, SecretUnavailable (retried with backoff), ClientIdInUse (retried every
// refresh), InvalidSpec (Stalled).
//
// RBAC: cteplugins get/list/watch, cteplugins/status update, netskopetenants get/list/watch,
// secrets get/list/watch, events create.
#pragma once

#include <chrono>

#include "controllers/api/cte_plugin.h"
#include "controllers/api/netskope_tenant.h"
#include "controllers/status.h"
#include "controllers/tenant_clients.h"
#include "operator/ingest/credentials_registry.h"
#include "operator/kube/lister.h"
#include "operator/kube/manager.h"
#include "operator/kube/secret_store.h"
#include "operator/sources/netskope_poller.h"
#include "operator/store/indicator_store.h"

namespace cte::controllers {

class CtePluginReconciler : public kube::Reconciler {
 public:
  CtePluginReconciler(kube::KubeClient& client, Clock& clock, kube::Lister<api::CtePlugin>& plugins,
                      kube::Lister<api::NetskopeTenant>& tenants, kube::SecretStore& secrets,
                      TenantClients& clients, sources::AlertPollers& pollers,
                      ingest::StaticCredentialsRegistry& credentials, store::IndicatorStore& store,
                      kube::EventRecorder& events, Duration refresh = std::chrono::minutes(1));

  kube::Result Reconcile(const kube::Request& request,
                         const kube::ReconcileContext& context) override;

  // Registers the controller: plugins, their tenants and their Secrets.
  kube::Controller& Register(kube::Manager& manager);
  // A change of a plugin's indicators in the store refreshes its counts `delay` later (one
  // status write for a burst of pushes).
  void Subscribe(store::IndicatorStore& store, Duration delay = std::chrono::seconds(5));

 private:
  // What keeps the plugin from working, or Ok; sets `reason`.
  Status ApplyNetskope(const api::CtePlugin& p, const store::SourceRef& ref, std::string* reason);
  Status ApplyApiSource(const api::CtePlugin& p, const store::SourceRef& ref, std::string* reason);
  void AddCounts(const store::SourceRef& ref, kube::StatusUpdate& update);

  kube::KubeClient& client_;
  Clock& clock_;
  kube::Lister<api::CtePlugin>& plugins_;
  kube::Lister<api::NetskopeTenant>& tenants_;
  kube::SecretStore& secrets_;
  TenantClients& clients_;
  sources::AlertPollers& pollers_;
  ingest::StaticCredentialsRegistry& credentials_;
  store::IndicatorStore& store_;
  kube::EventRecorder& events_;
  kube::StatusWriter status_;
  Duration refresh_;
  kube::Controller* controller_ = nullptr;
  std::unique_ptr<store::Subscription> subscription_;
};

}  // namespace cte::controllers
