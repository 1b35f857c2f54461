#include "controllers/setup.h"

#include "controllers/indexes.h"

namespace cte::controllers {

Controllers::Controllers(const Dependencies& d)
    : tenants_(d.manager->InformerFor(kTenants)),
      plugins_(d.manager->InformerFor(kPlugins)),
      rules_(d.manager->InformerFor(kRules)),
      sharings_(d.manager->InformerFor(kSharings)),
      events_(d.manager->EventRecorderFor("cte.netskope.io/cte-operator")),
      engine_(*d.store, *d.clock, d.log.With("component", "sharing"), d.sharing_metrics),
      resolver_(plugins_, tenants_, rules_, *d.tenant_clients),
      tenant_reconciler_(*d.client, *d.clock, tenants_, d.manager->Secrets(), *d.tenant_clients,
                         events_, d.tenant_recheck),
      plugin_reconciler_(*d.client, *d.clock, plugins_, tenants_, d.manager->Secrets(),
                         *d.tenant_clients, *d.pollers, *d.credentials, *d.store, events_),
      rule_reconciler_(*d.client, *d.clock, rules_, sharings_, events_),
      sync_reconciler_(sharings_, resolver_, *d.tenant_clients, engine_, d.sync_debounce),
      sharing_reconciler_(*d.client, *d.clock, sharings_, plugins_, tenants_, rules_, resolver_,
                          engine_, sync_reconciler_, events_) {
  sharings_.AddIndex(kByPlugin, SharingPlugins);
  sharings_.AddIndex(kByRule, SharingRule);
  tenant_reconciler_.Register(*d.manager);
  plugin_reconciler_.Register(*d.manager);
  plugin_reconciler_.Subscribe(*d.store);
  rule_reconciler_.Register(*d.manager);
  kube::Controller& sharings = sharing_reconciler_.Register(*d.manager);
  kube::Controller& sync = sync_reconciler_.Register(*d.manager, sharings, d.tenant_sync_workers);
  // A tenant whose client appeared or changed starts its cycle.
  sync.Watches(tenants_.informer(), [](const nlohmann::json& t) {
    return std::vector<kube::Request>{kube::Request::FromKey(kube::ObjectKey(t))};
  });
  sync_reconciler_.Subscribe(*d.store);
}

}  // namespace cte::controllers
