#include "hack/local-apiserver/resource_types.h"

#include <algorithm>
#include <mutex>

namespace cte::apiserver {
namespace {

ResourceTypePtr Builtin(std::string group, std::string version, std::string kind,
                        std::string plural, bool namespaced,
                        std::vector<std::string> short_names = {}, bool has_status = false) {
  auto t = std::make_shared<ResourceType>();
  t->group = std::move(group);
  t->version = std::move(version);
  t->kind = kind;
  t->list_kind = kind + "List";
  t->plural = std::move(plural);
  std::string singular = kind;
  std::transform(singular.begin(), singular.end(), singular.begin(), ::tolower);
  t->singular = singular;
  t->namespaced = namespaced;
  t->short_names = std::move(short_names);
  t->has_status = has_status;
  return t;
}

std::vector<PrinterColumn> ParseColumns(const nlohmann::json& version) {
  std::vector<PrinterColumn> out;
  for (const auto& c : version.value("additionalPrinterColumns", nlohmann::json::array())) {
    PrinterColumn pc;
    pc.name = c.value("name", "");
    pc.type = c.value("type", "string");
    pc.format = c.value("format", "");
    pc.description = c.value("description", "");
    pc.json_path = c.value("jsonPath", "");
    pc.priority = c.value("priority", 0);
    out.push_back(pc);
  }
  return out;
}

std::vector<std::string> Strings(const nlohmann::json& j) {
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (const auto& s : j) {
    if (s.is_string()) out.push_back(s.get<std::string>());
  }
  return out;
}

}  // namespace

ResourceRegistry::ResourceRegistry() {
  types_ = {
      Builtin("", "v1", "Namespace", "namespaces", false, {"ns"}, true),
      Builtin("", "v1", "Secret", "secrets", true),
      Builtin("", "v1", "ConfigMap", "configmaps", true, {"cm"}),
      Builtin("", "v1", "Event", "events", true, {"ev"}),
      Builtin("", "v1", "Service", "services", true, {"svc"}, true),
      Builtin("", "v1", "ServiceAccount", "serviceaccounts", true, {"sa"}),
      Builtin("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true, {"pvc"}, true),
      Builtin("events.k8s.io", "v1", "Event", "events", true, {"ev"}),
      Builtin("coordination.k8s.io", "v1", "Lease", "leases", true),
      Builtin("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions",
              false, {"crd", "crds"}, true),
      Builtin("apps", "v1", "Deployment", "deployments", true, {"deploy"}, true),
      Builtin("apps", "v1", "StatefulSet", "statefulsets", true, {"sts"}, true),
      Builtin("rbac.authorization.k8s.io", "v1", "Role", "roles", true),
      Builtin("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true),
      Builtin("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false),
      Builtin("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings",
              false),
      Builtin("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true, {"pdb"}, true),
      Builtin("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true, {"netpol"}),
      Builtin("monitoring.coreos.com", "v1", "ServiceMonitor", "servicemonitors", true),
      Builtin("monitoring.coreos.com", "v1", "PrometheusRule", "prometheusrules", true),
  };
}

ResourceTypePtr ResourceRegistry::Find(const std::string& group, const std::string& version,
                                       const std::string& plural) const {
  std::shared_lock lock(mu_);
  for (const auto& t : types_) {
    if (t->group == group && t->version == version && t->plural == plural) return t;
  }
  return nullptr;
}

std::vector<ResourceTypePtr> ResourceRegistry::All() const {
  std::shared_lock lock(mu_);
  return types_;
}

std::map<std::string, std::vector<std::string>> ResourceRegistry::Groups() const {
  std::shared_lock lock(mu_);
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& t : types_) {
    auto& versions = out[t->group];
    if (std::find(versions.begin(), versions.end(), t->version) == versions.end()) {
      versions.push_back(t->version);
    }
  }
  return out;
}

Status ValidateCrd(const nlohmann::json& crd) {
  const auto& spec = crd.value("spec", nlohmann::json::object());
  std::string name = crd.value("/metadata/name"_json_pointer, "");
  std::string group = spec.value("group", "");
  const auto& names = spec.value("names", nlohmann::json::object());
  std::string plural = names.value("plural", "");
  if (group.empty()) return InvalidArgumentError("spec.group: Required value");
  if (plural.empty()) return InvalidArgumentError("spec.names.plural: Required value");
  if (names.value("kind", "").empty())
    return InvalidArgumentError("spec.names.kind: Required value");
  if (name != plural + "." + group) {
    return InvalidArgumentError("metadata.name: Invalid value: \"" + name +
                                "\": must be spec.names.plural+\".\"+spec.group");
  }
  std::string scope = spec.value("scope", "");
  if (scope != "Namespaced" && scope != "Cluster") {
    return InvalidArgumentError("spec.scope: Unsupported value: \"" + scope +
                                "\": supported values: \"Cluster\", \"Namespaced\"");
  }
  const auto& versions = spec.value("versions", nlohmann::json::array());
  if (!versions.is_array() || versions.empty()) {
    return InvalidArgumentError(
        "spec.versions: Invalid value: must have exactly one version marked as storage version");
  }
  int storage = 0;
  for (size_t i = 0; i < versions.size(); ++i) {
    const auto& v = versions[i];
    std::string field = "spec.versions[" + std::to_string(i) + "]";
    if (v.value("name", "").empty()) return InvalidArgumentError(field + ".name: Required value");
    if (v.value("storage", false)) ++storage;
    const auto schema = v.value("/schema/openAPIV3Schema"_json_pointer, nlohmann::json());
    if (!schema.is_object()) {
      return InvalidArgumentError(field +
                                  ".schema.openAPIV3Schema: Required value: schemas are required");
    }
    if (schema.value("type", "") != "object") {
      return InvalidArgumentError(
          field + ".schema.openAPIV3Schema.type: Unsupported value: must be object at the root");
    }
  }
  if (storage != 1) {
    return InvalidArgumentError(
        "spec.versions: Invalid value: must have exactly one version marked as storage version");
  }
  return Status::Ok();
}

Status ResourceRegistry::RegisterCrd(const nlohmann::json& crd) {
  if (Status s = ValidateCrd(crd); !s.ok()) return s;
  const auto& spec = crd["spec"];
  const auto& names = spec["names"];
  std::vector<ResourceTypePtr> fresh;
  for (const auto& v : spec["versions"]) {
    if (!v.value("served", true)) continue;
    auto t = std::make_shared<ResourceType>();
    t->group = spec["group"];
    t->version = v["name"];
    t->kind = names["kind"];
    t->list_kind = names.value("listKind", t->kind + "List");
    t->plural = names["plural"];
    std::string singular = t->kind;
    std::transform(singular.begin(), singular.end(), singular.begin(), ::tolower);
    t->singular = names.value("singular", singular);
    t->namespaced = spec["scope"] == "Namespaced";
    t->short_names = Strings(names.value("shortNames", nlohmann::json::array()));
    t->categories = Strings(names.value("categories", nlohmann::json::array()));
    t->has_status = v.contains("/subresources/status"_json_pointer);
    t->schema = v["schema"]["openAPIV3Schema"];
    t->columns = ParseColumns(v);
    t->custom = true;
    fresh.push_back(t);
  }
  std::string crd_name = crd["metadata"]["name"];
  std::unique_lock lock(mu_);
  auto& ids = crd_ids_[crd_name];
  std::erase_if(types_, [&](const ResourceTypePtr& t) {
    return std::find(ids.begin(), ids.end(), t->Id()) != ids.end();
  });
  ids.clear();
  for (auto& t : fresh) {
    ids.push_back(t->Id());
    types_.push_back(t);
  }
  return Status::Ok();
}

std::vector<ResourceTypePtr> ResourceRegistry::UnregisterCrd(const std::string& crd_name) {
  std::unique_lock lock(mu_);
  std::vector<ResourceTypePtr> removed;
  auto it = crd_ids_.find(crd_name);
  if (it == crd_ids_.end()) return removed;
  for (auto t = types_.begin(); t != types_.end();) {
    if (std::find(it->second.begin(), it->second.end(), (*t)->Id()) != it->second.end()) {
      removed.push_back(*t);
      t = types_.erase(t);
    } else {
      ++t;
    }
  }
  crd_ids_.erase(it);
  return removed;
}

}  // namespace cte::apiserver
