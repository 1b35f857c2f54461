// What the sharing engine reports, as a small interface (like runtime_metrics.h): the
// implementation in sharing_metrics_impl.h exports it with the cte_ names of docs/metrics.md, and
// tests pass a fake. Labels are bounded: per tenant and list, never per indicator.
#pragma once

#include <string_view>

#include "operator/core/clock.h"

namespace cte::metrics {

class SharingMetrics {
 public:
  virtual ~SharingMetrics() = default;
  // One configuration's sync of one list ended: cte_sync_total{tenant,list,result} and
  // cte_sync_duration_seconds{tenant,list}.
  virtual void SyncFinished(std::string_view tenant, std::string_view list, bool ok,
                            Duration duration) = 0;
  // The list's state after a sync: cte_list_entries, cte_list_bytes and
  // cte_list_truncated_entries{tenant,list}.
  virtual void ListState(std::string_view tenant, std::string_view list, double entries,
                         double bytes, double truncated) = 0;
  // The list is no longer written by any configuration: its gauges go away.
  virtual void ListGone(std::string_view tenant, std::string_view list) = 0;
  // cte_deploy_total{tenant,result}.
  virtual void Deployed(std::string_view tenant, bool ok) = 0;
};

}  // namespace cte::metrics
