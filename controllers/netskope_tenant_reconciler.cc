#include "controllers/netskope_tenant_reconciler.h"

#include "controllers/indexes.h"
#include "operator/core/time_format.h"

namespace cte::controllers {

NetskopeTenantReconciler::NetskopeTenantReconciler(kube::KubeClient& client, Clock& clock,
                                                   kube::Lister<api::NetskopeTenant>& tenants,
                                                   kube::SecretStore& secrets,
                                                   TenantClients& clients,
                                                   kube::EventRecorder& events, Duration recheck)
    : client_(client),
      clock_(clock),
      tenants_(tenants),
      secrets_(secrets),
      clients_(clients),
      events_(events),
      status_(client, kTenants, "cte-operator"),
      recheck_(recheck) {}

kube::Controller& NetskopeTenantReconciler::Register(kube::Manager& manager) {
  kube::Controller& c = manager.AddController("netskopetenant", *this).For(tenants_.informer());
  manager.Secrets().WatchReferences(c, tenants_, kBySecret, TenantSecrets);
  return c;
}

StatusOr<TenantConnectionSpec> NetskopeTenantReconciler::Resolve(const api::NetskopeTenant& t,
                                                                 std::string* fingerprint,
                                                                 std::string* reason) {
  const std::string& ns = t.metadata.namespace_name;
  auto value = [&](const api::SecretKeyRef& ref, const char* what) -> StatusOr<SecretString> {
    auto secret = secrets_.Get(ns, ref.name);
    if (!secret.ok()) {
      *reason = "SecretNotFound";
      if (secret.status().code() == StatusCode::kNotFound) {
        return NotFoundError(std::string(what) + ": Secret " + ref.name + " not found");
      }
      return secret.status();
    }
    *fingerprint += ref.name + "@" + (*secret)->resource_version + ";";
    const SecretString* v = (*secret)->Find(ref.key);
    if (!v || v->empty()) {
      *reason = "SecretNotFound";
      return NotFoundError(std::string(what) + ": Secret " + ref.name + " has no key " + ref.key);
    }
    return *v;
  };
  TenantConnectionSpec spec;
  spec.host = t.spec.tenant_name;
  spec.base_url = t.spec.BaseUrl();
  spec.connection.use_system_proxy = t.spec.UseSystemProxyOrDefault();
  *fingerprint = std::to_string(t.metadata.generation) + ";";
  auto v1 = value(t.spec.v1_token_secret_ref, "v1TokenSecretRef");
  if (!v1.ok()) return v1.status();
  spec.v1_token = *v1;
  if (t.spec.v2_token_secret_ref) {
    auto v2 = value(*t.spec.v2_token_secret_ref, "v2TokenSecretRef");
    if (!v2.ok()) return v2.status();
    spec.v2_token = *v2;
  }
  if (t.spec.ca_bundle_secret_ref) {
    auto ca = value(*t.spec.ca_bundle_secret_ref, "caBundleSecretRef");
    if (!ca.ok()) return ca.status();
    spec.connection.ca_bundle_pem = ca->Reveal();
  }
  return spec;
}

NetskopeTenantReconciler::Check NetskopeTenantReconciler::Probe(netskope::TenantClient& client,
                                                                const api::NetskopeTenant& t,
                                                                const TenantConnectionSpec& spec) {
  Check check;
  check.at = clock_.Now();
  if (spec.v2_token.empty()) {
    // The v1 API has no read to try a token with; it is proven by the first file-hash push.
    check.reason = "TokensResolved";
    check.message = "v1 token found (no v2 token: URL lists cannot be shared)";
    return check;
  }
  netskope::ListUrlListsOptions options;
  auto lists = client.ListUrlLists(options);
  if (lists.ok()) {
    check.reason = "Connected";
    check.message = "the v2 token was accepted by " + t.spec.tenant_name;
    return check;
  }
  const Status& s = lists.status();
  if (s.code() == StatusCode::kUnauthenticated || s.code() == StatusCode::kPermissionDenied) {
    check.health = Health::kStalled;
    check.reason = "InvalidToken";
  } else {
    check.health = Health::kFailing;
    check.reason = "TenantUnreachable";
  }
  check.message = s.message();
  return check;
}

kube::Result NetskopeTenantReconciler::Reconcile(const kube::Request& req,
                                                 const kube::ReconcileContext& ctx) {
  auto tenant = tenants_.Lookup(req);
  if (!tenant.raw) {
    clients_.Remove(req.Key());
    std::lock_guard<std::mutex> lock(mu_);
    checks_.erase(req.Key());
    return kube::Result::Ok();
  }
  const nlohmann::json& raw = *tenant.raw;
  if (!tenant.ok()) {
    kube::StatusUpdate update(raw, clock_.WallNow());
    SetHealth(update, Health::kStalled, "InvalidSpec", tenant.typed.status().message());
    return WriteStatus(status_, events_, raw, update,
                       kube::Result::Terminal(tenant.typed.status()));
  }
  const api::NetskopeTenant& t = *tenant;
  kube::StatusUpdate update(raw, clock_.WallNow());
  const std::string handled =
      raw.value("/status/lastHandledReconcileAt"_json_pointer, std::string());
  update.AcknowledgeReconcileRequest();
  const bool requested = update.status().value("lastHandledReconcileAt", std::string()) != handled;

  std::string fingerprint, reason;
  auto spec = Resolve(t, &fingerprint, &reason);
  if (!spec.ok()) {
    clients_.Remove(req.Key());
    const bool missing = spec.status().code() == StatusCode::kNotFound;
    SetHealth(update, missing ? Health::kStalled : Health::kFailing,
              missing ? reason : "SecretUnavailable", spec.status().message());
    // A missing Secret is retried when it appears (the Secret watch); an API error with backoff.
    return WriteStatus(status_, events_, raw, update,
                       missing ? kube::Result::Ok() : kube::Result::Error(spec.status()));
  }
  auto client = clients_.Ensure(req.Key(), *spec);

  Check check;
  bool due;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = checks_.find(req.Key());
    due = it == checks_.end() || it->second.fingerprint != fingerprint ||
          clock_.Now() - it->second.at >= recheck_ || it->second.health == Health::kFailing ||
          requested;
    if (!due) check = it->second;
  }
  if (due) {
    check = Probe(*client, t, *spec);
    check.fingerprint = fingerprint;
    std::lock_guard<std::mutex> lock(mu_);
    checks_[req.Key()] = check;
  }
  SetHealth(update, check.health, check.reason, check.message);
  // Only when the outcome changes: the time the current state was established, not a heartbeat.
  if (!update.transitions().empty() || !update.status().contains("lastCheckedTime")) {
    update.Set("lastCheckedTime", FormatRfc3339(clock_.WallNow()));
  }
  // A refused token (Stalled) is tried again every recheck as well as on a Secret or spec change:
  // a tenant's auth service can refuse a good token for a while, and sharing must not stay off.
  kube::Result result = kube::Result::RequeueAfter(recheck_);
  if (check.health == Health::kFailing) {
    result = kube::Result::Error(UnavailableError(check.message));
  }
  (void)ctx;
  return WriteStatus(status_, events_, raw, update, result);
}

}  // namespace cte::controllers
