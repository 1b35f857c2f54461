// Registers the four reconcilers and the tenant sync cycle on a manager: the typed listers and
// their indexes, the controllers and their watches, and the store subscription that schedules
// sync cycles. operator/main.cc calls it with the process's concrete dependencies.
#pragma once

#include <memory>

#include "controllers/business_rule_reconciler.h"
#include "controllers/cte_plugin_reconciler.h"
#include "controllers/netskope_tenant_reconciler.h"
#include "controllers/sharing_configuration_reconciler.h"
#include "controllers/sharing_resolver.h"
#include "controllers/tenant_clients.h"
#include "controllers/tenant_sync_reconciler.h"
#include "operator/metrics/sharing_metrics.h"

namespace cte::controllers {

struct Dependencies {
  kube::Manager* manager = nullptr;
  kube::KubeClient* client = nullptr;
  Clock* clock = nullptr;
  Logger log = NullLogger();
  store::IndicatorStore* store = nullptr;
  TenantClients* tenant_clients = nullptr;
  sources::AlertPollers* pollers = nullptr;
  ingest::StaticCredentialsRegistry* credentials = nullptr;
  metrics::SharingMetrics* sharing_metrics = nullptr;  // may be null
  Duration sync_debounce = std::chrono::seconds(1);
  int tenant_sync_workers = 16;  // tenants whose sync cycles run at once
  Duration tenant_recheck = std::chrono::minutes(5);
};

// Owns everything it registers; keep it alive as long as the manager runs.
class Controllers {
 public:
  explicit Controllers(const Dependencies& deps);
  Controllers(const Controllers&) = delete;
  Controllers& operator=(const Controllers&) = delete;

  sharing::SharingEngine& engine() { return engine_; }

 private:
  kube::Lister<api::NetskopeTenant> tenants_;
  kube::Lister<api::CtePlugin> plugins_;
  kube::Lister<api::BusinessRule> rules_;
  kube::Lister<api::SharingConfiguration> sharings_;
  kube::EventRecorder& events_;
  sharing::SharingEngine engine_;
  SharingResolver resolver_;
  NetskopeTenantReconciler tenant_reconciler_;
  CtePluginReconciler plugin_reconciler_;
  BusinessRuleReconciler rule_reconciler_;
  TenantSyncReconciler sync_reconciler_;
  SharingConfigurationReconciler sharing_reconciler_;
};

}  // namespace cte::controllers
