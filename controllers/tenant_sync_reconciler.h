// The sync cycle of one NetskopeTenant (keyed by the tenant, not one of the four kinds): all the
// SharingConfigurations that write to the tenant, in one pass through the sharing engine, then
// one deploy. It runs when a configuration asks (its reconciler), when the store changes for a
// source one of them reads (debounced, so a burst of pushes becomes one tenant write), when the
// tenant changes, and every syncInterval (the shortest of its configurations) to catch drift made
// by hand on the tenant. A tenant's cycles never overlap (the work queue serializes a key).
// A cycle that failed for a passing reason (429, 5xx, timeout, failed deploy) is retried with the
// queue's backoff, the tenant's Retry-After as its floor.
//
// RBAC: none beyond what the caches need (sharingconfigurations, cteplugins, netskopetenants,
// businessrules get/list/watch).
#pragma once

#include <memory>

#include "controllers/sharing_resolver.h"
#include "operator/kube/manager.h"
#include "operator/sharing/engine.h"
#include "operator/store/indicator_store.h"

namespace cte::controllers {

class TenantSyncReconciler : public kube::Reconciler {
 public:
  TenantSyncReconciler(kube::Lister<api::SharingConfiguration>& sharings, SharingResolver& resolver,
                       TenantClients& clients, sharing::SharingEngine& engine,
                       Duration debounce = std::chrono::seconds(1));

  kube::Result Reconcile(const kube::Request& request,
                         const kube::ReconcileContext& context) override;

  // Registers the "tenantsync" controller with `workers` workers (tenants synced at once; a
  // tenant's cycles never overlap). `sharing_controller` gets the configurations whose outcome
  // changed, so their status follows.
  kube::Controller& Register(kube::Manager& manager, kube::Controller& sharing_controller,
                             int workers);
  // Asks for a cycle of `tenant` now.
  void Trigger(const std::string& tenant);
  // Starts listening to the store: a change of a source schedules the cycles of the tenants its
  // configurations write to, `debounce` later.
  void Subscribe(store::IndicatorStore& store);

 private:
  kube::Lister<api::SharingConfiguration>& sharings_;
  SharingResolver& resolver_;
  TenantClients& clients_;
  sharing::SharingEngine& engine_;
  Duration debounce_;
  kube::Controller* controller_ = nullptr;
  kube::Controller* sharing_controller_ = nullptr;
  std::unique_ptr<store::Subscription> subscription_;
};

}  // namespace cte::controllers
