// In-memory object storage with a single resourceVersion counter (as etcd's revision) and an
// event history that watches replay from. The history is bounded; a watch that asks for a version
// older than the oldest kept event gets 410 Gone, as after an etcd compaction.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace cte::apiserver {

struct WatchEvent {
  uint64_t rv = 0;
  std::string type_id;  // ResourceType::Id()
  std::string event;    // ADDED, MODIFIED, DELETED
  nlohmann::json object;
};

class ObjectStore {
 public:
  explicit ObjectStore(size_t history_limit = 20000) : history_limit_(history_limit) {}

  // All operations hold one mutex; callers that need read-modify-write atomicity use Lock().
  std::unique_lock<std::mutex> Lock() { return std::unique_lock<std::mutex>(mu_); }

  // The following require the lock to be held.
  const nlohmann::json* Get(const std::string& type_id, const std::string& ns,
                            const std::string& name) const;
  // Objects of a type in key order ("ns/name"), optionally one namespace only.
  std::vector<const nlohmann::json*> List(const std::string& type_id,
                                          const std::optional<std::string>& ns) const;
  // Stores the object with the next resourceVersion written into metadata.resourceVersion and
  // records the event. Returns the stored copy.
  nlohmann::json Put(const std::string& type_id, nlohmann::json object, const std::string& event);
  // Removes the object, recording a DELETED event carrying the object with a new resourceVersion.
  nlohmann::json Remove(const std::string& type_id, const std::string& ns, const std::string& name);
  uint64_t CurrentRv() const { return rv_; }
  // The lowest resourceVersion a watch may start from; older ones get 410.
  uint64_t CompactedRv() const { return compacted_rv_; }
  // Forgets all history: every watch from an older resourceVersion now gets 410.
  void Compact();
  // Events after `rv` for one type, in order. Requires rv >= CompactedRv().
  std::vector<WatchEvent> EventsAfter(uint64_t rv, const std::string& type_id) const;

  // Blocks until an event newer than `rv` exists or the deadline passes. Requires the lock.
  void WaitForChange(std::unique_lock<std::mutex>& lock, uint64_t rv,
                     std::chrono::steady_clock::time_point deadline);
  // Wakes every waiter (used on shutdown and by fault injection).
  void NotifyAll() { cv_.notify_all(); }

 private:
  static std::string Key(const std::string& ns, const std::string& name) { return ns + "/" + name; }
  void Record(WatchEvent e);

  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t rv_ = 1;
  uint64_t compacted_rv_ = 0;
  size_t history_limit_;
  std::map<std::string, std::map<std::string, nlohmann::json>> objects_;  // type id -> key -> obj
  std::deque<WatchEvent> history_;
};

}  // namespace cte::apiserver
