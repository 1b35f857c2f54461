// What every reconciler needs around its own logic: conditions with Kubernetes semantics, status
// writes that happen only on change and survive conflicts, finalizers changed by guarded JSON
// patches, owner references, and Kubernetes Events on condition transitions. Each helper that may
// write says what it changed, so a reconciler can decide what to do next without re-reading.
#pragma once

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "operator/core/clock.h"
#include "operator/core/status.h"
#include "operator/kube/client.h"
#include "operator/kube/controller.h"
#include "operator/kube/informer.h"
#include "operator/kube/request.h"

namespace cte::kube {

struct Condition {
  std::string type;
  std::string status;  // "True", "False", "Unknown"
  std::string reason;
  std::string message;
  int64_t observed_generation = 0;
};

// Sets `condition` in a metav1.Condition array (created if absent). lastTransitionTime moves only
// when the status value changes, as apimachinery's meta.SetStatusCondition does. Returns true when
// anything in the array changed.
bool SetCondition(nlohmann::json& conditions, const Condition& condition, WallTime now);
// A copy of the condition of `type`, or nullopt. A copy rather than a pointer: callers often pass
// a temporary (`status.value("conditions", json::array())`), and a pointer into it would dangle.
std::optional<nlohmann::json> FindCondition(const nlohmann::json& conditions,
                                            const std::string& type);

// The next status of one object, built from its current status: conditions keep Kubernetes
// semantics, and the conditions whose status value changed are remembered for Events.
class StatusUpdate {
 public:
  // Starts from `object`'s status and sets observedGeneration to its metadata.generation.
  StatusUpdate(const nlohmann::json& object, WallTime now);

  // Sets a condition; observedGeneration defaults to the object's generation. Returns *this.
  StatusUpdate& SetCondition(Condition condition);
  // Sets any other status field.
  StatusUpdate& Set(const std::string& field, nlohmann::json value);
  // Copies the reconcile-requested-at annotation to lastHandledReconcileAt (Flux's convention).
  StatusUpdate& AcknowledgeReconcileRequest();

  const nlohmann::json& status() const { return status_; }
  nlohmann::json& mutable_status() { return status_; }
  // True when the status differs from the object's current one.
  bool Changed() const { return status_ != original_; }
  // Conditions whose status value changed (or that are new), in the order they were set.
  const std::vector<Condition>& transitions() const { return transitions_; }

 private:
  nlohmann::json object_meta_;
  nlohmann::json original_;
  nlohmann::json status_;
  WallTime now_;
  int64_t generation_ = 0;
  std::vector<Condition> transitions_;
};

// Writes status through the /status subresource.
class StatusWriter {
 public:
  StatusWriter(KubeClient& client, GroupVersionResource resource, std::string field_manager);

  // Makes the object's status equal to `desired`. Does nothing (no request) when it already is.
  // On 409 it re-reads the object and tries again, up to `max_attempts`; a status that is already
  // equal after the re-read ends the loop. Returns the object as stored.
  StatusOr<nlohmann::json> Write(const nlohmann::json& object, const nlohmann::json& desired,
                                 int max_attempts = 5);

 private:
  KubeClient& client_;
  GroupVersionResource resource_;
  std::string field_manager_;
};

// An object after a helper that may have written it.
struct Changed {
  nlohmann::json object;  // as stored now (the API server's answer, or the input when unchanged)
  bool changed = false;   // whether the helper wrote
};

// Adds `finalizer` unless present, with a JSON patch whose `test` guards against a concurrent
// change of the list (a failed test comes back as Conflict: re-read and retry the reconcile).
StatusOr<Changed> AddFinalizer(KubeClient& client, const GroupVersionResource& resource,
                               const nlohmann::json& object, const std::string& finalizer);
// Removes `finalizer` by index, guarded by a `test` of that index, so another controller's
// finalizer is never removed by mistake.
StatusOr<Changed> RemoveFinalizer(KubeClient& client, const GroupVersionResource& resource,
                                  const nlohmann::json& object, const std::string& finalizer);
bool HasFinalizer(const nlohmann::json& object, const std::string& finalizer);
bool IsBeingDeleted(const nlohmann::json& object);

// The finalizer step of a reconcile whose cleanup needs nothing beyond the finalizer itself:
// while the object lives it carries `finalizer` (added when missing); once it is being deleted
// the finalizer is removed. `object` is the object as stored now when the reconcile should go on;
// without it, return `result` (the deletion is handled, or a write failed).
struct FinalizerStep {
  std::optional<nlohmann::json> object;
  Result result = Result::Ok();
};
FinalizerStep EnsureFinalizer(KubeClient& client, const GroupVersionResource& resource,
                              const nlohmann::json& object, const std::string& finalizer);

// Makes `owner` the controller of `object` (ownerReferences with controller and
// blockOwnerDeletion), so garbage collection removes it with the owner and EnqueueOwner maps its
// changes back. AlreadyExists when another object already controls it; a no-op when `owner` does.
Status SetControllerReference(const nlohmann::json& owner, nlohmann::json& object);
// Maps an object to its controlling owner of `owner_kind` (same namespace), for Watches().
MapFunc EnqueueOwner(std::string owner_api_version, std::string owner_kind);
// Maps a related object to the objects of `primary` whose index `index` contains the related
// object's "namespace/name", for Watches(): Secret -> the tenants that use it.
MapFunc EnqueueByIndex(const Informer& primary, std::string index);

// Emits events.k8s.io/v1 Events. Callers emit on transitions; the recorder additionally drops a
// repeat of the same (object, reason, note) within `min_interval`, so a flapping object cannot
// flood the API server. Failures are logged, never returned: events are best effort.
class EventRecorder {
 public:
  EventRecorder(KubeClient& client, Clock& clock, Logger logger, std::string reporting_controller,
                std::string reporting_instance, Duration min_interval = std::chrono::minutes(5));

  // type: "Normal" or "Warning". Returns true when an Event was written.
  bool Record(const nlohmann::json& regarding, const std::string& type, const std::string& reason,
              const std::string& action, const std::string& note);
  // One Event per transition of the Ready condition in `update` (Normal when it became True or
  // while Reconciling is True, Warning otherwise) and per transition of Stalled to True
  // (Warning). Other conditions change
  // too often to be worth an Event. Returns the number written.
  int RecordTransitions(const nlohmann::json& regarding, const StatusUpdate& update,
                        const std::string& action = "Reconcile");

 private:
  KubeClient& client_;
  Clock& clock_;
  Logger log_;
  std::string controller_;
  std::string instance_;
  Duration min_interval_;
  std::mutex mu_;
  std::map<std::string, MonoTime> last_;
};

// The last step of most reconciles: writes the status (no request when unchanged) and records
// the Events of its condition transitions; returns `result`, or the write's error.
Result WriteStatus(StatusWriter& writer, EventRecorder& events, const nlohmann::json& object,
                   const StatusUpdate& update, Result result = Result::Ok());

}  // namespace cte::kube
