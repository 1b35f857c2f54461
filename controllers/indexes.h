// The cache indexes the reconcilers share: which objects reference which, as "namespace/name"
// keys, so a change of one object maps to the objects that depend on it (Secret -> tenants,
// tenant -> plugins, plugin -> sharing configurations, rule -> sharing configurations).
// References never cross namespaces (ARCHITECTURE §2), so a key is the referrer's namespace
// plus the referenced name.
#pragma once

#include <string>
#include <vector>

#include "controllers/api/business_rule.h"
#include "controllers/api/cte_plugin.h"
#include "controllers/api/netskope_tenant.h"
#include "controllers/api/sharing_configuration.h"
#include "operator/kube/request.h"

namespace cte::controllers {

inline const kube::GroupVersionResource kTenants{"cte.netskope.io", "v1alpha1", "netskopetenants",
                                                 true, "NetskopeTenant"};
inline const kube::GroupVersionResource kPlugins{"cte.netskope.io", "v1alpha1", "cteplugins", true,
                                                 "CTEPlugin"};
inline const kube::GroupVersionResource kRules{"cte.netskope.io", "v1alpha1", "businessrules", true,
                                               "BusinessRule"};
inline const kube::GroupVersionResource kSharings{
    "cte.netskope.io", "v1alpha1", "sharingconfigurations", true, "SharingConfiguration"};

// The finalizer a SharingConfiguration carries: its deletion waits until its entries are
// retracted (deletionPolicy Retract) or its ledger forgotten (Orphan).
inline constexpr const char* kSharingFinalizer = "cte.netskope.io/sharing-cleanup";

// Index names.
inline constexpr const char* kBySecret = "secret";  // tenants, plugins -> Secrets they read
inline constexpr const char* kByTenant = "tenant";  // plugins -> their NetskopeTenant
inline constexpr const char* kByPlugin = "plugin";  // sharings -> source and destination plugins
inline constexpr const char* kByRule = "rule";      // sharings -> their BusinessRule

std::string Key(const std::string& ns, const std::string& name);

std::vector<std::string> TenantSecrets(const api::NetskopeTenant& t);
std::vector<std::string> PluginSecrets(const api::CtePlugin& p);
std::vector<std::string> PluginTenant(const api::CtePlugin& p);
std::vector<std::string> SharingPlugins(const api::SharingConfiguration& s);
std::vector<std::string> SharingRule(const api::SharingConfiguration& s);

}  // namespace cte::controllers
