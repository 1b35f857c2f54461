#include "operator/kube/object_helpers.h"

#include "operator/core/time_format.h"

namespace cte::kube {

using nlohmann::json;

namespace {

const GroupVersionResource kEvents{"events.k8s.io", "v1", "events", true, "Event"};

std::string Name(const json& o) { return o.value("/metadata/name"_json_pointer, std::string()); }
std::string Namespace(const json& o) {
  return o.value("/metadata/namespace"_json_pointer, std::string());
}

}  // namespace

std::optional<json> FindCondition(const json& conditions, const std::string& type) {
  if (!conditions.is_array()) return std::nullopt;
  for (const auto& c : conditions) {
    if (c.is_object() && c.value("type", "") == type) return c;
  }
  return std::nullopt;
}

bool SetCondition(json& conditions, const Condition& condition, WallTime now) {
  if (!conditions.is_array()) conditions = json::array();
  json desired = {{"type", condition.type},
                  {"status", condition.status},
                  {"reason", condition.reason},
                  {"message", condition.message},
                  {"observedGeneration", condition.observed_generation}};
  for (auto& c : conditions) {
    if (!c.is_object() || c.value("type", "") != condition.type) continue;
    desired["lastTransitionTime"] =
        c.value("status", "") == condition.status && c.contains("lastTransitionTime")
            ? c["lastTransitionTime"]
            : json(FormatRfc3339(now));
    if (c == desired) return false;
    c = desired;
    return true;
  }
  desired["lastTransitionTime"] = FormatRfc3339(now);
  conditions.push_back(desired);
  return true;
}

StatusUpdate::StatusUpdate(const json& object, WallTime now)
    : object_meta_(object.value("metadata", json::object())),
      original_(object.value("status", json::object())),
      status_(original_),
      now_(now),
      generation_(object_meta_.value("generation", int64_t{0})) {
  status_["observedGeneration"] = generation_;
}

StatusUpdate& StatusUpdate::SetCondition(Condition condition) {
  if (condition.observed_generation == 0) condition.observed_generation = generation_;
  auto before = FindCondition(status_.value("conditions", json::array()), condition.type);
  // Qualified: the member of the same name would hide the free function.
  if (kube::SetCondition(status_["conditions"], condition, now_)) {
    if (!before || before->value("status", "") != condition.status) {
      transitions_.push_back(condition);
    }
  }
  return *this;
}

StatusUpdate& StatusUpdate::Set(const std::string& field, json value) {
  status_[field] = std::move(value);
  return *this;
}

StatusUpdate& StatusUpdate::AcknowledgeReconcileRequest() {
  std::string requested =
      object_meta_.value("annotations", json::object()).value(kReconcileRequestedAtAnnotation, "");
  if (!requested.empty()) status_["lastHandledReconcileAt"] = requested;
  return *this;
}

StatusWriter::StatusWriter(KubeClient& client, GroupVersionResource resource,
                           std::string field_manager)
    : client_(client), resource_(std::move(resource)), field_manager_(std::move(field_manager)) {}

StatusOr<json> StatusWriter::Write(const json& object, const json& desired, int max_attempts) {
  json current = object;
  for (int attempt = 1;; ++attempt) {
    if (current.value("status", json::object()) == desired) return current;
    json next = current;
    next["status"] = desired;
    auto written = client_.Do(UpdateRequest(resource_, Namespace(current), Name(current), next,
                                            "status", field_manager_));
    if (written.ok()) return written;
    if (written.status().code() != StatusCode::kConflict || attempt >= max_attempts) {
      return written.status();
    }
    // Someone else wrote in between (or our cache was behind our own last write): re-read and
    // compare again.
    auto fresh = client_.Do(GetRequest(resource_, Namespace(current), Name(current)));
    if (!fresh.ok()) return fresh.status();
    current = *fresh;
  }
}

bool HasFinalizer(const json& object, const std::string& finalizer) {
  const json f = object.value("/metadata/finalizers"_json_pointer, json::array());
  return std::find(f.begin(), f.end(), finalizer) != f.end();
}

bool IsBeingDeleted(const json& object) {
  return object.contains("/metadata/deletionTimestamp"_json_pointer);
}

StatusOr<Changed> AddFinalizer(KubeClient& client, const GroupVersionResource& resource,
                               const json& object, const std::string& finalizer) {
  if (HasFinalizer(object, finalizer)) return Changed{object, false};
  json patch;
  if (object.contains("/metadata/finalizers"_json_pointer)) {
    patch =
        json::array({{{"op", "test"},
                      {"path", "/metadata/finalizers"},
                      {"value", object["metadata"]["finalizers"]}},
                     {{"op", "add"}, {"path", "/metadata/finalizers/-"}, {"value", finalizer}}});
  } else {
    // No list yet: guard on the resourceVersion instead (a test of a missing path would fail).
    patch =
        json::array({{{"op", "test"},
                      {"path", "/metadata/resourceVersion"},
                      {"value", object["metadata"].value("resourceVersion", "")}},
                     {{"op", "add"}, {"path", "/metadata/finalizers"}, {"value", {finalizer}}}});
  }
  auto patched = client.Do(
      PatchRequest(resource, Namespace(object), Name(object), PatchType::kJsonPatch, patch));
  if (!patched.ok()) return patched.status();
  return Changed{*std::move(patched), true};
}

StatusOr<Changed> RemoveFinalizer(KubeClient& client, const GroupVersionResource& resource,
                                  const json& object, const std::string& finalizer) {
  const json f = object.value("/metadata/finalizers"_json_pointer, json::array());
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != finalizer) continue;
    std::string path = "/metadata/finalizers/" + std::to_string(i);
    json patch = json::array({{{"op", "test"}, {"path", path}, {"value", finalizer}},
                              {{"op", "remove"}, {"path", path}}});
    auto patched = client.Do(
        PatchRequest(resource, Namespace(object), Name(object), PatchType::kJsonPatch, patch));
    if (!patched.ok()) return patched.status();
    return Changed{*std::move(patched), true};
  }
  return Changed{object, false};
}

FinalizerStep EnsureFinalizer(KubeClient& client, const GroupVersionResource& resource,
                              const json& object, const std::string& finalizer) {
  if (IsBeingDeleted(object)) {
    // Gone already (NotFound) is as good as removed.
    return {std::nullopt,
            Result::IgnoreNotFound(RemoveFinalizer(client, resource, object, finalizer).status())};
  }
  auto added = AddFinalizer(client, resource, object, finalizer);
  if (!added.ok()) return {std::nullopt, Result::FromStatus(added.status())};
  return {std::move(added->object), Result::Ok()};
}

Status SetControllerReference(const json& owner, json& object) {
  const json& om = owner.value("metadata", json::object());
  json ref = {{"apiVersion", owner.value("apiVersion", "")},
              {"kind", owner.value("kind", "")},
              {"name", om.value("name", "")},
              {"uid", om.value("uid", "")},
              {"controller", true},
              {"blockOwnerDeletion", true}};
  json& refs = object["metadata"]["ownerReferences"];
  if (!refs.is_array()) refs = json::array();
  for (auto& r : refs) {
    if (!r.is_object() || !r.value("controller", false)) continue;
    if (r.value("uid", "") == ref["uid"]) {
      r = ref;
      return Status::Ok();
    }
    return AlreadyExistsError(Name(object) + " is already controlled by " + r.value("kind", "") +
                              " " + r.value("name", ""));
  }
  refs.push_back(ref);
  return Status::Ok();
}

MapFunc EnqueueOwner(std::string owner_api_version, std::string owner_kind) {
  return [api_version = std::move(owner_api_version),
          kind = std::move(owner_kind)](const json& object) {
    std::vector<Request> out;
    for (const auto& r : object.value("/metadata/ownerReferences"_json_pointer, json::array())) {
      if (r.is_object() && r.value("controller", false) && r.value("kind", "") == kind &&
          r.value("apiVersion", "") == api_version) {
        out.push_back({Namespace(object), r.value("name", "")});
      }
    }
    return out;
  };
}

MapFunc EnqueueByIndex(const Informer& primary, std::string index) {
  return [&primary, index = std::move(index)](const json& related) {
    std::vector<Request> out;
    for (const auto& obj : primary.cache().ByIndex(index, ObjectKey(related))) {
      out.push_back(Request::FromKey(ObjectKey(*obj)));
    }
    return out;
  };
}

EventRecorder::EventRecorder(KubeClient& client, Clock& clock, Logger logger,
                             std::string reporting_controller, std::string reporting_instance,
                             Duration min_interval)
    : client_(client),
      clock_(clock),
      log_(std::move(logger)),
      controller_(std::move(reporting_controller)),
      instance_(std::move(reporting_instance)),
      min_interval_(min_interval) {}

bool EventRecorder::Record(const json& regarding, const std::string& type,
                           const std::string& reason, const std::string& action,
                           const std::string& note) {
  const auto& md = regarding.value("metadata", json::object());
  std::string key = md.value("uid", "") + "|" + reason + "|" + note;
  MonoTime now = clock_.Now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = last_.find(key);
    if (it != last_.end() && now - it->second < min_interval_) return false;
    last_[key] = now;
    if (last_.size() > 10000) last_.clear();  // bound memory; worst case one extra event
  }
  std::string ns = md.value("namespace", "default");
  json event = {
      {"apiVersion", "events.k8s.io/v1"},
      {"kind", "Event"},
      {"metadata", {{"generateName", md.value("name", "object") + "."}, {"namespace", ns}}},
      {"eventTime", FormatRfc3339(clock_.WallNow(), TimePrecision::kMicros)},
      {"reportingController", controller_},
      {"reportingInstance", instance_},
      {"action", action},
      {"reason", reason},
      {"note", note.substr(0, 1024)},
      {"type", type},
      {"regarding",
       {{"apiVersion", regarding.value("apiVersion", "")},
        {"kind", regarding.value("kind", "")},
        {"name", md.value("name", "")},
        {"namespace", md.value("namespace", "")},
        {"uid", md.value("uid", "")},
        {"resourceVersion", md.value("resourceVersion", "")}}}};
  auto written = client_.Do(CreateRequest(kEvents, ns, event));
  if (!written.ok()) {
    log_.Warn("could not record event",
              {{"reason", reason}, {"error", written.status().ToString()}});
    return false;
  }
  return true;
}

int EventRecorder::RecordTransitions(const json& regarding, const StatusUpdate& update,
                                     const std::string& action) {
  int written = 0;
  // Not ready because work is under way (Reconciling=True, e.g. after a spec edit) is progress,
  // not a problem: a Normal event, so a Warning always means something needs attention.
  auto reconciling_condition =
      FindCondition(update.status().value("conditions", json::array()), "Reconciling");
  const bool reconciling =
      reconciling_condition && reconciling_condition->value("status", "") == "True";
  for (const auto& c : update.transitions()) {
    std::string type;
    if (c.type == "Ready") {
      type = c.status == "True" || reconciling ? "Normal" : "Warning";
    } else if (c.type == "Stalled" && c.status == "True") {
      type = "Warning";
    } else {
      continue;
    }
    if (Record(regarding, type, c.reason, action, c.message)) ++written;
  }
  return written;
}

Result WriteStatus(StatusWriter& writer, EventRecorder& events, const json& object,
                   const StatusUpdate& update, Result result) {
  auto written = writer.Write(object, update.status());
  if (!written.ok()) return Result::FromStatus(written.status());
  events.RecordTransitions(*written, update);
  return result;
}

}  // namespace cte::kube
