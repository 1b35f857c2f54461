// The kinds the local API server serves: built-in kinds with fixed definitions and custom
// resources registered from applied CustomResourceDefinitions.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "operator/core/status.h"

namespace cte::apiserver {

struct PrinterColumn {
  std::string name;
  std::string type;  // string, integer, number, boolean, date
  std::string format;
  std::string description;
  std::string json_path;
  int priority = 0;
};

struct ResourceType {
  std::string group;  // "" for the core group
  std::string version;
  std::string kind;
  std::string list_kind;
  std::string plural;
  std::string singular;
  bool namespaced = true;
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
  bool has_status = false;
  // openAPIV3Schema of a custom resource; null for built-ins without a schema (stored as given).
  nlohmann::json schema;
  std::vector<PrinterColumn> columns;
  bool custom = false;  // registered by a CRD

  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
  // "secrets" or "sharingconfigurations.cte.netskope.io": how Kubernetes names a resource in
  // error messages.
  std::string QualifiedResource() const { return group.empty() ? plural : plural + "." + group; }
  std::string QualifiedKind() const { return group.empty() ? kind : kind + "." + group; }
  // Unique key: group/version/plural.
  std::string Id() const { return group + "/" + version + "/" + plural; }
};

using ResourceTypePtr = std::shared_ptr<const ResourceType>;

// Thread-safe set of served kinds. CRD registration replaces or removes entries at run time.
class ResourceRegistry {
 public:
  ResourceRegistry();

  ResourceTypePtr Find(const std::string& group, const std::string& version,
                       const std::string& plural) const;
  std::vector<ResourceTypePtr> All() const;
  // Group -> versions in preference order.
  std::map<std::string, std::vector<std::string>> Groups() const;

  // Registers every served version of a CRD object. Replaces the CRD's previous registration.
  // Returns InvalidArgument naming the field when the CRD is malformed.
  Status RegisterCrd(const nlohmann::json& crd);
  // Removes the kinds the CRD named `crd_name` registered; returns them.
  std::vector<ResourceTypePtr> UnregisterCrd(const std::string& crd_name);

 private:
  mutable std::shared_mutex mu_;
  std::vector<ResourceTypePtr> types_;
  std::map<std::string, std::vector<std::string>> crd_ids_;  // CRD name -> type ids
};

// Validates the parts of a CRD the server relies on, without registering it.
Status ValidateCrd(const nlohmann::json& crd);

}  // namespace cte::apiserver
