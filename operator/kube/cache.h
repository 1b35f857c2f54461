// The informer's local copy of one kind: objects by "namespace/name" plus secondary indexes
// (e.g. SharingConfigurations by referenced CTEPlugin). One writer (the informer thread), many
// readers; readers get shared_ptr<const json> snapshots that stay valid after later writes.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

namespace cte::kube {

using ObjectPtr = std::shared_ptr<const nlohmann::json>;

// "namespace/name", or "name" for cluster-scoped objects.
std::string ObjectKey(const nlohmann::json& object);

// Returns the index values of an object (e.g. names of Secrets it references).
using IndexFunc = std::function<std::vector<std::string>(const nlohmann::json&)>;

class Cache {
 public:
  // Register before the first write.
  void AddIndex(const std::string& name, IndexFunc func);

  ObjectPtr Get(const std::string& key) const;
  std::vector<ObjectPtr> List() const;
  // Objects whose index `name` produced `value`.
  std::vector<ObjectPtr> ByIndex(const std::string& name, const std::string& value) const;
  size_t Size() const;

  // Writer side. Put returns the previous object (null when new).
  ObjectPtr Put(ObjectPtr object);
  ObjectPtr Remove(const std::string& key);
  // Replaces everything (after a relist).
  void Replace(std::map<std::string, ObjectPtr> objects);

 private:
  void IndexLocked(const std::string& key, const ObjectPtr& obj, bool add);

  mutable std::shared_mutex mu_;
  std::map<std::string, ObjectPtr> objects_;
  std::map<std::string, IndexFunc> index_funcs_;
  std::map<std::string, std::map<std::string, std::set<std::string>>> indexes_;
};

// Removes what the cache never needs (managedFields, the last-applied annotation) to save memory.
nlohmann::json StripForCache(nlohmann::json object);

}  // namespace cte::kube
