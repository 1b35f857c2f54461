#include "controllers/indexes.h"

namespace cte::controllers {

std::string Key(const std::string& ns, const std::string& name) { return ns + "/" + name; }

std::vector<std::string> TenantSecrets(const api::NetskopeTenant& t) {
  const std::string& ns = t.metadata.namespace_name;
  std::vector<std::string> out = {Key(ns, t.spec.v1_token_secret_ref.name)};
  if (t.spec.v2_token_secret_ref) out.push_back(Key(ns, t.spec.v2_token_secret_ref->name));
  if (t.spec.ca_bundle_secret_ref) out.push_back(Key(ns, t.spec.ca_bundle_secret_ref->name));
  return out;
}

std::vector<std::string> PluginSecrets(const api::CtePlugin& p) {
  if (!p.spec.api_source) return {};
  return {Key(p.metadata.namespace_name, p.spec.api_source->credentials_secret_ref.name)};
}

std::vector<std::string> PluginTenant(const api::CtePlugin& p) {
  if (!p.spec.tenant_ref) return {};
  return {Key(p.metadata.namespace_name, p.spec.tenant_ref->name)};
}

std::vector<std::string> SharingPlugins(const api::SharingConfiguration& s) {
  const std::string& ns = s.metadata.namespace_name;
  return {Key(ns, s.spec.source_plugin_ref.name), Key(ns, s.spec.destination_plugin_ref.name)};
}

std::vector<std::string> SharingRule(const api::SharingConfiguration& s) {
  return {Key(s.metadata.namespace_name, s.spec.business_rule_ref.name)};
}

}  // namespace cte::controllers
