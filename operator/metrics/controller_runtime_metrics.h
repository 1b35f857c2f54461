// controller-runtime's metrics, with its exact names, help texts, labels and buckets, recorded
// through the small interfaces of runtime_metrics.h. Existing dashboards and alerts written for
// kubebuilder operators (controller_runtime_reconcile_total, workqueue_depth, ...) work unchanged.
//
// Sources (controller-runtime v0.23/v0.24): pkg/internal/controller/metrics/metrics.go,
// pkg/internal/metrics/workqueue.go, pkg/metrics/client_go_adapter.go,
// pkg/metrics/leaderelection.go; see docs/metrics.md for every series.
//
// main.cc creates one ControllerRuntimeMetrics over the process Registry and hands each
// controller, queue, REST client and leader elector the facade it needs. The facades live as long
// as this object, which must not outlive the Registry; asking twice for the same name returns the
// same facade. All methods are thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "operator/metrics/buckets.h"
#include "operator/metrics/registry.h"
#include "operator/metrics/runtime_metrics.h"

namespace cte::metrics {

class ControllerRuntimeMetrics {
 public:
  // Registers every family (no series yet; they appear as controllers and queues register).
  explicit ControllerRuntimeMetrics(Registry& registry);
  ~ControllerRuntimeMetrics();
  ControllerRuntimeMetrics(const ControllerRuntimeMetrics&) = delete;
  ControllerRuntimeMetrics& operator=(const ControllerRuntimeMetrics&) = delete;

  // The metrics of controller `name` (controller-runtime's default is the lowercased kind).
  // Creates, as controller-runtime does when a controller starts, all four
  // reconcile_total{result} series and the errors/terminal/panics/timeouts counters at 0,
  // active_workers at 0 and max_concurrent_reconciles at `max_concurrent_reconciles`. Every child
  // is looked up here once; the facade's methods touch only cached references.
  ControllerMetrics& Controller(std::string_view name, int max_concurrent_reconciles);

  // The metrics of the work queue of controller `name` (labels name=controller=`name`). Creates
  // adds/retries at 0, depth{priority="0"} at 0 and the in-flight gauges at 0.
  WorkqueueMetrics& Workqueue(std::string_view name);

  // rest_client_requests_total, shared by every REST client of the process. Its children
  // (code, method, host) are cached after their first request.
  RestClientMetrics& RestClient();

  // leader_election_master_status{name=`lease_name`}, created at 0 (standby).
  LeaderMetrics& Leader(std::string_view lease_name);

  // controller_runtime_reconcile_time_seconds: 0.005 ... 60.
  static const std::vector<double>& ReconcileTimeBuckets();
  // workqueue_{queue,work}_duration_seconds: ExponentialBuckets(10e-9, 10, 12) = 1e-8 ... 1000.
  static const std::vector<double>& WorkqueueDurationBuckets();
  // More distinct priorities than this on one queue share priority="exceeded_cardinality_limit".
  static constexpr int kMaxDepthPriorities = 25;

 private:
  class ControllerImpl;
  class WorkqueueImpl;
  class RestClientImpl;
  class LeaderImpl;

  Family<Counter>& reconcile_total_;
  Family<Counter>& reconcile_errors_;
  Family<Counter>& terminal_reconcile_errors_;
  Family<Counter>& reconcile_panics_;
  Family<Counter>& reconcile_timeouts_;
  Family<Histogram>& reconcile_time_;
  Family<Gauge>& max_concurrent_reconciles_;
  Family<Gauge>& active_workers_;

  Family<Gauge>& workqueue_depth_;
  Family<Counter>& workqueue_adds_;
  Family<Histogram>& workqueue_queue_duration_;
  Family<Histogram>& workqueue_work_duration_;
  Family<Gauge>& workqueue_unfinished_work_;
  Family<Gauge>& workqueue_longest_running_processor_;
  Family<Counter>& workqueue_retries_;

  Family<Counter>& rest_client_requests_;
  Family<Gauge>& leader_election_master_status_;

  std::mutex mu_;
  std::map<std::string, std::unique_ptr<ControllerImpl>, std::less<>> controllers_;
  std::map<std::string, std::unique_ptr<WorkqueueImpl>, std::less<>> workqueues_;
  std::map<std::string, std::unique_ptr<LeaderImpl>, std::less<>> leaders_;
  std::unique_ptr<RestClientImpl> rest_client_;
};

}  // namespace cte::metrics
