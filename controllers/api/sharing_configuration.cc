// JSON mapping and validation of SharingConfiguration; the checks mirror
// crds/sharingconfiguration.yaml, including its x-kubernetes-validations rules.
#include "controllers/api/sharing_configuration.h"

#include <algorithm>

#include "operator/core/duration.h"

namespace cte::api {
namespace {

constexpr std::string_view kListNameRule =
    "must be at most 255 characters and contain none of < > / ! @ # $ % ^ & * ( ) { } ; + = , ? . "
    "| : ' \"";

}  // namespace

bool IsValidListName(std::string_view name) {
  return name.size() <= kMaxListNameLength &&
         name.find_first_of(kForbiddenListNameChars) == std::string_view::npos;
}

std::string SharingTarget::EffectiveListName() const {
  if (list_name && !list_name->empty()) return *list_name;
  return default_list_name.value_or("");
}

int32_t SharingTarget::EffectiveListSizeMB() const {
  if (list_size_mb) return *list_size_mb;
  return type == ListType::kUrlList ? kDefaultUrlListSizeMB : kDefaultFileHashListSizeMB;
}

StatusOr<SharingTarget> SharingTarget::FromJson(const nlohmann::json& json,
                                                const std::string& path) {
  SharingTarget t;
  FieldReader r(json, path);
  r.Required("type", &t.type);
  r.Optional("listName", &t.list_name);
  if (r.ok() && t.list_name) r.Check(IsValidListName(*t.list_name), "listName", kListNameRule);
  r.Optional("defaultListName", &t.default_list_name);
  if (r.ok() && t.default_list_name) {
    r.Check(!t.default_list_name->empty(), "defaultListName", "must not be empty");
    r.Check(IsValidListName(*t.default_list_name), "defaultListName", kListNameRule);
  }
  r.Optional("listSizeMB", &t.list_size_mb);
  r.CheckRange("listSizeMB", t.list_size_mb, 1, kMaxListSizeMB);
  r.Optional("urlListType", &t.url_list_type);
  if (!r.ok()) return r.status();

  // The CRD's x-kubernetes-validations, in the same order and wording.
  r.Check(!t.EffectiveListName().empty(), "listName", "set listName or defaultListName");
  r.Check(t.type != ListType::kUrlList || !t.list_size_mb || *t.list_size_mb <= kMaxUrlListSizeMB,
          "listSizeMB", "is at most 7 for URLList targets");
  r.Check(t.type == ListType::kUrlList || t.UrlListTypeOrDefault() == UrlListType::kExact,
          "urlListType", "regex applies only to URLList targets");
  if (!r.ok()) return r.status();
  return t;
}

nlohmann::json SharingTarget::ToJson() const {
  nlohmann::json j = nlohmann::json::object();
  PutField(j, "type", type);
  PutOptional(j, "listName", list_name);
  PutOptional(j, "defaultListName", default_list_name);
  PutOptional(j, "listSizeMB", list_size_mb);
  PutOptional(j, "urlListType", url_list_type);
  return j;
}

std::chrono::seconds SharingConfigurationSpec::SyncInterval() const {
  // FromJson has validated the text, so the fallback only covers hand-built objects.
  StatusOr<std::chrono::seconds> d = ParseDuration(sync_interval.value_or(""));
  // At least kMinSyncInterval, so "0s" cannot turn the drift check into a loop against the tenant.
  return std::max(d.ok() ? *d : *ParseDuration(kDefaultSyncInterval), kMinSyncInterval);
}

StatusOr<SharingConfigurationSpec> SharingConfigurationSpec::FromJson(const nlohmann::json& json,
                                                                      const std::string& path) {
  SharingConfigurationSpec s;
  FieldReader r(json, path);
  r.Required("sourcePluginRef", &s.source_plugin_ref);
  r.Required("businessRuleRef", &s.business_rule_ref);
  r.Required("destinationPluginRef", &s.destination_plugin_ref);
  r.Required("target", &s.target);
  r.Optional("syncInterval", &s.sync_interval);
  if (r.ok() && s.sync_interval) {
    StatusOr<std::chrono::seconds> d = ParseDuration(*s.sync_interval);
    if (!d.ok()) r.Fail("syncInterval", d.status().message());
  }
  r.Optional("ownership", &s.ownership);
  r.Optional("deletionPolicy", &s.deletion_policy);
  r.Optional("suspend", &s.suspend);
  if (!r.ok()) return r.status();
  // The spec's x-kubernetes-validations rule, same wording.
  r.Check(
      s.target.type != ListType::kFileHashList || s.OwnershipOrDefault() == Ownership::kExclusive,
      "ownership",
      "must be Exclusive for a FileHashList target (the v1 API replaces the whole list on "
      "every push)");
  if (!r.ok()) return r.status();
  return s;
}

nlohmann::json SharingConfigurationSpec::ToJson() const {
  nlohmann::json j = nlohmann::json::object();
  PutField(j, "sourcePluginRef", source_plugin_ref);
  PutField(j, "businessRuleRef", business_rule_ref);
  PutField(j, "destinationPluginRef", destination_plugin_ref);
  PutField(j, "target", target);
  PutOptional(j, "syncInterval", sync_interval);
  PutOptional(j, "ownership", ownership);
  PutOptional(j, "deletionPolicy", deletion_policy);
  PutOptional(j, "suspend", suspend);
  return j;
}

StatusOr<SharingConfigurationStatus> SharingConfigurationStatus::FromJson(
    const nlohmann::json& json, const std::string& path) {
  SharingConfigurationStatus s;
  FieldReader r(json, path);
  s.ReadCommon(r);
  r.Optional("listName", &s.list_name);
  r.Optional("listId", &s.list_id);
  r.Optional("sharedCount", &s.shared_count);
  r.Optional("matchedCount", &s.matched_count);
  r.Optional("truncatedCount", &s.truncated_count);
  r.Optional("invalidCount", &s.invalid_count);
  r.Optional("listEntries", &s.list_entries);
  r.Optional("listBytes", &s.list_bytes);
  r.Optional("lastSyncResult", &s.last_sync_result);
  r.Optional("lastSyncTime", &s.last_sync_time);
  r.Optional("lastHandledReconcileAt", &s.last_handled_reconcile_at);
  if (!r.ok()) return r.status();
  return s;
}

nlohmann::json SharingConfigurationStatus::ToJson() const {
  nlohmann::json j = nlohmann::json::object();
  WriteCommon(j);
  PutOptional(j, "listName", list_name);
  PutOptional(j, "listId", list_id);
  PutOptional(j, "sharedCount", shared_count);
  PutOptional(j, "matchedCount", matched_count);
  PutOptional(j, "truncatedCount", truncated_count);
  PutOptional(j, "invalidCount", invalid_count);
  PutOptional(j, "listEntries", list_entries);
  PutOptional(j, "listBytes", list_bytes);
  PutOptional(j, "lastSyncResult", last_sync_result);
  PutOptional(j, "lastSyncTime", last_sync_time);
  PutOptional(j, "lastHandledReconcileAt", last_handled_reconcile_at);
  return j;
}

StatusOr<SharingConfiguration> SharingConfiguration::FromJson(const nlohmann::json& json) {
  return ReadObject<SharingConfiguration>(json, kKind);
}

nlohmann::json SharingConfiguration::ToJson() const { return WriteObject(*this, kKind); }

}  // namespace cte::api
