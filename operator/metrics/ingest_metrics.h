// The ingest API's metrics: implements ingest::IngestObserver over the registry.
//   cte_ingest_requests_total{namespace,source,code}
//   cte_ingest_indicators_total{result}
//   cte_ingest_request_duration_seconds{route}
// Children are cached after their first use (every ingest request records here).
#pragma once

#include "operator/ingest/ingest_api.h"
#include "operator/metrics/child_cache.h"
#include "operator/metrics/registry.h"

namespace cte::metrics {

class IngestMetrics : public ingest::IngestObserver {
 public:
  explicit IngestMetrics(Registry& registry);

  void OnRequest(std::string_view route, std::string_view namespace_name, std::string_view source,
                 int code, std::optional<Duration> duration) override;
  void OnIndicators(std::string_view result, int64_t count) override;

 private:
  ChildCache<Counter> requests_;
  ChildCache<Counter> indicators_;
  ChildCache<Histogram> duration_;
};

}  // namespace cte::metrics
