// A controller: a work queue of object keys fed by informers, and N workers that call the
// Reconciler for each key. Mirrors controller-runtime's semantics:
//   - Result::Ok forgets the key's backoff; RequeueAfter re-adds it after a delay;
//   - a retryable error re-adds it with per-key exponential backoff; a server-supplied
//     Retry-After is honoured and the backoff still advances (the longer delay wins);
//   - a terminal error is not retried until the object changes (a new event enqueues it again);
//   - an exception escaping Reconcile is caught, counted as a panic and retried like an error;
//   - each reconcile has a deadline (ReconcileContext); one that returns past it is counted in
//     controller_runtime_reconcile_timeouts_total.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "operator/core/clock.h"
#include "operator/core/log.h"
#include "operator/core/random.h"
#include "operator/core/status.h"
#include "operator/kube/informer.h"
#include "operator/kube/work_queue.h"
#include "operator/metrics/runtime_metrics.h"

namespace cte::kube {

// Annotation that asks for an immediate reconcile; its value is copied to
// status.lastHandledReconcileAt once handled (Flux's reconcile.fluxcd.io/requestedAt convention).
inline constexpr const char* kReconcileRequestedAtAnnotation =
    "cte.netskope.io/reconcile-requested-at";

struct Request {
  std::string ns;
  std::string name;
  std::string Key() const { return ns.empty() ? name : ns + "/" + name; }
  static Request FromKey(const std::string& key);
};

class Result {
 public:
  enum class Kind { kOk, kRequeueAfter, kRetryableError, kTerminalError };

  static Result Ok() { return Result(Kind::kOk, Duration::zero(), Status::Ok()); }
  static Result RequeueAfter(Duration d) { return Result(Kind::kRequeueAfter, d, Status::Ok()); }
  static Result Error(Status s) {
    return Result(Kind::kRetryableError, Duration::zero(), std::move(s));
  }
  static Result Terminal(Status s) {
    return Result(Kind::kTerminalError, Duration::zero(), std::move(s));
  }
  // Retryable or terminal according to the status code.
  static Result FromStatus(Status s) {
    if (s.ok()) return Ok();  // the outcome of a write that succeeded
    return s.IsRetryable() ? Error(std::move(s)) : Terminal(std::move(s));
  }
  // For the result of a lookup: Ok when the object is gone (nothing left to do), otherwise as
  // FromStatus.
  static Result IgnoreNotFound(Status s) {
    if (s.ok() || s.code() == StatusCode::kNotFound) return Ok();
    return FromStatus(std::move(s));
  }

  Kind kind() const { return kind_; }
  Duration requeue_after() const { return after_; }
  const Status& error() const { return error_; }

 private:
  Result(Kind k, Duration d, Status s) : kind_(k), after_(d), error_(std::move(s)) {}
  Kind kind_;
  Duration after_;
  Status error_;
};

// What a reconcile gets besides the request. Long calls (the tenant API) read the deadline and
// the stop flag so they can give up early: on shutdown or loss of leadership the controller
// stops taking work and waits only a bounded time for the reconciles in flight.
struct ReconcileContext {
  Logger log;  // carries controller, object key and reconcile id
  std::string reconcile_id;
  const Clock* clock = nullptr;
  MonoTime deadline = MonoTime::max();
  const std::atomic<bool>* stopping = nullptr;  // set when the controller is shutting down

  // Time left before the deadline (zero once it has passed).
  Duration Remaining() const;
  // True once the deadline has passed or the controller is stopping: finish up and return.
  bool Done() const;
};

class Reconciler {
 public:
  virtual ~Reconciler() = default;
  // Called from a worker thread; never concurrently for the same key.
  virtual Result Reconcile(const Request& request, const ReconcileContext& context) = 0;
};

// Decides whether an update should enqueue. The default passes when the generation, deletion
// timestamp, finalizers or the reconcile-requested-at annotation changed, so status-only writes
// (ours or anyone's) do not cause reconciles.
using UpdatePredicate =
    std::function<bool(const nlohmann::json& old_obj, const nlohmann::json& new_obj)>;
bool DefaultUpdatePredicate(const nlohmann::json& old_obj, const nlohmann::json& new_obj);

struct ControllerOptions {
  int workers = 1;
  BackoffPolicy per_key_backoff{std::chrono::seconds(1), std::chrono::minutes(5), 2.0, 0.1};
  // Deadline of one reconcile (controller-runtime's ReconciliationTimeout).
  Duration reconcile_timeout = std::chrono::minutes(5);
};

// Maps a related object to the requests it should trigger (a Secret to the tenants that use it).
using MapFunc = std::function<std::vector<Request>(const nlohmann::json&)>;

class Controller {
 public:
  Controller(std::string name, Reconciler& reconciler, Clock& clock, Random& random, Logger logger,
             ControllerOptions options = {}, metrics::WorkqueueMetrics* queue_metrics = nullptr,
             metrics::ControllerMetrics* metrics = nullptr);
  ~Controller();

  // Enqueues the object itself on add/delete and on updates the predicate accepts. Before Start().
  // Both return the controller, so registration chains: AddController(...).For(...).Watches(...).
  Controller& For(Informer& informer, UpdatePredicate predicate = DefaultUpdatePredicate);
  // Enqueues the requests `map` returns for a change of a related object (e.g. a Secret maps to
  // the tenants that reference it) that `predicate` accepts (default: any change at all, since a
  // Secret's data has no generation). Both the old and the new object are mapped on an update, so
  // a reference that moved reaches both sides. Before Start().
  Controller& Watches(Informer& informer, MapFunc map, UpdatePredicate predicate = nullptr);

  void Start();
  // Stops taking work (queued keys are dropped; they are listed again by whoever runs next) and
  // raises the stop flag reconciles see. Returns at once; does not wait.
  void StopTakingWork();
  // StopTakingWork, then lets in-flight reconciles finish within `drain`. Returns false if a
  // worker was still busy when the budget ran out (its thread is then left behind).
  bool Stop(Duration drain);

  // True when no reconcile is running and none will start: never started, or stopped from
  // taking work and every worker has returned.
  bool Idle() const;

  const std::string& name() const { return name_; }
  WorkQueue& queue() { return queue_; }
  // Longest time a worker has been inside one Reconcile (for /healthz).
  Duration LongestRunning() const;
  int workers() const { return options_.workers; }

 private:
  class Handler;
  void Worker(int index);
  void ProcessOne(const std::string& key);

  std::string name_;
  Reconciler& reconciler_;
  Clock& clock_;
  Logger log_;
  ControllerOptions options_;
  metrics::ControllerMetrics* metrics_;
  WorkQueue queue_;
  std::vector<std::unique_ptr<Handler>> handlers_;
  std::vector<std::thread> threads_;
  std::atomic<uint64_t> reconcile_seq_{0};
  std::atomic<int> started_workers_{0};
  std::atomic<int> finished_workers_{0};
  std::atomic<bool> stopping_{false};
};

}  // namespace cte::kube
