#include "operator/metrics/ingest_metrics.h"

#include <string>

#include "operator/metrics/buckets.h"

namespace cte::metrics {

IngestMetrics::IngestMetrics(Registry& registry)
    : requests_(registry.AddCounter(
                    "cte_ingest_requests_total",
                    "Requests to the ingest API, by the token's namespace and source plugin "
                    "(empty when not authenticated) and HTTP status."),
                {"namespace", "source", "code"}),
      indicators_(registry.AddCounter(
                      "cte_ingest_indicators_total",
                      "Indicators received by the ingest API: created (new), updated (merged into "
                      "an existing row) or rejected (validation, permissions or the store refused "
                      "the request)."),
                  {"result"}),
      duration_(registry.AddHistogram("cte_ingest_request_duration_seconds",
                                      "Duration of ingest API requests, from the handler's start "
                                      "to the answer (including the durable commit)."),
                {"route"},
                // 1 ms .. ~16 s: reads are quick, a 10,000-indicator POST waits for its fsync.
                ExponentialBuckets(0.001, 2, 15)) {}

void IngestMetrics::OnRequest(std::string_view route, std::string_view namespace_name,
                              std::string_view source, int code, std::optional<Duration> duration) {
  const std::string code_text = std::to_string(code);
  requests_.Get({namespace_name, source, code_text}).Increment();
  if (duration) ObserveSeconds(duration_.Get({route}), *duration);
}

void IngestMetrics::OnIndicators(std::string_view result, int64_t count) {
  if (count > 0) AddToCounter(indicators_.Get({result}), static_cast<double>(count));
}

}  // namespace cte::metrics
