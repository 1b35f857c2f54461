#include "operator/metrics/controller_runtime_metrics.h"

#include <charconv>
#include <string>

#include "operator/metrics/child_cache.h"

namespace cte::metrics {

namespace {
constexpr std::string_view kPriorityOverflow = "exceeded_cardinality_limit";

prometheus::Labels ControllerLabel(std::string_view name) {
  return {{"controller", std::string(name)}};
}

prometheus::Labels QueueLabels(std::string_view name) {
  return {{"name", std::string(name)}, {"controller", std::string(name)}};
}
}  // namespace

class ControllerRuntimeMetrics::ControllerImpl : public ControllerMetrics {
 public:
  ControllerImpl(ControllerRuntimeMetrics& m, std::string_view name)
      : success_(Result(m, name, "success")),
        error_(Result(m, name, "error")),
        requeue_(Result(m, name, "requeue")),
        requeue_after_(Result(m, name, "requeue_after")),
        errors_(m.reconcile_errors_.Add(ControllerLabel(name))),
        terminal_errors_(m.terminal_reconcile_errors_.Add(ControllerLabel(name))),
        panics_(m.reconcile_panics_.Add(ControllerLabel(name))),
        timeouts_(m.reconcile_timeouts_.Add(ControllerLabel(name))),
        time_(m.reconcile_time_.Add(ControllerLabel(name), ReconcileTimeBuckets())),
        max_concurrent_(m.max_concurrent_reconciles_.Add(ControllerLabel(name))),
        active_(m.active_workers_.Add(ControllerLabel(name))) {}

  void ReconcileStarted() override { active_.Increment(); }

  void ReconcileFinished(ReconcileResult result, Duration duration) override {
    active_.Decrement();
    ObserveSeconds(time_, duration);
    switch (result) {
      case ReconcileResult::kSuccess:
        success_.Increment();
        break;
      case ReconcileResult::kRequeue:
        requeue_.Increment();
        break;
      case ReconcileResult::kRequeueAfter:
        requeue_after_.Increment();
        break;
      case ReconcileResult::kTerminalError:
        terminal_errors_.Increment();
        [[fallthrough]];
      case ReconcileResult::kError:
        errors_.Increment();
        error_.Increment();
        break;
    }
  }

  void ReconcilePanicked() override { panics_.Increment(); }
  void ReconcileTimedOut() override { timeouts_.Increment(); }
  void SetMaxConcurrentReconciles(int workers) override { max_concurrent_.Set(workers); }

 private:
  static Counter& Result(ControllerRuntimeMetrics& m, std::string_view name, const char* result) {
    return m.reconcile_total_.Add({{"controller", std::string(name)}, {"result", result}});
  }

  Counter& success_;
  Counter& error_;
  Counter& requeue_;
  Counter& requeue_after_;
  Counter& errors_;
  Counter& terminal_errors_;
  Counter& panics_;
  Counter& timeouts_;
  Histogram& time_;
  Gauge& max_concurrent_;
  Gauge& active_;
};

class ControllerRuntimeMetrics::WorkqueueImpl : public WorkqueueMetrics {
 public:
  WorkqueueImpl(ControllerRuntimeMetrics& m, std::string_view name)
      : name_(name),
        depth_family_(m.workqueue_depth_),
        adds_(m.workqueue_adds_.Add(QueueLabels(name))),
        queue_duration_(
            m.workqueue_queue_duration_.Add(QueueLabels(name), WorkqueueDurationBuckets())),
        work_duration_(
            m.workqueue_work_duration_.Add(QueueLabels(name), WorkqueueDurationBuckets())),
        unfinished_(m.workqueue_unfinished_work_.Add(QueueLabels(name))),
        longest_(m.workqueue_longest_running_processor_.Add(QueueLabels(name))),
        retries_(m.workqueue_retries_.Add(QueueLabels(name))) {
    Depth(0);  // so the queue shows up in workqueue_depth before its first add
  }

  void Add(int priority) override {
    adds_.Increment();
    Depth(priority).Increment();
  }
  void UpdatePriority(int from, int to) override {
    if (from == to) return;
    Depth(from).Decrement();
    Depth(to).Increment();
  }
  void Get(int priority, Duration queued_for) override {
    Depth(priority).Decrement();
    ObserveSeconds(queue_duration_, queued_for);
  }
  void Done(Duration worked_for) override { ObserveSeconds(work_duration_, worked_for); }
  void Retry() override { retries_.Increment(); }
  void SetUnfinishedWork(const UnfinishedWork& work) override {
    unfinished_.Set(std::chrono::duration<double>(work.total).count());
    longest_.Set(std::chrono::duration<double>(work.longest).count());
  }

 private:
  // The depth gauge of one priority. Unlike controller-runtime, which sends every priority to
  // the overflow series once the limit is passed (so a Dec can land on a different series than
  // its Inc), priorities seen before the limit keep their own series: each series stays >= 0.
  Gauge& Depth(int priority) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = depth_.find(priority);
    if (it != depth_.end()) return *it->second;
    prometheus::Labels labels = QueueLabels(name_);
    labels["priority"] = depth_.size() < static_cast<size_t>(kMaxDepthPriorities)
                             ? std::to_string(priority)
                             : std::string(kPriorityOverflow);
    Gauge* gauge = &depth_family_.Add(labels);
    // Remember overflowed priorities too, so their Inc and Dec always meet on the same series.
    depth_.emplace(priority, gauge);
    return *gauge;
  }

  const std::string name_;
  Family<Gauge>& depth_family_;
  Counter& adds_;
  Histogram& queue_duration_;
  Histogram& work_duration_;
  Gauge& unfinished_;
  Gauge& longest_;
  Counter& retries_;

  std::mutex mu_;
  std::map<int, Gauge*> depth_;
};

class ControllerRuntimeMetrics::RestClientImpl : public RestClientMetrics {
 public:
  explicit RestClientImpl(Family<Counter>& requests)
      : requests_(requests, {"code", "method", "host"}) {}

  // Called for every request to the API server: a cached child, no allocation after the first.
  void Observe(int status_code, std::string_view method, std::string_view host) override {
    char digits[16];
    std::string_view code = "<error>";
    if (status_code > kNoResponse) {
      auto r = std::to_chars(digits, digits + sizeof(digits), status_code);
      code = std::string_view(digits, static_cast<size_t>(r.ptr - digits));
    }
    requests_.Get({code, method, host}).Increment();
  }

 private:
  ChildCache<Counter> requests_;
};

class ControllerRuntimeMetrics::LeaderImpl : public LeaderMetrics {
 public:
  explicit LeaderImpl(Gauge& gauge) : gauge_(gauge) { gauge_.Set(0); }
  void Set(bool is_leader) override { gauge_.Set(is_leader ? 1 : 0); }

 private:
  Gauge& gauge_;
};

const std::vector<double>& ControllerRuntimeMetrics::ReconcileTimeBuckets() {
  static const std::vector<double> kBuckets = {
      0.005, 0.01, 0.025, 0.05, 0.1,  0.15, 0.2,  0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6,
      0.7,   0.8,  0.9,   1.0,  1.25, 1.5,  1.75, 2.0,  2.5, 3.0,  3.5, 4.0,  4.5, 5,
      6,     7,    8,     9,    10,   15,   20,   25,   30,  40,   50,  60};
  return kBuckets;
}

const std::vector<double>& ControllerRuntimeMetrics::WorkqueueDurationBuckets() {
  static const std::vector<double> kBuckets = ExponentialBuckets(10e-9, 10, 12);
  return kBuckets;
}

ControllerRuntimeMetrics::ControllerRuntimeMetrics(Registry& registry)
    : reconcile_total_(registry.AddCounter("controller_runtime_reconcile_total",
                                           "Total number of reconciliations per controller")),
      reconcile_errors_(
          registry.AddCounter("controller_runtime_reconcile_errors_total",
                              "Total number of reconciliation errors per controller")),
      terminal_reconcile_errors_(
          registry.AddCounter("controller_runtime_terminal_reconcile_errors_total",
                              "Total number of terminal reconciliation errors per controller")),
      reconcile_panics_(
          registry.AddCounter("controller_runtime_reconcile_panics_total",
                              "Total number of reconciliation panics per controller")),
      reconcile_timeouts_(
          registry.AddCounter("controller_runtime_reconcile_timeouts_total",
                              "Total number of reconciliation timeouts per controller")),
      reconcile_time_(registry.AddHistogram("controller_runtime_reconcile_time_seconds",
                                            "Length of time per reconciliation per controller")),
      max_concurrent_reconciles_(
          registry.AddGauge("controller_runtime_max_concurrent_reconciles",
                            "Maximum number of concurrent reconciles per controller")),
      active_workers_(registry.AddGauge("controller_runtime_active_workers",
                                        "Number of currently used workers per controller")),
      workqueue_depth_(registry.AddGauge("workqueue_depth",
                                         "Current depth of workqueue by workqueue and priority")),
      workqueue_adds_(
          registry.AddCounter("workqueue_adds_total", "Total number of adds handled by workqueue")),
      workqueue_queue_duration_(registry.AddHistogram(
          "workqueue_queue_duration_seconds",
          "How long in seconds an item stays in workqueue before being requested")),
      workqueue_work_duration_(
          registry.AddHistogram("workqueue_work_duration_seconds",
                                "How long in seconds processing an item from workqueue takes.")),
      workqueue_unfinished_work_(registry.AddGauge(
          "workqueue_unfinished_work_seconds",
          "How many seconds of work has been done that is in progress and hasn't been observed "
          "by work_duration. Large values indicate stuck threads. One can deduce the number of "
          "stuck threads by observing the rate at which this increases.")),
      workqueue_longest_running_processor_(registry.AddGauge(
          "workqueue_longest_running_processor_seconds",
          "How many seconds has the longest running processor for workqueue been running.")),
      workqueue_retries_(registry.AddCounter("workqueue_retries_total",
                                             "Total number of retries handled by workqueue")),
      rest_client_requests_(registry.AddCounter(
          "rest_client_requests_total",
          "Number of HTTP requests, partitioned by status code, method, and host.")),
      leader_election_master_status_(registry.AddGauge(
          "leader_election_master_status",
          "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, "
          "1 indicates master. 'name' is the string used to identify the lease. Please make sure "
          "to group by name.")) {}

ControllerRuntimeMetrics::~ControllerRuntimeMetrics() = default;

ControllerMetrics& ControllerRuntimeMetrics::Controller(std::string_view name,
                                                        int max_concurrent_reconciles) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = controllers_.find(name);
  if (it == controllers_.end()) {
    it = controllers_.emplace(std::string(name), std::make_unique<ControllerImpl>(*this, name))
             .first;
  }
  it->second->SetMaxConcurrentReconciles(max_concurrent_reconciles);
  return *it->second;
}

WorkqueueMetrics& ControllerRuntimeMetrics::Workqueue(std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = workqueues_.find(name);
  if (it == workqueues_.end()) {
    it = workqueues_.emplace(std::string(name), std::make_unique<WorkqueueImpl>(*this, name)).first;
  }
  return *it->second;
}

RestClientMetrics& ControllerRuntimeMetrics::RestClient() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!rest_client_) rest_client_ = std::make_unique<RestClientImpl>(rest_client_requests_);
  return *rest_client_;
}

LeaderMetrics& ControllerRuntimeMetrics::Leader(std::string_view lease_name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = leaders_.find(lease_name);
  if (it == leaders_.end()) {
    it = leaders_
             .emplace(std::string(lease_name),
                      std::make_unique<LeaderImpl>(
                          leader_election_master_status_.Add({{"name", std::string(lease_name)}})))
             .first;
  }
  return *it->second;
}

}  // namespace cte::metrics
