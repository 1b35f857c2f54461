#include "controllers/cte_plugin_reconciler.h"

#include "controllers/indexes.h"
#include "operator/core/time_format.h"

namespace cte::controllers {

namespace {

bool TenantReady(const nlohmann::json& raw) {
  auto ready = kube::FindCondition(
      raw.value("/status/conditions"_json_pointer, nlohmann::json::array()), "Ready");
  return ready && ready->value("status", "") == "True";
}

}  // namespace

CtePluginReconciler::CtePluginReconciler(
    kube::KubeClient& client, Clock& clock, kube::Lister<api::CtePlugin>& plugins,
    kube::Lister<api::NetskopeTenant>& tenants, kube::SecretStore& secrets, TenantClients& clients,
    sources::AlertPollers& pollers, ingest::StaticCredentialsRegistry& credentials,
    store::IndicatorStore& store, kube::EventRecorder& events, Duration refresh)
    : client_(client),
      clock_(clock),
      plugins_(plugins),
      tenants_(tenants),
      secrets_(secrets),
      clients_(clients),
      pollers_(pollers),
      credentials_(credentials),
      store_(store),
      events_(events),
      status_(client, kPlugins, "cte-operator"),
      refresh_(refresh) {}

kube::Controller& CtePluginReconciler::Register(kube::Manager& manager) {
  plugins_.AddIndex(kByTenant, PluginTenant);
  kube::Controller& c = manager.AddController("cteplugin", *this).For(plugins_.informer());
  manager.Secrets().WatchReferences(c, plugins_, kBySecret, PluginSecrets);
  // A tenant's Ready change (a status write) must reach its plugins: every change counts.
  c.Watches(tenants_.informer(), kube::EnqueueByIndex(plugins_.informer(), kByTenant));
  controller_ = &c;
  return c;
}

void CtePluginReconciler::Subscribe(store::IndicatorStore& store, Duration delay) {
  subscription_ = store.Subscribe([this, delay](const store::ChangeEvent& e) {
    if (controller_) controller_->queue().AddAfter(e.source.Key(), delay);
  });
}

Status CtePluginReconciler::ApplyNetskope(const api::CtePlugin& p, const store::SourceRef& ref,
                                          std::string* reason) {
  credentials_.Remove(ref);
  const std::string& tenant_name = p.spec.tenant_ref->name;
  auto tenant = tenants_.Lookup(ref.namespace_name, tenant_name);
  if (!tenant.ok()) {
    *reason = tenant.raw ? "TenantInvalid" : "TenantNotFound";
    pollers_.Stop(ref);
    return tenant.typed.status();
  }
  auto client = clients_.Get(Key(ref.namespace_name, tenant_name));
  if (!client || !TenantReady(*tenant.raw)) {
    *reason = "TenantNotReady";
    pollers_.Stop(ref);
    return UnavailableError("NetskopeTenant " + tenant_name + " is not Ready");
  }
  if (!p.spec.PollingEnabled()) {
    pollers_.Stop(ref);
    *reason = "Ready";
    return Status::Ok();
  }
  sources::NetskopePollerSpec spec;
  spec.plugin = ref;
  spec.tenant_name = tenant->spec.tenant_name;
  const api::ThreatDataType data = p.spec.ThreatDataTypeOrDefault();
  spec.hashes = data != api::ThreatDataType::kUrl;
  spec.urls = data != api::ThreatDataType::kMalware;
  spec.initial_range_days = tenant->spec.InitialRangeDaysOrDefault();
  spec.poll_interval = p.spec.PollInterval();
  spec.policy.aging_days = p.spec.AgingDaysOrDefault();
  spec.policy.override_reputation = p.spec.OverrideReputationOrDefault();
  spec.client = client;
  pollers_.Ensure(spec);
  *reason = "Polling";
  return Status::Ok();
}

Status CtePluginReconciler::ApplyApiSource(const api::CtePlugin& p, const store::SourceRef& ref,
                                           std::string* reason) {
  pollers_.Stop(ref);
  const std::string& name = p.spec.api_source->credentials_secret_ref.name;
  auto secret = secrets_.Get(ref.namespace_name, name);
  if (!secret.ok()) {
    // Gone, or changed and unreadable (the store reads a Secret from the API server only when
    // the watch saw a new version): what it holds now is unknown, perhaps a rotation away from
    // a leaked secret, so nothing registered from it stays. Read again unchanged, the same
    // credentials come back with the same version, and their tokens work again.
    credentials_.Remove(ref);
    *reason =
        secret.status().code() == StatusCode::kNotFound ? "SecretNotFound" : "SecretUnavailable";
    return secret.status();
  }
  const SecretString* id = (*secret)->Find(std::string(api::kClientIdKey));
  const SecretString* key = (*secret)->Find(std::string(api::kClientSecretKey));
  if (!id || id->empty() || !key || key->empty()) {
    credentials_.Remove(ref);
    *reason = "SecretNotFound";
    return NotFoundError("Secret " + name + " must hold the keys client_id and client_secret");
  }
  ingest::ApiSourceCredentials creds;
  creds.plugin = ref;
  creds.client_id = id->Reveal();
  creds.client_secret = *key;
  creds.policy.aging_days = p.spec.AgingDaysOrDefault();
  creds.policy.override_reputation = p.spec.OverrideReputationOrDefault();
  if (Status s = credentials_.Put(std::move(creds)); !s.ok()) {
    // The Secret changed to something unusable: the credentials it replaced stop working too.
    credentials_.Remove(ref);
    if (s.code() == StatusCode::kAlreadyExists) {
      // Another plugin holds the client_id (perhaps it is being moved here): tried again every
      // refresh, so the plugin gets it once the other lets go.
      *reason = "ClientIdInUse";
      return Status(StatusCode::kFailedPrecondition,
                    "spec.apiSource.credentialsSecretRef: " + s.message());
    }
    *reason = "InvalidSpec";
    return InvalidArgumentError("spec.apiSource.credentialsSecretRef: " + s.message());
  }
  *reason = "Receiving";
  return Status::Ok();
}

void CtePluginReconciler::AddCounts(const store::SourceRef& ref, kube::StatusUpdate& update) {
  store::IndicatorQuery q;
  q.namespace_name = ref.namespace_name;
  q.sources = {ref.name};
  auto total = store_.Count(q);
  q.active = true;
  q.retracted = false;
  auto active = store_.Count(q);
  if (total.ok()) update.Set("totalIndicatorCount", *total);
  if (active.ok()) update.Set("indicatorCount", *active);
  std::optional<WallTime> last_poll;
  std::string last_error;
  for (const auto& c : pollers_.Status(ref)) {
    if (c.last_success && (!last_poll || *c.last_success > *last_poll)) last_poll = c.last_success;
    if (!c.last_error.empty()) last_error = c.last_error;
  }
  if (last_poll) update.Set("lastPollTime", FormatRfc3339(*last_poll));
  if (last_error.empty()) {
    update.mutable_status().erase("lastPollError");
  } else {
    update.Set("lastPollError", last_error.substr(0, 1024));
  }
}

kube::Result CtePluginReconciler::Reconcile(const kube::Request& req,
                                            const kube::ReconcileContext&) {
  auto plugin = plugins_.Lookup(req);
  const store::SourceRef ref{req.ns, req.name};
  if (!plugin.ok()) {  // deleted, or a spec that does not parse: nothing may run for it
    pollers_.Stop(ref);
    credentials_.Remove(ref);
  }
  if (!plugin.raw) return kube::Result::Ok();
  const nlohmann::json& raw = *plugin.raw;
  kube::StatusUpdate update(raw, clock_.WallNow());
  update.AcknowledgeReconcileRequest();
  if (!plugin.ok()) {
    SetHealth(update, Health::kStalled, "InvalidSpec", plugin.typed.status().message());
    return WriteStatus(status_, events_, raw, update,
                       kube::Result::Terminal(plugin.typed.status()));
  }
  const api::CtePlugin& p = *plugin;
  std::string reason;
  Status s = p.spec.type == api::PluginType::kNetskope ? ApplyNetskope(p, ref, &reason)
                                                       : ApplyApiSource(p, ref, &reason);
  AddCounts(ref, update);
  if (s.ok()) {
    std::string message = reason == "Polling"     ? "polling the tenant's alerts"
                          : reason == "Receiving" ? "accepting indicators on /api/cte/indicators"
                                                  : "ready; polling is off";
    SetHealth(update, Health::kReady, reason, message);
    // Counts follow the store's notifications; a polling plugin also shows its pollers' errors,
    // which the store does not hear about, so it looks again every `refresh_`.
    return WriteStatus(
        status_, events_, raw, update,
        reason == "Polling" ? kube::Result::RequeueAfter(refresh_) : kube::Result::Ok());
  }
  // Missing tenants and Secrets come back through the watches; a bad spec waits for an edit; a
  // Secret the API server failed to read is tried again with backoff (no watch event will say
  // the server is back); a client_id in use elsewhere is tried again every refresh.
  const bool stalled = reason == "InvalidSpec" || reason == "TenantInvalid";
  SetHealth(update, stalled ? Health::kStalled : Health::kProgressing, reason, s.message());
  kube::Result next = stalled                         ? kube::Result::Terminal(s)
                      : reason == "SecretUnavailable" ? kube::Result::Error(s)
                                                      : kube::Result::RequeueAfter(refresh_);
  return WriteStatus(status_, events_, raw, update, next);
}

}  // namespace cte::controllers
