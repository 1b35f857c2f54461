// SharingConfiguration (cte.netskope.io/v1alpha1): shares the indicators of one source CTEPlugin
// that pass one BusinessRule into one URL list or file-hash list on the destination plugin's
// tenant. The C++ mirror of crds/sharingconfiguration.yaml; the sharing reconciler and the
// planner read it, and its status is how users see what was pushed.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "controllers/api/common.h"
#include "operator/core/status.h"

namespace cte::api {

enum class ListType { kUrlList, kFileHashList };
template <>
struct EnumNames<ListType> {
  static constexpr std::array<std::string_view, 2> kValues = {"URLList", "FileHashList"};
};

enum class UrlListType { kExact, kRegex };
template <>
struct EnumNames<UrlListType> {
  static constexpr std::array<std::string_view, 2> kValues = {"exact", "regex"};
};

// Shared: remove only what this configuration pushed (known from the ledger). Exclusive: make the
// list equal to the desired set.
enum class Ownership { kShared, kExclusive };
template <>
struct EnumNames<Ownership> {
  static constexpr std::array<std::string_view, 2> kValues = {"Shared", "Exclusive"};
};

// What deletion does to pushed entries: Retract removes them (and deploys) first, Orphan leaves
// them.
enum class DeletionPolicy { kRetract, kOrphan };
template <>
struct EnumNames<DeletionPolicy> {
  static constexpr std::array<std::string_view, 2> kValues = {"Retract", "Orphan"};
};

// Schema defaults and bounds (crds/sharingconfiguration.yaml); a unit test keeps them in step.
// The list size defaults depend on the list type, which a schema default cannot express, so the
// operator applies them: 7 MiB for URL lists and 8 MiB for file-hash lists, Cloud Exchange's caps.
inline constexpr int32_t kDefaultUrlListSizeMB = 7;
inline constexpr int32_t kDefaultFileHashListSizeMB = 8;
inline constexpr int32_t kMaxUrlListSizeMB = 7;
inline constexpr int32_t kMaxListSizeMB = 8;
inline constexpr size_t kMaxListNameLength = 255;
inline constexpr UrlListType kDefaultUrlListType = UrlListType::kExact;
inline constexpr std::string_view kDefaultSyncInterval = "10m";
// The shortest drift check the operator runs, whatever syncInterval says.
inline constexpr std::chrono::seconds kMinSyncInterval{5};
inline constexpr Ownership kDefaultOwnership = Ownership::kShared;
inline constexpr DeletionPolicy kDefaultDeletionPolicy = DeletionPolicy::kRetract;
inline constexpr bool kDefaultSuspend = false;

// Setting this annotation to a new value asks for an immediate sync; status.lastHandledReconcileAt
// echoes the value once handled (the same convention as Flux's reconcile.fluxcd.io/requestedAt).
inline constexpr std::string_view kRequestedAtAnnotation = "cte.netskope.io/reconcile-requested-at";

// Ready=False reason when another SharingConfiguration already writes the same target list.
inline constexpr std::string_view kReasonTargetConflict = "TargetConflict";

// The characters Netskope rejects in list names (reference/netskope-api.md §3.2).
inline constexpr std::string_view kForbiddenListNameChars = "<>/!@#$%^&*(){};+=,?.|:'\"";

// Whether `name` avoids kForbiddenListNameChars and fits kMaxListNameLength. Empty is allowed
// here; whether a name is required is decided by the caller.
bool IsValidListName(std::string_view name);

struct SharingTarget {
  ListType type = ListType::kUrlList;
  std::optional<std::string> list_name;  // empty or absent: default_list_name
  std::optional<std::string> default_list_name;
  std::optional<int32_t> list_size_mb;
  std::optional<UrlListType> url_list_type;

  // The list name in effect: list_name unless empty, else default_list_name.
  std::string EffectiveListName() const;
  // The size cap in MiB in effect, applying the per-type default.
  int32_t EffectiveListSizeMB() const;
  UrlListType UrlListTypeOrDefault() const { return url_list_type.value_or(kDefaultUrlListType); }

  static StatusOr<SharingTarget> FromJson(const nlohmann::json& json, const std::string& path);
  nlohmann::json ToJson() const;
};

struct SharingConfigurationSpec {
  LocalObjectReference source_plugin_ref;
  LocalObjectReference business_rule_ref;
  LocalObjectReference destination_plugin_ref;  // must name a plugin of type Netskope
  SharingTarget target;
  std::optional<std::string> sync_interval;  // a duration such as "10m"
  std::optional<Ownership> ownership;
  std::optional<DeletionPolicy> deletion_policy;
  std::optional<bool> suspend;

  std::chrono::seconds SyncInterval() const;
  Ownership OwnershipOrDefault() const { return ownership.value_or(kDefaultOwnership); }
  DeletionPolicy DeletionPolicyOrDefault() const {
    return deletion_policy.value_or(kDefaultDeletionPolicy);
  }
  bool SuspendOrDefault() const { return suspend.value_or(kDefaultSuspend); }

  static StatusOr<SharingConfigurationSpec> FromJson(const nlohmann::json& json,
                                                     const std::string& path);
  nlohmann::json ToJson() const;
};

struct SharingConfigurationStatus : StatusBase {
  std::optional<std::string> list_name;  // the name in effect at the last sync
  std::optional<int64_t> list_id;        // URL lists only
  std::optional<int64_t> shared_count;
  std::optional<int64_t> matched_count;
  std::optional<int64_t> truncated_count;
  std::optional<int64_t> invalid_count;
  std::optional<int64_t> list_entries;
  std::optional<int64_t> list_bytes;
  std::optional<std::string> last_sync_result;
  std::optional<Time> last_sync_time;  // last change made to the tenant's list
  std::optional<std::string> last_handled_reconcile_at;

  bool IsEmpty() const {
    return !HasCommon() && !list_name && !list_id && !shared_count && !matched_count &&
           !truncated_count && !invalid_count && !list_entries && !list_bytes &&
           !last_sync_result && !last_sync_time && !last_handled_reconcile_at;
  }
  static StatusOr<SharingConfigurationStatus> FromJson(const nlohmann::json& json,
                                                       const std::string& path);
  nlohmann::json ToJson() const;
};

struct SharingConfiguration {
  static constexpr std::string_view kKind = "SharingConfiguration";
  static constexpr std::string_view kPlural = "sharingconfigurations";

  ObjectMeta metadata;
  SharingConfigurationSpec spec;
  SharingConfigurationStatus status;

  static StatusOr<SharingConfiguration> FromJson(const nlohmann::json& json);
  nlohmann::json ToJson() const;
};

}  // namespace cte::api
