#include "operator/kube/controller.h"

#include <cstdio>

namespace cte::kube {

using nlohmann::json;

Request Request::FromKey(const std::string& key) {
  size_t slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

Duration ReconcileContext::Remaining() const {
  if (!clock || deadline == MonoTime::max()) return Duration::max();
  return std::max(Duration::zero(), deadline - clock->Now());
}

bool ReconcileContext::Done() const {
  if (stopping && stopping->load()) return true;
  return clock && clock->Now() >= deadline;
}

bool DefaultUpdatePredicate(const json& old_obj, const json& new_obj) {
  auto md = [](const json& o) { return o.value("metadata", json::object()); };
  const json a = md(old_obj), b = md(new_obj);
  if (a.value("generation", 0) != b.value("generation", 0)) return true;
  if (a.contains("deletionTimestamp") != b.contains("deletionTimestamp")) return true;
  if (a.value("finalizers", json::array()) != b.value("finalizers", json::array())) return true;
  auto requested = [](const json& m) {
    return m.value("annotations", json::object()).value(kReconcileRequestedAtAnnotation, "");
  };
  if (requested(a) != requested(b)) return true;
  // Kinds without generation (Secrets, ConfigMaps): any change of content counts.
  if (!b.contains("generation")) {
    json x = old_obj, y = new_obj;
    x.erase("metadata");
    y.erase("metadata");
    return x != y;
  }
  return false;
}

class Controller::Handler : public EventHandler {
 public:
  Handler(WorkQueue& queue, UpdatePredicate predicate, MapFunc map)
      : queue_(queue), predicate_(std::move(predicate)), map_(std::move(map)) {}

  void OnAdd(const ObjectPtr& obj, bool initial) override {
    Enqueue(*obj, initial ? Priority::kLow : Priority::kNormal);
  }
  void OnUpdate(const ObjectPtr& old_obj, const ObjectPtr& new_obj, bool initial) override {
    if (predicate_ && !predicate_(*old_obj, *new_obj)) return;
    Enqueue(*new_obj, initial ? Priority::kLow : Priority::kNormal);
    if (map_) Enqueue(*old_obj, Priority::kNormal);  // references may have moved
  }
  void OnDelete(const ObjectPtr& obj) override { Enqueue(*obj, Priority::kNormal); }
  // A periodic resync is a safety net for missed events: it bypasses the predicates (which would
  // drop an update that changed nothing) and goes to the back of the queue.
  void OnResync(const ObjectPtr& obj) override {
    if (!map_) Enqueue(*obj, Priority::kLow);
  }

 private:
  void Enqueue(const json& obj, Priority p) {
    if (map_) {
      for (const auto& r : map_(obj)) queue_.Add(r.Key(), p);
    } else {
      queue_.Add(ObjectKey(obj), p);
    }
  }

  WorkQueue& queue_;
  UpdatePredicate predicate_;
  MapFunc map_;
};

Controller::Controller(std::string name, Reconciler& reconciler, Clock& clock, Random& random,
                       Logger logger, ControllerOptions options,
                       metrics::WorkqueueMetrics* queue_metrics,
                       metrics::ControllerMetrics* metrics)
    : name_(std::move(name)),
      reconciler_(reconciler),
      clock_(clock),
      log_(logger.With("controller", name_)),
      options_(options),
      metrics_(metrics),
      queue_(clock, random, options.per_key_backoff, queue_metrics) {
  if (metrics_) metrics_->SetMaxConcurrentReconciles(options_.workers);
}

Controller::~Controller() { Stop(std::chrono::seconds(0)); }

Controller& Controller::For(Informer& informer, UpdatePredicate predicate) {
  handlers_.push_back(std::make_unique<Handler>(queue_, std::move(predicate), nullptr));
  informer.AddHandler(handlers_.back().get());
  return *this;
}

Controller& Controller::Watches(Informer& informer, MapFunc map, UpdatePredicate predicate) {
  if (!predicate) predicate = [](const json& a, const json& b) { return a != b; };
  handlers_.push_back(std::make_unique<Handler>(queue_, std::move(predicate), std::move(map)));
  informer.AddHandler(handlers_.back().get());
  return *this;
}

void Controller::Start() {
  started_workers_ = options_.workers;
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this, i] { Worker(i); });
  log_.Info("started", {{"workers", options_.workers}});
}

void Controller::StopTakingWork() {
  stopping_ = true;
  queue_.ShutDown();
}

bool Controller::Idle() const { return finished_workers_.load() == started_workers_.load(); }

bool Controller::Stop(Duration drain) {
  StopTakingWork();
  if (threads_.empty()) return true;
  // Workers finish their current reconcile, then Get() returns nullopt once the queue is empty.
  bool drained = clock_.WaitFor(drain, [this] { return Idle(); }) || Idle();
  if (!drained) {
    log_.Warn("reconciles still running after the drain budget",
              {{"seconds", std::chrono::duration<double>(drain).count()}});
    for (auto& t : threads_) t.detach();
  } else {
    for (auto& t : threads_) t.join();
  }
  threads_.clear();
  return drained;
}

Duration Controller::LongestRunning() const {
  auto [sum, longest] = queue_.InProgressSeconds();
  (void)sum;
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(longest));
}

void Controller::Worker(int /*index*/) {
  while (auto key = queue_.Get()) {
    if (queue_.shutting_down()) {
      // Draining: finish nothing new; drop the key (it will be listed again on restart).
      queue_.Done(*key);
      continue;
    }
    ProcessOne(*key);
  }
  ++finished_workers_;
  clock_.Notify();
}

void Controller::ProcessOne(const std::string& key) {
  char id[24];
  std::snprintf(id, sizeof(id), "%08llx", static_cast<unsigned long long>(++reconcile_seq_));
  MonoTime start = clock_.Now();
  ReconcileContext ctx{log_.With("object", key).With("reconcileID", std::string(id)), id, &clock_,
                       start + options_.reconcile_timeout, &stopping_};
  if (metrics_) metrics_->ReconcileStarted();
  Result result = Result::Ok();
  bool panic = false;
  try {
    result = reconciler_.Reconcile(Request::FromKey(key), ctx);
  } catch (const std::exception& e) {
    panic = true;
    result = Result::Error(InternalError(std::string("reconcile threw: ") + e.what()));
  } catch (...) {
    panic = true;
    result = Result::Error(InternalError("reconcile threw a non-standard exception"));
  }
  Duration took = clock_.Now() - start;
  const bool timed_out = took > options_.reconcile_timeout;
  if (timed_out) {
    ctx.log.Warn(
        "reconcile ran past its deadline",
        {{"seconds", std::chrono::duration<double>(took).count()},
         {"deadlineSeconds", std::chrono::duration<double>(options_.reconcile_timeout).count()}});
  }
  auto outcome = metrics::ReconcileResult::kSuccess;
  switch (result.kind()) {
    case Result::Kind::kOk:
      queue_.Forget(key);
      ctx.log.Debug("reconciled", {{"seconds", std::chrono::duration<double>(took).count()}});
      break;
    case Result::Kind::kRequeueAfter:
      queue_.Forget(key);
      queue_.AddAfter(key, result.requeue_after());
      outcome = metrics::ReconcileResult::kRequeueAfter;
      break;
    case Result::Kind::kRetryableError: {
      outcome = metrics::ReconcileResult::kError;
      ctx.log.Error("reconcile failed; will retry",
                    {{"error", result.error().ToString()}, {"retries", queue_.NumRequeues(key)}});
      // The server's Retry-After is a floor, not a replacement: the key's backoff advances
      // either way, so a server that keeps answering "retry in 1 s" cannot pin us to 1 s.
      Duration retry_after = Duration::zero();
      if (auto ra = result.error().retry_after_seconds()) {
        retry_after = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(*ra));
      }
      queue_.AddRateLimited(key, retry_after);
      break;
    }
    case Result::Kind::kTerminalError:
      outcome = metrics::ReconcileResult::kTerminalError;
      queue_.Forget(key);
      ctx.log.Error("reconcile failed; not retrying until the object changes",
                    {{"error", result.error().ToString()}});
      break;
  }
  queue_.Done(key);
  if (metrics_) {
    if (panic) metrics_->ReconcilePanicked();
    if (timed_out) metrics_->ReconcileTimedOut();
    metrics_->ReconcileFinished(outcome, took);
  }
}

}  // namespace cte::kube
