// SharingMetrics exported with the cte_ names of docs/metrics.md.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "operator/metrics/child_cache.h"
#include "operator/metrics/registry.h"
#include "operator/metrics/sharing_metrics.h"

namespace cte::metrics {

class SharingMetricsImpl : public SharingMetrics {
 public:
  explicit SharingMetricsImpl(Registry& registry);

  void SyncFinished(std::string_view tenant, std::string_view list, bool ok,
                    Duration duration) override;
  void ListState(std::string_view tenant, std::string_view list, double entries, double bytes,
                 double truncated) override;
  void ListGone(std::string_view tenant, std::string_view list) override;
  void Deployed(std::string_view tenant, bool ok) override;

 private:
  struct ListGauges {
    Gauge* entries;
    Gauge* bytes;
    Gauge* truncated;
  };
  ChildCache<Counter> syncs_;
  ChildCache<Histogram> sync_duration_;
  ChildCache<Counter> deploys_;
  Family<Gauge>& entries_;
  Family<Gauge>& bytes_;
  Family<Gauge>& truncated_;
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, ListGauges> lists_;
};

}  // namespace cte::metrics
