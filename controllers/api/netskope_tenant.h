// NetskopeTenant (cte.netskope.io/v1alpha1): a Netskope tenant's host name and the Secrets that
// hold its API tokens. The C++ mirror of crds/netskopetenant.yaml; the reconciler, the tenant
// client factory and the CTEPlugin reconciler read it.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "controllers/api/common.h"
#include "operator/core/status.h"

namespace cte::api {

// Schema defaults (crds/netskopetenant.yaml); a unit test keeps the two in step. The API server
// fills them in, so they matter only for objects that did not pass through it.
inline constexpr int32_t kDefaultInitialRangeDays = 7;
inline constexpr int32_t kMaxInitialRangeDays = 365;
inline constexpr bool kDefaultUseSystemProxy = false;

// A host name with at least one dot, in lower case ("acme.goskope.com"): the tenantName pattern.
bool IsTenantHostName(std::string_view host);

struct NetskopeTenantSpec {
  std::string tenant_name;
  SecretKeyRef v1_token_secret_ref;
  std::optional<SecretKeyRef> v2_token_secret_ref;
  std::optional<int32_t> initial_range_days;
  std::optional<bool> use_system_proxy;
  std::optional<std::string> api_base_url;
  std::optional<SecretKeyRef> ca_bundle_secret_ref;

  int32_t InitialRangeDaysOrDefault() const {
    return initial_range_days.value_or(kDefaultInitialRangeDays);
  }
  bool UseSystemProxyOrDefault() const { return use_system_proxy.value_or(kDefaultUseSystemProxy); }
  // The base of every API call: apiBaseURL when set, else https://<tenantName>. No trailing '/'.
  std::string BaseUrl() const;

  static StatusOr<NetskopeTenantSpec> FromJson(const nlohmann::json& json, const std::string& path);
  nlohmann::json ToJson() const;
};

struct NetskopeTenantStatus : StatusBase {
  std::optional<Time> last_checked_time;

  bool IsEmpty() const { return !HasCommon() && !last_checked_time; }
  static StatusOr<NetskopeTenantStatus> FromJson(const nlohmann::json& json,
                                                 const std::string& path);
  nlohmann::json ToJson() const;
};

struct NetskopeTenant {
  static constexpr std::string_view kKind = "NetskopeTenant";
  static constexpr std::string_view kPlural = "netskopetenants";

  ObjectMeta metadata;
  NetskopeTenantSpec spec;
  NetskopeTenantStatus status;

  // Parses a whole resource as the API server returns it.
  static StatusOr<NetskopeTenant> FromJson(const nlohmann::json& json);
  // apiVersion, kind, metadata, spec, and status when it has anything in it.
  nlohmann::json ToJson() const;
};

}  // namespace cte::api
