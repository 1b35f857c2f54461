// What every reconciler needs around its own logic: conditions with Kubernetes semantics, status
// writes that happen only on change and survive conflicts, finalizers changed by guarded JSON
// patches, and Kubernetes Events on transitions.
#pragma once

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "operator/core/clock.h"
#include "operator/core/status.h"
#include "operator/kube/client.h"
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

// Writes status through the /status subresource.
class StatusWriter {
 public:
  // `informer` (optional) is the primary kind's informer: the written object goes into its cache
  // and the watch echo of our own write is swallowed.
  StatusWriter(KubeClient& client, GroupVersionResource resource, std::string field_manager,
               Informer* informer = nullptr);

  // Makes the object's status equal to `desired`. Does nothing (no request) when it already is.
  // On 409 it re-reads the object and tries again, up to `max_attempts`; a status that is already
  // equal after the re-read ends the loop. Returns the object as stored.
  StatusOr<nlohmann::json> Write(const nlohmann::json& object, const nlohmann::json& desired,
                                 int max_attempts = 5);

 private:
  KubeClient& client_;
  GroupVersionResource resource_;
  std::string field_manager_;
  Informer* informer_;
};

// Adds `finalizer` unless present, with a JSON patch whose `test` guards against a concurrent
// change of the list (409/422 then means: re-read and retry the reconcile).
StatusOr<nlohmann::json> AddFinalizer(KubeClient& client, const GroupVersionResource& resource,
                                      const nlohmann::json& object, const std::string& finalizer);
// Removes `finalizer` by index, guarded by a `test` of that index, so another controller's
// finalizer is never removed by mistake.
StatusOr<nlohmann::json> RemoveFinalizer(KubeClient& client, const GroupVersionResource& resource,
                                         const nlohmann::json& object,
                                         const std::string& finalizer);
bool HasFinalizer(const nlohmann::json& object, const std::string& finalizer);

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

}  // namespace cte::kube
