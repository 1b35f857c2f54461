#include "operator/kube/cache.h"

#include <mutex>

namespace cte::kube {

std::string ObjectKey(const nlohmann::json& object) {
  const auto& md = object.value("metadata", nlohmann::json::object());
  std::string ns = md.value("namespace", "");
  std::string name = md.value("name", "");
  return ns.empty() ? name : ns + "/" + name;
}

nlohmann::json StripForCache(nlohmann::json object) {
  if (object.contains("metadata") && object["metadata"].is_object()) {
    auto& md = object["metadata"];
    md.erase("managedFields");
    if (md.contains("annotations") && md["annotations"].is_object()) {
      md["annotations"].erase("kubectl.kubernetes.io/last-applied-configuration");
      if (md["annotations"].empty()) md.erase("annotations");
    }
  }
  return object;
}

void Cache::AddIndex(const std::string& name, IndexFunc func) {
  std::unique_lock lock(mu_);
  index_funcs_[name] = std::move(func);
  for (const auto& [key, obj] : objects_) {
    for (const auto& v : index_funcs_[name](*obj)) indexes_[name][v].insert(key);
  }
}

ObjectPtr Cache::Get(const std::string& key) const {
  std::shared_lock lock(mu_);
  auto it = objects_.find(key);
  return it == objects_.end() ? nullptr : it->second;
}

std::vector<ObjectPtr> Cache::List() const {
  std::shared_lock lock(mu_);
  std::vector<ObjectPtr> out;
  out.reserve(objects_.size());
  for (const auto& [key, obj] : objects_) out.push_back(obj);
  return out;
}

std::vector<ObjectPtr> Cache::ByIndex(const std::string& name, const std::string& value) const {
  std::shared_lock lock(mu_);
  std::vector<ObjectPtr> out;
  auto idx = indexes_.find(name);
  if (idx == indexes_.end()) return out;
  auto keys = idx->second.find(value);
  if (keys == idx->second.end()) return out;
  for (const auto& key : keys->second) {
    auto it = objects_.find(key);
    if (it != objects_.end()) out.push_back(it->second);
  }
  return out;
}

size_t Cache::Size() const {
  std::shared_lock lock(mu_);
  return objects_.size();
}

void Cache::IndexLocked(const std::string& key, const ObjectPtr& obj, bool add) {
  for (const auto& [name, func] : index_funcs_) {
    for (const auto& v : func(*obj)) {
      auto& keys = indexes_[name][v];
      if (add) {
        keys.insert(key);
      } else {
        keys.erase(key);
        if (keys.empty()) indexes_[name].erase(v);
      }
    }
  }
}

ObjectPtr Cache::Put(ObjectPtr object) {
  std::string key = ObjectKey(*object);
  std::unique_lock lock(mu_);
  ObjectPtr old;
  auto it = objects_.find(key);
  if (it != objects_.end()) {
    old = it->second;
    IndexLocked(key, old, false);
  }
  IndexLocked(key, object, true);
  objects_[key] = std::move(object);
  return old;
}

ObjectPtr Cache::Remove(const std::string& key) {
  std::unique_lock lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return nullptr;
  ObjectPtr old = it->second;
  IndexLocked(key, old, false);
  objects_.erase(it);
  return old;
}

void Cache::Replace(std::map<std::string, ObjectPtr> objects) {
  std::unique_lock lock(mu_);
  objects_ = std::move(objects);
  indexes_.clear();
  for (const auto& [key, obj] : objects_) IndexLocked(key, obj, true);
}

}  // namespace cte::kube
