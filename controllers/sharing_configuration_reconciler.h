// SharingConfiguration: checks the references (destination a Netskope plugin with a Ready
// tenant, source plugin, business rule), asks the tenant's sync cycle to run when the
// configuration changed or a sync was requested, and reports the cycle's outcome in status:
// listName, listId, counts (matched, shared, truncated, invalid), listEntries, listBytes,
// lastSyncTime, lastSyncResult. Carries a finalizer: on delete, Retract takes its entries back
// (and deploys) before the finalizer goes; Orphan leaves them.
// Ready: Synced | Suspended | Muted; False: SyncPending (Reconciling), SyncFailed,
// TargetConflict, DestinationNotFound, DestinationNotNetskope, TenantNotFound, TenantNotReady,
// SourceNotFound, RuleNotFound, RuleInvalid, InvalidSpec. A Warning Event announces truncation.
//
// RBAC: sharingconfigurations get/list/watch/patch, sharingconfigurations/status update,
// sharingconfigurations/finalizers update, cteplugins, netskopetenants, businessrules
// get/list/watch, events create.
#pragma once

#include "controllers/sharing_resolver.h"
#include "controllers/tenant_sync_reconciler.h"
#include "operator/kube/manager.h"
#include "operator/store/indicator_store.h"

namespace cte::controllers {

class SharingConfigurationReconciler : public kube::Reconciler {
 public:
  SharingConfigurationReconciler(kube::KubeClient& client, Clock& clock,
                                 kube::Lister<api::SharingConfiguration>& sharings,
                                 kube::Lister<api::CtePlugin>& plugins,
                                 kube::Lister<api::NetskopeTenant>& tenants,
                                 kube::Lister<api::BusinessRule>& rules, SharingResolver& resolver,
                                 sharing::SharingEngine& engine, TenantSyncReconciler& sync,
                                 kube::EventRecorder& events);

  kube::Result Reconcile(const kube::Request& request,
                         const kube::ReconcileContext& context) override;

  // Registers the controller: configurations, and the plugins, rules and tenants they use.
  kube::Controller& Register(kube::Manager& manager);

 private:
  kube::Result Finalize(const api::SharingConfiguration& s, const nlohmann::json& raw,
                        const kube::ReconcileContext& ctx);
  void ReportOutcome(const sharing::SyncOutcome& out, const sharing::ResolvedSharing& r,
                     kube::StatusUpdate& update);

  kube::KubeClient& client_;
  Clock& clock_;
  kube::Lister<api::SharingConfiguration>& sharings_;
  kube::Lister<api::CtePlugin>& plugins_;
  kube::Lister<api::NetskopeTenant>& tenants_;
  kube::Lister<api::BusinessRule>& rules_;
  SharingResolver& resolver_;
  sharing::SharingEngine& engine_;
  TenantSyncReconciler& sync_;
  kube::EventRecorder& events_;
  kube::StatusWriter status_;
};

}  // namespace cte::controllers
