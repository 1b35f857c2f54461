// JSON mapping and validation of CTEPlugin; the checks mirror crds/cteplugin.yaml, including its
// x-kubernetes-validations rules.
#include "controllers/api/cte_plugin.h"

#include "operator/core/duration.h"

namespace cte::api {

StatusOr<NetskopePluginSettings> NetskopePluginSettings::FromJson(const nlohmann::json& json,
                                                                  const std::string& path) {
  NetskopePluginSettings s;
  FieldReader r(json, path);
  r.Optional("enablePolling", &s.enable_polling);
  r.Optional("threatDataType", &s.threat_data_type);
  r.Optional("pollInterval", &s.poll_interval);
  if (r.ok() && s.poll_interval) {
    StatusOr<std::chrono::seconds> d = ParseDuration(*s.poll_interval);
    if (!d.ok()) r.Fail("pollInterval", d.status().message());
  }
  if (!r.ok()) return r.status();
  return s;
}

nlohmann::json NetskopePluginSettings::ToJson() const {
  nlohmann::json j = nlohmann::json::object();
  PutOptional(j, "enablePolling", enable_polling);
  PutOptional(j, "threatDataType", threat_data_type);
  PutOptional(j, "pollInterval", poll_interval);
  return j;
}

StatusOr<ApiSourceSettings> ApiSourceSettings::FromJson(const nlohmann::json& json,
                                                        const std::string& path) {
  ApiSourceSettings s;
  FieldReader r(json, path);
  r.Required("credentialsSecretRef", &s.credentials_secret_ref);
  if (!r.ok()) return r.status();
  return s;
}

nlohmann::json ApiSourceSettings::ToJson() const {
  nlohmann::json j = nlohmann::json::object();
  PutField(j, "credentialsSecretRef", credentials_secret_ref);
  return j;
}

bool CtePluginSpec::PollingEnabled() const {
  if (type != PluginType::kNetskope) return false;
  return netskope ? netskope->enable_polling.value_or(kDefaultEnablePolling)
                  : kDefaultEnablePolling;
}

ThreatDataType CtePluginSpec::ThreatDataTypeOrDefault() const {
  return netskope ? netskope->threat_data_type.value_or(kDefaultThreatDataType)
                  : kDefaultThreatDataType;
}

std::chrono::seconds CtePluginSpec::PollInterval() const {
  // FromJson has validated the text, so the fallback only covers hand-built objects.
  std::string_view text = kDefaultPollInterval;
  if (netskope && netskope->poll_interval) text = *netskope->poll_interval;
  StatusOr<std::chrono::seconds> d = ParseDuration(text);
  return d.ok() ? *d : *ParseDuration(kDefaultPollInterval);
}

StatusOr<CtePluginSpec> CtePluginSpec::FromJson(const nlohmann::json& json,
                                                const std::string& path) {
  CtePluginSpec s;
  FieldReader r(json, path);
  r.Required("type", &s.type);
  r.Optional("tenantRef", &s.tenant_ref);
  r.Optional("agingDays", &s.aging_days);
  r.CheckRange("agingDays", s.aging_days, 0, kMaxAgingDays);
  r.Optional("overrideReputation", &s.override_reputation);
  r.CheckRange("overrideReputation", s.override_reputation, 0, kMaxOverrideReputation);
  r.Optional("netskope", &s.netskope);
  r.Optional("apiSource", &s.api_source);
  if (!r.ok()) return r.status();

  // The CRD's x-kubernetes-validations, in the same order and wording.
  const bool netskope_type = s.type == PluginType::kNetskope;
  r.Check(!netskope_type || s.tenant_ref, "tenantRef", "is required when type is Netskope");
  r.Check(netskope_type || !s.tenant_ref, "tenantRef", "is allowed only when type is Netskope");
  r.Check(netskope_type || !s.netskope, "netskope", "is allowed only when type is Netskope");
  r.Check(netskope_type || s.api_source, "apiSource.credentialsSecretRef",
          "is required when type is APISource");
  r.Check(!netskope_type || !s.api_source, "apiSource", "is allowed only when type is APISource");
  if (!r.ok()) return r.status();
  return s;
}

nlohmann::json CtePluginSpec::ToJson() const {
  nlohmann::json j = nlohmann::json::object();
  PutField(j, "type", type);
  PutOptional(j, "tenantRef", tenant_ref);
  PutOptional(j, "agingDays", aging_days);
  PutOptional(j, "overrideReputation", override_reputation);
  PutOptional(j, "netskope", netskope);
  PutOptional(j, "apiSource", api_source);
  return j;
}

StatusOr<CtePluginStatus> CtePluginStatus::FromJson(const nlohmann::json& json,
                                                    const std::string& path) {
  CtePluginStatus s;
  FieldReader r(json, path);
  s.ReadCommon(r);
  r.Optional("indicatorCount", &s.indicator_count);
  r.Optional("totalIndicatorCount", &s.total_indicator_count);
  r.Optional("lastPollError", &s.last_poll_error);
  r.Optional("lastPollTime", &s.last_poll_time);
  if (!r.ok()) return r.status();
  return s;
}

nlohmann::json CtePluginStatus::ToJson() const {
  nlohmann::json j = nlohmann::json::object();
  WriteCommon(j);
  PutOptional(j, "indicatorCount", indicator_count);
  PutOptional(j, "totalIndicatorCount", total_indicator_count);
  PutOptional(j, "lastPollError", last_poll_error);
  PutOptional(j, "lastPollTime", last_poll_time);
  return j;
}

StatusOr<CtePlugin> CtePlugin::FromJson(const nlohmann::json& json) {
  return ReadObject<CtePlugin>(json, kKind);
}

nlohmann::json CtePlugin::ToJson() const { return WriteObject(*this, kKind); }

}  // namespace cte::api
