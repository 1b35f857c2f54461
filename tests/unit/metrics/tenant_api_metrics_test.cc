#include "operator/metrics/tenant_api_metrics.h"

#include <gtest/gtest.h>

namespace cte::metrics {
namespace {

TEST(TenantApiMetricsTest, RequestsDurationsAndThrottlesAreExported) {
  Registry registry;
  TenantApiMetrics m(registry);
  m.OnRequest("acme.goskope.com", "urllist_append", "200", std::chrono::milliseconds(12));
  m.OnRequest("acme.goskope.com", "urllist_append", "429", std::chrono::milliseconds(3));
  m.OnThrottled("acme.goskope.com");
  std::string text = registry.Render();
  EXPECT_NE(text.find("cte_tenant_api_requests_total{code=\"200\",endpoint=\"urllist_append\","
                      "tenant=\"acme.goskope.com\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("cte_tenant_api_throttled_total{tenant=\"acme.goskope.com\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("cte_tenant_api_request_duration_seconds_count{endpoint=\"urllist_append\","
                      "tenant=\"acme.goskope.com\"} 2"),
            std::string::npos)
      << text;
  // Buckets of 5 ms doubling: 12 ms falls in le=0.02, 3 ms in le=0.005.
  EXPECT_NE(text.find("cte_tenant_api_request_duration_seconds_bucket{endpoint=\"urllist_append\","
                      "tenant=\"acme.goskope.com\",le=\"0.005\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("cte_tenant_api_request_duration_seconds_bucket{endpoint=\"urllist_append\","
                      "tenant=\"acme.goskope.com\",le=\"0.02\"} 2"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace cte::metrics
