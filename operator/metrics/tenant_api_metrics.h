// The tenant client's metrics: implements netskope::TenantApiObserver over the registry.
//   cte_tenant_api_requests_total{tenant,endpoint,code}
//   cte_tenant_api_request_duration_seconds{tenant,endpoint}
//   cte_tenant_api_throttled_total{tenant}
// Children are cached after their first use (every tenant request records here).
#pragma once

#include "operator/metrics/child_cache.h"
#include "operator/metrics/registry.h"
#include "operator/netskope/tenant_api_observer.h"

namespace cte::metrics {

class TenantApiMetrics : public netskope::TenantApiObserver {
 public:
  explicit TenantApiMetrics(Registry& registry);

  void OnRequest(std::string_view tenant, std::string_view endpoint, std::string_view code,
                 Duration duration) override;
  void OnThrottled(std::string_view tenant) override;

 private:
  ChildCache<Counter> requests_;
  ChildCache<Histogram> duration_;
  ChildCache<Counter> throttled_;
};

}  // namespace cte::metrics
