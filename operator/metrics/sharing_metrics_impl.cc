#include "operator/metrics/sharing_metrics_impl.h"

#include "operator/metrics/buckets.h"

namespace cte::metrics {

SharingMetricsImpl::SharingMetricsImpl(Registry& registry)
    : syncs_(registry.AddCounter("cte_sync_total",
                                 "Syncs of a target list by a SharingConfiguration, by result "
                                 "(success or error)."),
             {"tenant", "list", "result"}),
      sync_duration_(registry.AddHistogram("cte_sync_duration_seconds",
                                           "Duration of one list's sync: plan, compare, write."),
                     {"tenant", "list"}, ExponentialBuckets(0.005, 2, 15)),
      deploys_(registry.AddCounter("cte_deploy_total",
                                   "URL-list deploys on a tenant, by result (one per sync cycle "
                                   "that wrote a URL list)."),
               {"tenant", "result"}),
      entries_(registry.AddGauge("cte_list_entries",
                                 "Entries on a target list after the last sync (list is url:NAME "
                                 "or hash:NAME).")),
      bytes_(registry.AddGauge("cte_list_bytes",
                               "JSON size in bytes of a target list's content after the last "
                               "sync.")),
      truncated_(registry.AddGauge("cte_list_truncated_entries",
                                   "Matching indicators that did not fit a target list's caps at "
                                   "the last sync.")) {}

void SharingMetricsImpl::SyncFinished(std::string_view tenant, std::string_view list, bool ok,
                                      Duration duration) {
  syncs_.Get({tenant, list, ok ? "success" : "error"}).Increment();
  ObserveSeconds(sync_duration_.Get({tenant, list}), duration);
}

void SharingMetricsImpl::ListState(std::string_view tenant, std::string_view list, double entries,
                                   double bytes, double truncated) {
  std::lock_guard<std::mutex> lock(mu_);
  auto key = std::make_pair(std::string(tenant), std::string(list));
  auto it = lists_.find(key);
  if (it == lists_.end()) {
    prometheus::Labels labels = {{"tenant", key.first}, {"list", key.second}};
    it = lists_
             .emplace(key, ListGauges{&entries_.Add(labels), &bytes_.Add(labels),
                                      &truncated_.Add(labels)})
             .first;
  }
  it->second.entries->Set(entries);
  it->second.bytes->Set(bytes);
  it->second.truncated->Set(truncated);
}

void SharingMetricsImpl::ListGone(std::string_view tenant, std::string_view list) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = lists_.find({std::string(tenant), std::string(list)});
  if (it == lists_.end()) return;
  entries_.Remove(it->second.entries);
  bytes_.Remove(it->second.bytes);
  truncated_.Remove(it->second.truncated);
  lists_.erase(it);
}

void SharingMetricsImpl::Deployed(std::string_view tenant, bool ok) {
  deploys_.Get({tenant, ok ? "success" : "error"}).Increment();
}

}  // namespace cte::metrics
