// OpenAPI v3 documents for kubectl: `kubectl apply` looks for the fieldValidation parameter on
// each kind's PATCH operation to decide that the server validates (so it never needs the
// protobuf-only /openapi/v2), and `kubectl explain` walks components.schemas, which for custom
// resources are the CRD's own openAPIV3Schema.
#include <functional>
#include <sstream>

#include "hack/local-apiserver/api_server.h"

namespace cte::apiserver {
namespace {

using nlohmann::json;

constexpr const char* kObjectMetaRef = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

std::string SchemaName(const ResourceType& t) {
  if (t.group.empty()) return "io.k8s.api.core.v1." + t.kind;
  // Kubernetes names schemas by the reversed group: cte.netskope.io -> io.netskope.cte.
  std::vector<std::string> parts;
  std::stringstream ss(t.group);
  std::string p;
  while (std::getline(ss, p, '.')) parts.push_back(p);
  std::string out;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) out += (out.empty() ? "" : ".") + *it;
  return out + "." + t.version + "." + t.kind;
}

json Gvk(const ResourceType& t) {
  return {{"group", t.group}, {"kind", t.kind}, {"version", t.version}};
}

json ObjectMetaSchema() {
  auto str = [](const char* d) { return json{{"type", "string"}, {"description", d}}; };
  json string_map = {{"type", "object"},
                     {"additionalProperties", {{"type", "string"}, {"default", ""}}}};
  json labels = string_map;
  labels["description"] =
      "Map of string keys and values that can be used to organize and categorize objects.";
  json annotations = string_map;
  annotations["description"] =
      "Unstructured key value map stored with a resource that may be set by external tools.";
  return {
      {"type", "object"},
      {"description",
       "ObjectMeta is metadata that all persisted resources must have, which includes all objects "
       "users must create."},
      {"properties",
       {{"name", str("Name must be unique within a namespace.")},
        {"generateName",
         str("Optional prefix the server uses to generate a unique name when name is empty.")},
        {"namespace", str("Namespace defines the space within which each name must be unique.")},
        {"uid",
         str("UID is the unique in time and space value for this object. Set by the server.")},
        {"resourceVersion", str("An opaque value that represents the internal version of this "
                                "object, used for optimistic concurrency and watches.")},
        {"generation",
         {{"type", "integer"},
          {"format", "int64"},
          {"description",
           "A sequence number representing a specific generation of the desired state."}}},
        {"creationTimestamp",
         {{"type", "string"},
          {"format", "date-time"},
          {"description", "Time when this object was created. Set by the server."}}},
        {"deletionTimestamp",
         {{"type", "string"},
          {"format", "date-time"},
          {"description",
           "Time after which this resource will be deleted, set when deletion is requested while "
           "finalizers remain."}}},
        {"deletionGracePeriodSeconds",
         {{"type", "integer"},
          {"format", "int64"},
          {"description", "Seconds allowed for graceful termination."}}},
        {"labels", labels},
        {"annotations", annotations},
        {"finalizers",
         {{"type", "array"},
          {"items", {{"type", "string"}, {"default", ""}}},
          {"description", "Must be empty before the object is deleted from the registry."},
          {"x-kubernetes-list-type", "set"}}},
        {"ownerReferences",
         {{"type", "array"},
          {"items", {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}},
          {"description", "List of objects depended by this object."}}},
        {"managedFields",
         {{"type", "array"},
          {"items", {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}},
          {"description",
           "Maps workflow-id and version to the set of fields that are managed by that "
           "workflow."}}}}}};
}

json KindSchema(const ResourceType& t) {
  json schema;
  if (t.schema.is_object()) {
    schema = t.schema;
  } else {
    schema = {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
    if (t.kind == "Secret") {
      schema["description"] = "Secret holds secret data of a certain type.";
      schema["properties"] = {
          {"data",
           {{"type", "object"},
            {"additionalProperties", {{"type", "string"}, {"format", "byte"}}},
            {"description", "Secret data, values base64-encoded."}}},
          {"stringData",
           {{"type", "object"},
            {"additionalProperties", {{"type", "string"}}},
            {"description", "Write-only plain-text data, merged into data on write."}}},
          {"type",
           {{"type", "string"},
            {"description", "Used to facilitate programmatic handling of secret data."}}},
          {"immutable",
           {{"type", "boolean"}, {"description", "If true, only metadata can be changed."}}}};
      schema.erase("x-kubernetes-preserve-unknown-fields");
    }
  }
  if (!schema.contains("properties")) schema["properties"] = json::object();
  schema["properties"]["apiVersion"] = {
      {"type", "string"},
      {"description",
       "APIVersion defines the versioned schema of this representation of an object."}};
  schema["properties"]["kind"] = {
      {"type", "string"},
      {"description",
       "Kind is a string value representing the REST resource this object represents."}};
  schema["properties"]["metadata"] = {
      {"allOf", json::array({{{"$ref", std::string("#/components/schemas/") + kObjectMetaRef}}})},
      {"default", json::object()},
      {"description", "Standard object's metadata."}};
  schema["x-kubernetes-group-version-kind"] = json::array({Gvk(t)});
  return schema;
}

json Param(const char* name, const char* in, const char* description, bool required = false) {
  json p = {{"name", name},
            {"in", in},
            {"description", description},
            {"schema", {{"type", "string"}, {"uniqueItems", true}}}};
  if (required) p["required"] = true;
  return p;
}

json WriteParams() {
  return json::array(
      {Param("dryRun", "query", "When present, modifications are not persisted."),
       Param("fieldManager", "query", "Name of the actor making the change."),
       Param("fieldValidation", "query",
             "How the server treats unknown fields: Ignore, Warn (default) or Strict.")});
}

json Operation(const ResourceType& t, const std::string& action, const std::string& ref,
               json params) {
  json op = {
      {"x-kubernetes-group-version-kind", Gvk(t)},
      {"x-kubernetes-action", action},
      {"operationId", action + t.kind},
      {"parameters", params},
      {"responses",
       {{"200",
         {{"description", "OK"},
          {"content",
           {{"application/json", {{"schema", {{"$ref", "#/components/schemas/" + ref}}}}}}}}}}}};
  return op;
}

}  // namespace

json ApiServer::OpenApiDocument(const std::string& group, const std::string& version) const {
  json schemas = json::object();
  json paths = json::object();
  schemas[kObjectMetaRef] = ObjectMetaSchema();
  for (const auto& tp : registry_.All()) {
    const ResourceType& t = *tp;
    if (t.group != group || t.version != version) continue;
    std::string ref = SchemaName(t);
    schemas[ref] = KindSchema(t);
    schemas[ref + "List"] = {
        {"type", "object"},
        {"description", t.list_kind + " is a list of " + t.kind},
        {"properties",
         {{"items", {{"type", "array"}, {"items", {{"$ref", "#/components/schemas/" + ref}}}}}}},
        {"x-kubernetes-group-version-kind",
         json::array({{{"group", t.group}, {"kind", t.list_kind}, {"version", t.version}}})}};
    std::string base = (group.empty() ? "/api/" + version : "/apis/" + group + "/" + version);
    std::string coll =
        t.namespaced ? base + "/namespaces/{namespace}/" + t.plural : base + "/" + t.plural;
    json ns_param = json::array();
    if (t.namespaced)
      ns_param.push_back(Param("namespace", "path", "object name and auth scope", true));
    json name_params = ns_param;
    name_params.push_back(Param("name", "path", "name of the object", true));
    auto with = [](json a, const json& b) {
      for (const auto& x : b) a.push_back(x);
      return a;
    };
    json patch_body = {{"content",
                        {{"application/merge-patch+json", {{"schema", json::object()}}},
                         {"application/json-patch+json", {{"schema", json::object()}}},
                         {"application/apply-patch+yaml", {{"schema", json::object()}}}}},
                       {"required", true}};
    json item_ops = {{"get", Operation(t, "get", ref, name_params)},
                     {"put", Operation(t, "put", ref, with(name_params, WriteParams()))},
                     {"patch", Operation(t, "patch", ref, with(name_params, WriteParams()))},
                     {"delete", Operation(t, "delete", ref, name_params)}};
    item_ops["patch"]["requestBody"] = patch_body;
    paths[coll + "/{name}"] = item_ops;
    paths[coll] = {{"get", Operation(t, "list", ref + "List", ns_param)},
                   {"post", Operation(t, "post", ref, with(ns_param, WriteParams()))}};
    if (t.has_status) {
      json status_ops = {{"get", Operation(t, "get", ref, name_params)},
                         {"put", Operation(t, "put", ref, with(name_params, WriteParams()))},
                         {"patch", Operation(t, "patch", ref, with(name_params, WriteParams()))}};
      status_ops["patch"]["requestBody"] = patch_body;
      paths[coll + "/{name}/status"] = status_ops;
    }
    if (t.namespaced)
      paths[base + "/" + t.plural] = {{"get", Operation(t, "list", ref + "List", json::array())}};
  }
  return {{"openapi", "3.0.0"},
          {"info", {{"title", "Kubernetes"}, {"version", "v1.32.0"}}},
          {"paths", paths},
          {"components", {{"schemas", schemas}}}};
}

void ApiServer::ServeOpenApi(const http::HttpRequest& req, http::ResponseWriter& w) {
  auto groups = registry_.Groups();
  if (req.path == "/openapi/v3" || req.path == "/openapi/v3/") {
    json paths = json::object();
    for (const auto& [g, versions] : groups) {
      for (const auto& v : versions) {
        std::string key = g.empty() ? "api/" + v : "apis/" + g + "/" + v;
        std::string hash = std::to_string(std::hash<std::string>{}(OpenApiDocument(g, v).dump()));
        paths[key] = {{"serverRelativeURL", "/openapi/v3/" + key + "?hash=" + hash}};
      }
    }
    w.Send(http::HttpResponse::Json(200, json{{"paths", paths}}.dump()));
    return;
  }
  std::string rest = req.path.substr(std::string("/openapi/v3/").size());
  std::string group, version;
  if (rest.rfind("api/", 0) == 0) {
    version = rest.substr(4);
  } else if (rest.rfind("apis/", 0) == 0) {
    std::string gv = rest.substr(5);
    size_t slash = gv.find('/');
    if (slash != std::string::npos) {
      group = gv.substr(0, slash);
      version = gv.substr(slash + 1);
    }
  }
  auto it = groups.find(group);
  if (version.empty() || it == groups.end() ||
      std::find(it->second.begin(), it->second.end(), version) == it->second.end()) {
    w.Send(http::HttpResponse::Json(
        404,
        R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"not found","reason":"NotFound","code":404})"));
    return;
  }
  w.Send(http::HttpResponse::Json(200, OpenApiDocument(group, version).dump()));
}

}  // namespace cte::apiserver
