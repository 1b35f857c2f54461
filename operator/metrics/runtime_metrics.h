// The metric seams of the controller runtime: what a controller, a work queue, the Kubernetes REST
// client and the leader elector report, as small interfaces. operator/kube depends only on these;
// ControllerRuntimeMetrics (controller_runtime_metrics.h) implements them with
// controller-runtime's metric names, and tests of the runtime pass fakes that record calls.
//
// Durations are measured by the caller with its injected Clock, so a test with a SimulatedClock
// gets exact values. Every method is cheap (a few atomic operations), never blocks on I/O, and
// may be called from any thread.
#pragma once

#include <string_view>

#include "operator/core/clock.h"

namespace cte::metrics {

// How one reconcile ended; maps onto controller_runtime_reconcile_total's `result` label.
enum class ReconcileResult {
  kSuccess,       // result="success": done, forget the key's backoff
  kRequeue,       // result="requeue": asked to run again with rate-limited backoff
  kRequeueAfter,  // result="requeue_after": asked to run again after a fixed delay
  kError,         // result="error": retryable error (also reconcile_errors_total)
  kTerminalError  // result="error": not retried until the object changes (also
                  // reconcile_errors_total and terminal_reconcile_errors_total)
};

// Per-controller reconcile metrics. One instance per controller, shared by its workers.
class ControllerMetrics {
 public:
  virtual ~ControllerMetrics() = default;

  // A worker picked up a key and is about to call the reconciler (active_workers + 1).
  virtual void ReconcileStarted() = 0;
  // The reconcile announced by ReconcileStarted() returned after `duration`: active_workers - 1,
  // reconcile_total{result} + 1, reconcile_time_seconds observes `duration`, and errors are
  // counted as described on ReconcileResult. Call exactly once per ReconcileStarted().
  virtual void ReconcileFinished(ReconcileResult result, Duration duration) = 0;
  // An exception escaped the reconciler and was caught (reconcile_panics_total + 1). Like
  // controller-runtime, which turns a recovered panic into an error, the caller still reports
  // ReconcileFinished(kError or kTerminalError) for that reconcile.
  virtual void ReconcilePanicked() = 0;
  // The reconcile ran past its deadline (reconcile_timeouts_total + 1); also reported through
  // ReconcileFinished with the error it produced.
  virtual void ReconcileTimedOut() = 0;
  // max_concurrent_reconciles; set at registration, call again only if the worker count changes.
  virtual void SetMaxConcurrentReconciles(int workers) = 0;
};

// The amount of work in progress, sampled periodically (see UnfinishedWorkUpdater).
struct UnfinishedWork {
  // Sum over in-flight items of (now - processing start): workqueue_unfinished_work_seconds.
  Duration total{0};
  // The oldest in-flight item's age: workqueue_longest_running_processor_seconds.
  Duration longest{0};
};

// Per-queue metrics, called by the work queue (client-go's queueMetrics, with the priority the
// controller-runtime priority queue adds to workqueue_depth).
class WorkqueueMetrics {
 public:
  virtual ~WorkqueueMetrics() = default;

  // An item became ready for a worker (a new key, not a duplicate of one already waiting; a
  // delayed add counts when its delay has passed): adds_total + 1, depth{priority} + 1.
  virtual void Add(int priority) = 0;
  // A waiting item's priority changed (a higher-priority add of the same key): moves one unit of
  // depth from `from` to `to`.
  virtual void UpdatePriority(int from, int to) = 0;
  // A worker took an item that had waited `queued_for` since its Add: depth{priority} - 1,
  // queue_duration_seconds observes `queued_for`.
  virtual void Get(int priority, Duration queued_for) = 0;
  // A worker finished an item after `worked_for`: work_duration_seconds observes it.
  virtual void Done(Duration worked_for) = 0;
  // An add with a delay (rate-limited requeue, requeue-after, AddAfter): retries_total + 1.
  virtual void Retry() = 0;
  // Sets unfinished_work_seconds and longest_running_processor_seconds.
  virtual void SetUnfinishedWork(const UnfinishedWork& work) = 0;
};

// rest_client_requests_total{code,method,host}, one call per HTTP request to the API server.
class RestClientMetrics {
 public:
  virtual ~RestClientMetrics() = default;

  // Pass for a request that got no HTTP response (connection refused, TLS failure, timeout);
  // recorded as code="<error>", as client-go does.
  static constexpr int kNoResponse = 0;

  // `status_code` is the HTTP status (or kNoResponse), `method` the HTTP verb ("GET", "PATCH"),
  // `host` the API server's host:port as in the request URL.
  virtual void Observe(int status_code, std::string_view method, std::string_view host) = 0;
};

// leader_election_master_status{name} for one lease.
class LeaderMetrics {
 public:
  virtual ~LeaderMetrics() = default;
  // true while this replica holds the lease, false when standing by or after losing it.
  virtual void Set(bool is_leader) = 0;
};

}  // namespace cte::metrics
