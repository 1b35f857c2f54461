#include "controllers/sharing_configuration_reconciler.h"

#include "controllers/indexes.h"
#include "operator/core/time_format.h"

namespace cte::controllers {

namespace {

const char* ResultName(const sharing::SyncOutcome& out) {
  using State = sharing::SyncOutcome::State;
  switch (out.state) {
    case State::kFailed:
      return "Failed";
    case State::kConflict:
      return "Conflict";
    case State::kSuspended:
      return "Suspended";
    case State::kMuted:
      return "Muted";
    case State::kFinalized:
      return "Finalized";
    case State::kSynced:
      break;
  }
  switch (out.result.action) {
    case sharing::ListChange::Action::kAppend:
      return "Appended";
    case sharing::ListChange::Action::kReplace:
      return "Replaced";
    case sharing::ListChange::Action::kNone:
      break;
  }
  return "Unchanged";
}

}  // namespace

SharingConfigurationReconciler::SharingConfigurationReconciler(
    kube::KubeClient& client, Clock& clock, kube::Lister<api::SharingConfiguration>& sharings,
    kube::Lister<api::CtePlugin>& plugins, kube::Lister<api::NetskopeTenant>& tenants,
    kube::Lister<api::BusinessRule>& rules, SharingResolver& resolver,
    sharing::SharingEngine& engine, TenantSyncReconciler& sync, kube::EventRecorder& events)
    : client_(client),
      clock_(clock),
      sharings_(sharings),
      plugins_(plugins),
      tenants_(tenants),
      rules_(rules),
      resolver_(resolver),
      engine_(engine),
      sync_(sync),
      events_(events),
      status_(client, kSharings, "cte-operator") {}

kube::Controller& SharingConfigurationReconciler::Register(kube::Manager& manager) {
  kube::Controller& c = manager.AddController("sharingconfiguration", *this);
  c.For(sharings_.informer());
  c.Watches(plugins_.informer(), kube::EnqueueByIndex(sharings_.informer(), kByPlugin));
  c.Watches(rules_.informer(), kube::EnqueueByIndex(sharings_.informer(), kByRule));
  // A tenant reaches the configurations through its plugins.
  c.Watches(tenants_.informer(), [this](const nlohmann::json& tenant) {
    std::vector<kube::Request> out;
    for (const auto& p : plugins_.informer().cache().ByIndex(kByTenant, kube::ObjectKey(tenant))) {
      for (const auto& s : sharings_.informer().cache().ByIndex(kByPlugin, kube::ObjectKey(*p))) {
        out.push_back(kube::Request::FromKey(kube::ObjectKey(*s)));
      }
    }
    return out;
  });
  return c;
}

kube::Result SharingConfigurationReconciler::Finalize(const api::SharingConfiguration& s,
                                                      const nlohmann::json& raw,
                                                      const kube::ReconcileContext& ctx) {
  const std::string key = Key(s.metadata.namespace_name, s.metadata.name);
  if (!kube::HasFinalizer(raw, kSharingFinalizer)) return kube::Result::Ok();
  auto outcome = engine_.Outcome(key);
  // (An outcome of an earlier object of the same name does not count.)
  if (outcome && outcome->state == sharing::SyncOutcome::State::kFinalized &&
      outcome->uid == s.metadata.uid) {
    auto removed = kube::RemoveFinalizer(client_, kSharings, raw, kSharingFinalizer);
    if (!removed.ok()) return kube::Result::FromStatus(removed.status());
    engine_.Forget(key);
    ctx.log.Info("finalized", {{"deletionPolicy",
                                std::string(api::EnumToString(s.spec.DeletionPolicyOrDefault()))}});
    return kube::Result::Ok();
  }
  Resolution r = resolver_.Resolve(s, raw);
  kube::StatusUpdate update(raw, clock_.WallNow());
  if (s.spec.DeletionPolicyOrDefault() == api::DeletionPolicy::kOrphan) {
    // Leaving the entries needs no tenant: forget the ledger and let go, even when the tenant
    // is not Ready or the destination is gone.
    if (Status st = engine_.Orphan(key, s.metadata.uid); !st.ok()) {
      return kube::Result::Error(st);
    }
    auto removed = kube::RemoveFinalizer(client_, kSharings, raw, kSharingFinalizer);
    if (!removed.ok()) return kube::Result::FromStatus(removed.status());
    engine_.Forget(key);
    ctx.log.Info("finalized", {{"deletionPolicy", "Orphan"}});
    return kube::Result::Ok();
  }
  if (r.tenant_key.empty()) {
    // The destination plugin is gone (or no longer a Netskope plugin): there is no tenant to
    // take the entries back from. Let go rather than block the deletion forever.
    events_.Record(raw, "Warning", "RetractSkipped", "Delete",
                   "the destination cannot be resolved (" + r.status.message() +
                       "); the entries this configuration pushed stay on the list");
    auto removed = kube::RemoveFinalizer(client_, kSharings, raw, kSharingFinalizer);
    if (!removed.ok()) return kube::Result::FromStatus(removed.status());
    engine_.Forget(key);
    return kube::Result::Ok();
  }
  if (!r.status.ok()) {
    // The tenant is not ready: wait for it. Setting deletionPolicy to Orphan lets go at once.
    SetHealth(update, Health::kProgressing, r.reason,
              "waiting to retract: " + r.status.message() +
                  " (set spec.deletionPolicy: Orphan to leave the entries and finish)");
    return WriteStatus(status_, events_, raw, update,
                       kube::Result::RequeueAfter(std::chrono::seconds(30)));
  }
  sync_.Trigger(r.tenant_key);
  if (outcome && outcome->state == sharing::SyncOutcome::State::kFailed) {
    SetHealth(update, Health::kFailing, "RetractFailed", outcome->message);
  } else {
    SetHealth(update, Health::kProgressing, "Retracting",
              "taking this configuration's entries back from the list");
  }
  return WriteStatus(status_, events_, raw, update,
                     kube::Result::RequeueAfter(std::chrono::seconds(30)));
}

void SharingConfigurationReconciler::ReportOutcome(const sharing::SyncOutcome& out,
                                                   const sharing::ResolvedSharing& r,
                                                   kube::StatusUpdate& update) {
  using State = sharing::SyncOutcome::State;
  const sharing::TargetResult& t = out.result;
  update.Set("listName", r.target.list_name);
  update.Set("lastSyncResult", ResultName(out));
  if (t.list_id) update.Set("listId", *t.list_id);
  if (out.last_write) update.Set("lastSyncTime", FormatRfc3339(*out.last_write));
  if (out.state != State::kConflict && out.state != State::kFailed) {
    update.Set("matchedCount", static_cast<int64_t>(t.matched));
    update.Set("sharedCount", static_cast<int64_t>(t.owned));
    update.Set("truncatedCount", static_cast<int64_t>(t.truncated));
    update.Set("invalidCount", static_cast<int64_t>(t.invalid));
    update.Set("listEntries", static_cast<int64_t>(t.list_entries));
    update.Set("listBytes", static_cast<int64_t>(t.list_bytes));
  }
  const std::string list = "\"" + r.target.list_name + "\"";
  switch (out.state) {
    case State::kSynced: {
      std::string message = std::to_string(t.owned) + " entries of this configuration on list " +
                            list + " (" + std::to_string(t.list_entries) + " in all, " +
                            std::to_string(t.list_bytes) + " bytes)";
      if (t.truncated > 0) {
        message += "; " + std::to_string(t.truncated) + " matching indicators did not fit";
      }
      SetHealth(update, Health::kReady, "Synced", message);
      break;
    }
    case State::kSuspended:
      SetHealth(update, Health::kReady, "Suspended",
                "suspended: nothing is written to list " + list);
      break;
    case State::kMuted:
      SetHealth(update, Health::kReady, "Muted",
                "the business rule is muted: list " + list + " is frozen");
      break;
    case State::kConflict:
      SetHealth(update, Health::kFailing, "TargetConflict", out.message);
      break;
    case State::kFailed:
      SetHealth(update, Health::kFailing, "SyncFailed", out.message);
      break;
    case State::kFinalized:
      break;
  }
}

kube::Result SharingConfigurationReconciler::Reconcile(const kube::Request& req,
                                                       const kube::ReconcileContext& ctx) {
  auto sc = sharings_.Lookup(req);
  if (!sc.raw) {
    engine_.Forget(req.Key());
    return kube::Result::Ok();
  }
  const nlohmann::json& raw = *sc.raw;
  kube::StatusUpdate update(raw, clock_.WallNow());
  if (!sc.ok()) {
    if (kube::IsBeingDeleted(raw) && kube::HasFinalizer(raw, kSharingFinalizer)) {
      // Nothing readable to retract with.
      auto removed = kube::RemoveFinalizer(client_, kSharings, raw, kSharingFinalizer);
      return kube::Result::FromStatus(removed.status());
    }
    SetHealth(update, Health::kStalled, "InvalidSpec", sc.typed.status().message());
    return WriteStatus(status_, events_, raw, update, kube::Result::Terminal(sc.typed.status()));
  }
  const api::SharingConfiguration& s = *sc;
  if (s.metadata.deletion_timestamp) return Finalize(s, raw, ctx);

  auto current = kube::AddFinalizer(client_, kSharings, raw, kSharingFinalizer);
  if (!current.ok()) return kube::Result::FromStatus(current.status());
  const nlohmann::json& object = current->object;

  Resolution r = resolver_.Resolve(s, object);
  if (!r.status.ok()) {
    SetHealth(update, r.health, r.reason, r.status.message());
    return WriteStatus(
        status_, events_, object, update,
        r.health == Health::kStalled ? kube::Result::Terminal(r.status) : kube::Result::Ok());
  }
  const std::string handled =
      object.value("/status/lastHandledReconcileAt"_json_pointer, std::string());
  update.AcknowledgeReconcileRequest();
  const bool requested = update.status().value("lastHandledReconcileAt", std::string()) != handled;
  auto outcome = engine_.Outcome(req.Key());
  if (!outcome || outcome->generation != s.metadata.generation || requested ||
      outcome->uid != s.metadata.uid || outcome->state == sharing::SyncOutcome::State::kFinalized) {
    sync_.Trigger(r.tenant_key);
    SetHealth(update, Health::kProgressing, "SyncPending",
              "waiting for the sync cycle of NetskopeTenant " + r.tenant_key);
    return WriteStatus(status_, events_, object, update,
                       kube::Result::RequeueAfter(std::chrono::seconds(30)));
  }
  const int64_t truncated_before = object.value("/status/truncatedCount"_json_pointer, int64_t{0});
  ReportOutcome(*outcome, r.resolved, update);
  kube::Result result = WriteStatus(status_, events_, object, update, kube::Result::Ok());
  const int64_t truncated = static_cast<int64_t>(outcome->result.truncated);
  if (truncated > 0 && truncated_before == 0 &&
      outcome->state == sharing::SyncOutcome::State::kSynced) {
    events_.Record(object, "Warning", "Truncated", "Sync",
                   std::to_string(truncated) + " matching indicators did not fit list \"" +
                       r.resolved.target.list_name + "\" (300,000 entries or listSizeMB)");
  }
  return result;
}

}  // namespace cte::controllers
