#include "hack/local-apiserver/object_store.h"

#include <algorithm>
#include <chrono>

namespace cte::apiserver {

const nlohmann::json* ObjectStore::Get(const std::string& type_id, const std::string& ns,
                                       const std::string& name) const {
  auto t = objects_.find(type_id);
  if (t == objects_.end()) return nullptr;
  auto o = t->second.find(Key(ns, name));
  return o == t->second.end() ? nullptr : &o->second;
}

std::vector<const nlohmann::json*> ObjectStore::List(const std::string& type_id,
                                                     const std::optional<std::string>& ns) const {
  std::vector<const nlohmann::json*> out;
  auto t = objects_.find(type_id);
  if (t == objects_.end()) return out;
  for (const auto& [key, obj] : t->second) {
    if (ns && key.compare(0, ns->size() + 1, *ns + "/") != 0) continue;
    out.push_back(&obj);
  }
  return out;
}

nlohmann::json ObjectStore::Put(const std::string& type_id, nlohmann::json object,
                                const std::string& event) {
  ++rv_;
  object["metadata"]["resourceVersion"] = std::to_string(rv_);
  const auto& md = object["metadata"];
  std::string key = Key(md.value("namespace", ""), md.value("name", ""));
  objects_[type_id][key] = object;
  Record({rv_, type_id, event, object});
  return object;
}

nlohmann::json ObjectStore::Remove(const std::string& type_id, const std::string& ns,
                                   const std::string& name) {
  auto& objs = objects_[type_id];
  auto it = objs.find(Key(ns, name));
  if (it == objs.end()) return nullptr;
  nlohmann::json object = std::move(it->second);
  objs.erase(it);
  ++rv_;
  object["metadata"]["resourceVersion"] = std::to_string(rv_);
  Record({rv_, type_id, "DELETED", object});
  return object;
}

void ObjectStore::Record(WatchEvent e) {
  history_.push_back(std::move(e));
  while (history_.size() > history_limit_) {
    compacted_rv_ = history_.front().rv;
    history_.pop_front();
  }
  cv_.notify_all();
}

void ObjectStore::Compact() {
  history_.clear();
  compacted_rv_ = rv_;
  cv_.notify_all();
}

std::vector<WatchEvent> ObjectStore::EventsAfter(uint64_t rv, const std::string& type_id) const {
  std::vector<WatchEvent> out;
  // History is ordered by rv; find the first newer event by binary search.
  auto it = std::upper_bound(history_.begin(), history_.end(), rv,
                             [](uint64_t v, const WatchEvent& e) { return v < e.rv; });
  for (; it != history_.end(); ++it) {
    if (it->type_id == type_id) out.push_back(*it);
  }
  return out;
}

void ObjectStore::WaitForChange(std::unique_lock<std::mutex>& lock, uint64_t rv,
                                std::chrono::steady_clock::time_point deadline) {
  cv_.wait_until(lock, deadline, [&] { return rv_ > rv; });
}

}  // namespace cte::apiserver
