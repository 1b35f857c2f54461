#include "operator/metrics/tenant_api_metrics.h"

#include "operator/metrics/buckets.h"

namespace cte::metrics {

TenantApiMetrics::TenantApiMetrics(Registry& registry)
    : requests_(registry.AddCounter("cte_tenant_api_requests_total",
                                    "Requests to Netskope tenant APIs, by tenant, endpoint and "
                                    "HTTP status (or timeout/error when no answer arrived)."),
                {"tenant", "endpoint", "code"}),
      duration_(registry.AddHistogram("cte_tenant_api_request_duration_seconds",
                                      "Duration of requests to Netskope tenant APIs."),
                {"tenant", "endpoint"},
                // 5 ms .. ~82 s: tenant calls range from fast reads to large list writes behind
                // a proxy.
                ExponentialBuckets(0.005, 2, 15)),
      throttled_(registry.AddCounter("cte_tenant_api_throttled_total",
                                     "Answers of 429 Too Many Requests from Netskope tenants."),
                 {"tenant"}) {}

void TenantApiMetrics::OnRequest(std::string_view tenant, std::string_view endpoint,
                                 std::string_view code, Duration duration) {
  requests_.Get({tenant, endpoint, code}).Increment();
  ObserveSeconds(duration_.Get({tenant, endpoint}), duration);
}

void TenantApiMetrics::OnThrottled(std::string_view tenant) {
  throttled_.Get({tenant}).Increment();
}

}  // namespace cte::metrics
