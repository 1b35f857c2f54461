#include "controllers/tenant_sync_reconciler.h"

#include <algorithm>

#include "controllers/indexes.h"
#include "operator/kube/object_helpers.h"

namespace cte::controllers {

TenantSyncReconciler::TenantSyncReconciler(kube::Lister<api::SharingConfiguration>& sharings,
                                           SharingResolver& resolver, TenantClients& clients,
                                           sharing::SharingEngine& engine, Duration debounce)
    : sharings_(sharings),
      resolver_(resolver),
      clients_(clients),
      engine_(engine),
      debounce_(debounce) {}

kube::Controller& TenantSyncReconciler::Register(kube::Manager& manager,
                                                 kube::Controller& sharing_controller,
                                                 int workers) {
  // A cycle spends most of its time waiting for its tenant's rate limiter, not on CPU: with the
  // manager's default (2 workers) 100 tenants would be synced two at a time.
  kube::ControllerOptions options = manager.options().controller_defaults;
  options.workers = workers;
  controller_ = &manager.AddController("tenantsync", *this, options);
  sharing_controller_ = &sharing_controller;
  return *controller_;
}

void TenantSyncReconciler::Trigger(const std::string& tenant) {
  if (controller_) controller_->queue().Add(tenant);
}

void TenantSyncReconciler::Subscribe(store::IndicatorStore& store) {
  subscription_ = store.Subscribe([this](const store::ChangeEvent& e) {
    if (!controller_) return;
    for (const auto& s : sharings_.ByIndex(kByPlugin, e.source.Key())) {
      if (s->spec.source_plugin_ref.name != e.source.name) continue;
      if (auto tenant = resolver_.TenantOf(*s)) controller_->queue().AddAfter(*tenant, debounce_);
    }
  });
}

kube::Result TenantSyncReconciler::Reconcile(const kube::Request& req,
                                             const kube::ReconcileContext& ctx) {
  auto client = clients_.Get(req.Key());
  if (!client) return kube::Result::Ok();  // the tenant's reconciler triggers us once it is ready
  std::vector<sharing::ResolvedSharing> configurations;
  std::vector<std::string> keys;
  Duration next = std::chrono::hours(24);
  for (const auto& s : sharings_.List(req.ns)) {
    kube::ObjectPtr raw = sharings_.Raw(s->metadata.namespace_name, s->metadata.name);
    if (!raw) continue;
    // Deleted and already let go of: nothing left to do for it.
    if (s->metadata.deletion_timestamp && !kube::HasFinalizer(*raw, kSharingFinalizer)) continue;
    Resolution r = resolver_.Resolve(*s, *raw);
    if (r.tenant_key != req.Key() || !r.status.ok()) continue;
    keys.push_back(r.resolved.key);
    if (!s->metadata.deletion_timestamp) next = std::min<Duration>(next, s->spec.SyncInterval());
    configurations.push_back(std::move(r.resolved));
  }
  if (configurations.empty()) return kube::Result::Ok();
  auto changed = engine_.RunCycle(
      req.Key(), *client, std::move(configurations), [&ctx] { return ctx.Done(); },
      [&ctx] { return ctx.stopping && ctx.stopping->load(); });
  ctx.log.Debug("sync cycle finished",
                {{"configurations", keys.size()}, {"changed", changed.size()}});
  // Every configuration of the cycle gets a reconcile: its status (and a finalizer waiting for
  // the retraction) follows the outcome. Unchanged ones are cheap: nothing to write.
  for (const auto& key : keys) sharing_controller_->queue().Add(key);
  // A cycle that failed for a passing reason (the tenant throttled, answered 5xx or timed out, a
  // deploy failed, the store was busy) is retried with the queue's backoff, the tenant's
  // Retry-After as its floor, not at the next drift check, which may be syncInterval (10m by
  // default) away. Other failures (a refused token, an invalid request) wait for a change or the
  // drift check: retrying at once would not help.
  for (const auto& key : keys) {
    auto out = engine_.Outcome(key);
    if (!out || out->state != sharing::SyncOutcome::State::kFailed) continue;
    Status failure = out->result.status.ok() ? UnavailableError(out->message) : out->result.status;
    if (failure.IsRetryable()) return kube::Result::Error(std::move(failure));
  }
  return kube::Result::RequeueAfter(next);
}

}  // namespace cte::controllers
