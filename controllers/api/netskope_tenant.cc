// JSON mapping and validation of NetskopeTenant; the checks mirror crds/netskopetenant.yaml.
#include "controllers/api/netskope_tenant.h"

namespace cte::api {
namespace {

bool IsHttpUrl(std::string_view url) {
  // ^https?://[^/?#\s]+(/[^?#\s]*)?$ without <regex>.
  std::string_view rest;
  if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else {
    return false;
  }
  size_t slash = rest.find('/');
  std::string_view host = rest.substr(0, slash);
  if (host.empty()) return false;
  for (char c : rest) {
    if (c == '?' || c == '#' || c == ' ' || c == '\t' || c == '\n' || c == '\r') return false;
  }
  return true;
}

}  // namespace

bool IsTenantHostName(std::string_view host) {
  return host.find('.') != std::string_view::npos && IsDns1123Subdomain(host);
}

std::string NetskopeTenantSpec::BaseUrl() const {
  std::string base = api_base_url ? *api_base_url : "https://" + tenant_name;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

StatusOr<NetskopeTenantSpec> NetskopeTenantSpec::FromJson(const nlohmann::json& json,
                                                          const std::string& path) {
  NetskopeTenantSpec s;
  FieldReader r(json, path);
  r.Required("tenantName", &s.tenant_name);
  if (r.ok()) {
    r.Check(IsTenantHostName(s.tenant_name), "tenantName",
            "must be a lower-case host name such as acme.goskope.com, without scheme or path, "
            "got \"" +
                s.tenant_name + "\"");
  }
  r.Required("v1TokenSecretRef", &s.v1_token_secret_ref);
  r.Optional("v2TokenSecretRef", &s.v2_token_secret_ref);
  r.Optional("initialRangeDays", &s.initial_range_days);
  r.CheckRange("initialRangeDays", s.initial_range_days, 0, kMaxInitialRangeDays);
  r.Optional("useSystemProxy", &s.use_system_proxy);
  r.Optional("apiBaseURL", &s.api_base_url);
  if (r.ok() && s.api_base_url) {
    r.Check(s.api_base_url->size() <= 2048 && IsHttpUrl(*s.api_base_url), "apiBaseURL",
            "must be an http(s) URL with a host and no query, e.g. https://127.0.0.1:9443");
  }
  r.Optional("caBundleSecretRef", &s.ca_bundle_secret_ref);
  if (!r.ok()) return r.status();
  return s;
}

nlohmann::json NetskopeTenantSpec::ToJson() const {
  nlohmann::json j = nlohmann::json::object();
  PutField(j, "tenantName", tenant_name);
  PutField(j, "v1TokenSecretRef", v1_token_secret_ref);
  PutOptional(j, "v2TokenSecretRef", v2_token_secret_ref);
  PutOptional(j, "initialRangeDays", initial_range_days);
  PutOptional(j, "useSystemProxy", use_system_proxy);
  PutOptional(j, "apiBaseURL", api_base_url);
  PutOptional(j, "caBundleSecretRef", ca_bundle_secret_ref);
  return j;
}

StatusOr<NetskopeTenantStatus> NetskopeTenantStatus::FromJson(const nlohmann::json& json,
                                                              const std::string& path) {
  NetskopeTenantStatus s;
  FieldReader r(json, path);
  s.ReadCommon(r);
  r.Optional("lastCheckedTime", &s.last_checked_time);
  if (!r.ok()) return r.status();
  return s;
}

nlohmann::json NetskopeTenantStatus::ToJson() const {
  nlohmann::json j = nlohmann::json::object();
  WriteCommon(j);
  PutOptional(j, "lastCheckedTime", last_checked_time);
  return j;
}

StatusOr<NetskopeTenant> NetskopeTenant::FromJson(const nlohmann::json& json) {
  return ReadObject<NetskopeTenant>(json, kKind);
}

nlohmann::json NetskopeTenant::ToJson() const { return WriteObject(*this, kKind); }

}  // namespace cte::api
