// Kubernetes API requests as values. Each builder is a pure function from (resource, namespace,
// name, options) to method + path + query + body; KubeClient sends them. Table-tested in
// tests/unit/kube/request_test.cc.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "operator/http/http_types.h"

namespace cte::kube {

struct GroupVersionResource {
  std::string group;  // "" for the core group
  std::string version;
  std::string resource;  // plural
  bool namespaced = true;
  std::string kind;  // for apiVersion/kind in bodies and logs

  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
  std::string String() const { return group.empty() ? resource : resource + "." + group; }
};

struct KubeRequest {
  std::string method = "GET";
  std::string path;
  http::QueryParams query;
  std::string content_type;  // empty when there is no body
  std::string body;
  std::string accept = "application/json";
  // The request carries a precondition that makes a repeat harmless: a JSON patch with a `test`
  // operation, a resourceVersion in a merge patch or an update, a delete precondition. A repeat
  // of an applied guarded write fails its precondition instead of applying twice, and a failed
  // `test` (422) means "re-read and retry", like a 409.
  bool guarded = false;

  // Path plus the percent-encoded query string.
  std::string Target() const;
  // Safe to send again when the first attempt may have been applied: GET, HEAD, PUT and DELETE
  // by HTTP's definition, and guarded writes. POST and unguarded PATCH are not.
  bool Idempotent() const;
};

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  int64_t limit = 0;
  std::string continue_token;
  std::string resource_version;
  bool metadata_only = false;  // ask for a PartialObjectMetadataList
};

struct WatchOptions {
  std::string resource_version;
  bool allow_bookmarks = true;
  int64_t timeout_seconds = 0;  // 0: the server's default
  std::string label_selector;
  std::string field_selector;
  bool metadata_only = false;  // ask for PartialObjectMetadata events
};

enum class PatchType { kMerge, kJsonPatch, kStrategicMerge, kApply };

// /api/v1/namespaces/ns/secrets/name/status and the like. An empty namespace for a namespaced
// resource means "all namespaces" (list and watch only).
std::string ResourcePath(const GroupVersionResource& r, const std::string& ns,
                         const std::string& name = "", const std::string& subresource = "");

KubeRequest GetRequest(const GroupVersionResource& r, const std::string& ns,
                       const std::string& name);
KubeRequest ListRequest(const GroupVersionResource& r, const std::string& ns, const ListOptions& o);
KubeRequest WatchRequest(const GroupVersionResource& r, const std::string& ns,
                         const WatchOptions& o);
KubeRequest CreateRequest(const GroupVersionResource& r, const std::string& ns,
                          const nlohmann::json& object, const std::string& field_manager = "");
KubeRequest UpdateRequest(const GroupVersionResource& r, const std::string& ns,
                          const std::string& name, const nlohmann::json& object,
                          const std::string& subresource = "",
                          const std::string& field_manager = "");
KubeRequest PatchRequest(const GroupVersionResource& r, const std::string& ns,
                         const std::string& name, PatchType type, const nlohmann::json& patch,
                         const std::string& subresource = "", const std::string& field_manager = "",
                         bool force = false);
KubeRequest DeleteRequest(const GroupVersionResource& r, const std::string& ns,
                          const std::string& name, const std::string& precondition_uid = "",
                          const std::string& precondition_rv = "");

}  // namespace cte::kube
