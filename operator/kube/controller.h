// A controller: a work queue of object keys fed by informers, and N workers that call the
// Reconciler for each key. Mirrors controller-runtime's semantics:
//   - Result::Ok forgets the key's backoff; RequeueAfter re-adds it after a delay;
//   - a retryable error re-adds it with per-key exponential backoff (honouring a server-supplied
//     Retry-After when larger);
//   - a terminal error is not retried until the object changes (a new event enqueues it again);
//   - an exception escaping Reconcile is caught, counted as a panic and retried like an error.
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
    return s.IsRetryable() ? Error(std::move(s)) : Terminal(std::move(s));
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

struct ReconcileContext {
  Logger log;  // carries controller, object key and reconcile id
  std::string reconcile_id;
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
};

class Controller {
 public:
  Controller(std::string name, Reconciler& reconciler, Clock& clock, Random& random, Logger logger,
             ControllerOptions options = {}, metrics::WorkqueueMetrics* queue_metrics = nullptr,
             metrics::ControllerMetrics* metrics = nullptr);
  ~Controller();

  // Enqueues the object itself on add/delete and on updates the predicate accepts. Before Start().
  void For(Informer& informer, UpdatePredicate predicate = DefaultUpdatePredicate);
  // Enqueues the requests `map` returns for any change of a related object (e.g. a Secret maps to
  // the tenants that reference it). Before Start().
  void Watches(Informer& informer, std::function<std::vector<Request>(const nlohmann::json&)> map);

  void Start();
  // Stops taking work, lets in-flight reconciles finish within `drain`, then returns. Returns
  // false if a worker was still busy when the budget ran out.
  bool Stop(Duration drain);

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
  std::atomic<int> finished_workers_{0};
};

}  // namespace cte::kube
