#include "controllers/sharing_resolver.h"

#include "controllers/indexes.h"

namespace cte::controllers {

namespace {

bool ReadyCondition(const nlohmann::json& raw) {
  auto ready = kube::FindCondition(
      raw.value("/status/conditions"_json_pointer, nlohmann::json::array()), "Ready");
  return ready && ready->value("status", "") == "True";
}

Resolution Problem(Health health, std::string reason, Status status) {
  Resolution r;
  r.health = health;
  r.reason = std::move(reason);
  r.status = std::move(status);
  return r;
}

}  // namespace

SharingResolver::SharingResolver(kube::Lister<api::CtePlugin>& plugins,
                                 kube::Lister<api::NetskopeTenant>& tenants,
                                 kube::Lister<api::BusinessRule>& rules, TenantClients& clients)
    : plugins_(plugins), tenants_(tenants), rules_(rules), clients_(clients) {}

std::optional<std::string> SharingResolver::TenantOf(const api::SharingConfiguration& s) {
  auto dest = plugins_.Get(s.metadata.namespace_name, s.spec.destination_plugin_ref.name);
  if (!dest.ok() || (*dest)->spec.type != api::PluginType::kNetskope || !(*dest)->spec.tenant_ref) {
    return std::nullopt;
  }
  return Key(s.metadata.namespace_name, (*dest)->spec.tenant_ref->name);
}

StatusOr<std::shared_ptr<const sharing::CompiledRule>> SharingResolver::Rule(
    const std::string& ns, const std::string& name) {
  auto rule = rules_.Lookup(ns, name);
  if (!rule.ok()) return rule.typed.status();
  const nlohmann::json& raw = *rule.raw;
  // The generation changes with the spec only, so status writes do not cost a recompile. The
  // uid tells a rule deleted and created again under the same name apart.
  const std::string version =
      raw.value("/metadata/uid"_json_pointer, std::string()) + "/" +
      std::to_string(raw.value("/metadata/generation"_json_pointer, int64_t{0}));
  const std::string key = Key(ns, name);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = compiled_.find(key);
    if (it != compiled_.end() && it->second.first == version) return it->second.second;
  }
  auto compiled = sharing::CompiledRule::Compile(rule->spec);
  if (!compiled.ok()) {
    return InvalidArgumentError("BusinessRule " + name + ": " + compiled.status().message());
  }
  auto shared = std::make_shared<const sharing::CompiledRule>(std::move(compiled).value());
  std::lock_guard<std::mutex> lock(mu_);
  compiled_[key] = {version, shared};
  return std::shared_ptr<const sharing::CompiledRule>(shared);
}

Resolution SharingResolver::Resolve(const api::SharingConfiguration& s, const nlohmann::json& raw) {
  const std::string& ns = s.metadata.namespace_name;
  const auto& spec = s.spec;
  auto dest = plugins_.Get(ns, spec.destination_plugin_ref.name);
  if (!dest.ok()) {
    const bool missing = dest.status().code() == StatusCode::kNotFound;
    return Problem(missing ? Health::kProgressing : Health::kStalled,
                   missing ? "DestinationNotFound" : "DestinationInvalid", dest.status());
  }
  if ((*dest)->spec.type != api::PluginType::kNetskope) {
    return Problem(Health::kStalled, "DestinationNotNetskope",
                   InvalidArgumentError("spec.destinationPluginRef: CTEPlugin " +
                                        spec.destination_plugin_ref.name +
                                        " is of type APISource; only a Netskope plugin can be a "
                                        "destination"));
  }
  Resolution r;
  r.tenant_key = Key(ns, (*dest)->spec.tenant_ref->name);
  auto fail = [&](Health h, std::string reason, Status st) {
    r.health = h;
    r.reason = std::move(reason);
    r.status = std::move(st);
    return r;
  };
  auto tenant = tenants_.Lookup(ns, (*dest)->spec.tenant_ref->name);
  if (!tenant.ok()) return fail(Health::kProgressing, "TenantNotFound", tenant.typed.status());
  if (!ReadyCondition(*tenant.raw) || !clients_.Get(r.tenant_key)) {
    return fail(
        Health::kProgressing, "TenantNotReady",
        UnavailableError("NetskopeTenant " + (*dest)->spec.tenant_ref->name + " is not Ready"));
  }
  sharing::ResolvedSharing& out = r.resolved;
  out.key = Key(ns, s.metadata.name);
  out.generation = s.metadata.generation;
  out.creation_timestamp = raw.value("/metadata/creationTimestamp"_json_pointer, std::string());
  out.uid = s.metadata.uid;
  out.target.tenant = r.tenant_key;
  // Lists belong to the tenant: two NetskopeTenants may name the same one (keyed like the rate
  // limiter, by tenantName, whatever apiBaseURL says).
  out.host = tenant->spec.tenant_name;
  out.target.kind = spec.target.type == api::ListType::kUrlList ? store::ListKind::kUrlList
                                                                : store::ListKind::kFileHashList;
  out.target.list_name = spec.target.EffectiveListName();
  out.source = {ns, spec.source_plugin_ref.name};
  out.ownership = spec.OwnershipOrDefault();
  out.url_list_type = spec.target.UrlListTypeOrDefault() == api::UrlListType::kRegex
                          ? netskope::UrlListType::kRegex
                          : netskope::UrlListType::kExact;
  out.caps = sharing::ListCaps::For(spec.target);
  out.suspended = spec.SuspendOrDefault();
  out.deleting = s.metadata.deletion_timestamp.has_value();
  out.deletion_policy = spec.DeletionPolicyOrDefault();
  // Taking entries back needs only the list and the tenant: the source and the rule may well be
  // deleted together with the configuration.
  if (out.deleting) return r;

  auto source = plugins_.Get(ns, spec.source_plugin_ref.name);
  if (!source.ok()) {
    const bool missing = source.status().code() == StatusCode::kNotFound;
    return fail(missing ? Health::kProgressing : Health::kStalled,
                missing ? "SourceNotFound" : "SourceInvalid", source.status());
  }
  auto rule = Rule(ns, spec.business_rule_ref.name);
  if (!rule.ok()) {
    const bool missing = rule.status().code() == StatusCode::kNotFound;
    return fail(missing ? Health::kProgressing : Health::kStalled,
                missing ? "RuleNotFound" : "RuleInvalid", rule.status());
  }
  out.rule = *rule;
  return r;
}

}  // namespace cte::controllers
