// CTEPlugin (cte.netskope.io/v1alpha1): a source of indicators. Type Netskope polls a tenant's
// alerts and is the only kind of plugin that can be a sharing destination; type APISource accepts
// indicators pushed over HTTPS. The C++ mirror of crds/cteplugin.yaml.
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

enum class PluginType { kNetskope, kApiSource };
template <>
struct EnumNames<PluginType> {
  static constexpr std::array<std::string_view, 2> kValues = {"Netskope", "APISource"};
};

// Which Netskope alerts become indicators: Malware gives md5/sha256, URL gives urls from malsite
// alerts.
enum class ThreatDataType { kMalware, kUrl, kBoth };
template <>
struct EnumNames<ThreatDataType> {
  static constexpr std::array<std::string_view, 3> kValues = {"Malware", "URL", "Both"};
};

// Schema defaults and bounds (crds/cteplugin.yaml); a unit test keeps the two in step. 90 days of
// aging and 0 ("keep") for reputation are Cloud Exchange's defaults.
inline constexpr int32_t kDefaultAgingDays = 90;
inline constexpr int32_t kMaxAgingDays = 365;
inline constexpr int32_t kDefaultOverrideReputation = 0;
inline constexpr int32_t kMaxOverrideReputation = 10;
inline constexpr bool kDefaultEnablePolling = true;
inline constexpr ThreatDataType kDefaultThreatDataType = ThreatDataType::kBoth;
inline constexpr std::string_view kDefaultPollInterval = "5m";

// spec.netskope: polling settings for type Netskope.
struct NetskopePluginSettings {
  std::optional<bool> enable_polling;
  std::optional<ThreatDataType> threat_data_type;
  std::optional<std::string> poll_interval;  // a duration such as "5m" (operator/core/duration.h)

  static StatusOr<NetskopePluginSettings> FromJson(const nlohmann::json& json,
                                                   const std::string& path);
  nlohmann::json ToJson() const;
};

// spec.apiSource: settings for type APISource.
struct ApiSourceSettings {
  // A Secret with the keys client_id and client_secret; the key names are fixed (they are what
  // Cloud Exchange's /api/auth takes), so the reference is by name only.
  LocalObjectReference credentials_secret_ref;

  static StatusOr<ApiSourceSettings> FromJson(const nlohmann::json& json, const std::string& path);
  nlohmann::json ToJson() const;
};

// The Secret keys an APISource credentials Secret must hold.
inline constexpr std::string_view kClientIdKey = "client_id";
inline constexpr std::string_view kClientSecretKey = "client_secret";

struct CtePluginSpec {
  PluginType type = PluginType::kNetskope;
  std::optional<LocalObjectReference> tenant_ref;  // required for kNetskope, absent otherwise
  std::optional<int32_t> aging_days;
  std::optional<int32_t> override_reputation;      // 0 keeps the indicator's own reputation
  std::optional<NetskopePluginSettings> netskope;  // kNetskope only
  std::optional<ApiSourceSettings> api_source;     // required for kApiSource, absent otherwise

  int32_t AgingDaysOrDefault() const { return aging_days.value_or(kDefaultAgingDays); }
  int32_t OverrideReputationOrDefault() const {
    return override_reputation.value_or(kDefaultOverrideReputation);
  }
  // Polling is on by default for a Netskope plugin, even when spec.netskope is absent.
  bool PollingEnabled() const;
  ThreatDataType ThreatDataTypeOrDefault() const;
  std::chrono::seconds PollInterval() const;

  static StatusOr<CtePluginSpec> FromJson(const nlohmann::json& json, const std::string& path);
  nlohmann::json ToJson() const;
};

struct CtePluginStatus : StatusBase {
  std::optional<int64_t> indicator_count;
  std::optional<int64_t> total_indicator_count;
  std::optional<std::string> last_poll_error;
  std::optional<Time> last_poll_time;

  bool IsEmpty() const {
    return !HasCommon() && !indicator_count && !total_indicator_count && !last_poll_error &&
           !last_poll_time;
  }
  static StatusOr<CtePluginStatus> FromJson(const nlohmann::json& json, const std::string& path);
  nlohmann::json ToJson() const;
};

struct CtePlugin {
  static constexpr std::string_view kKind = "CTEPlugin";
  static constexpr std::string_view kPlural = "cteplugins";

  ObjectMeta metadata;
  CtePluginSpec spec;
  CtePluginStatus status;

  static StatusOr<CtePlugin> FromJson(const nlohmann::json& json);
  nlohmann::json ToJson() const;
};

}  // namespace cte::api
