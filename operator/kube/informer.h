// Keeps a Cache of one kind in step with the API server and tells handlers what changed.
//
// A state machine, as kube-rs's watcher: kEmpty -> (paged list) -> kWatching -> back to kEmpty on
// 410 Gone. Watches resume from the last resourceVersion seen in an event or bookmark, ask for
// bookmarks and a jittered server timeout (5-10 min), and are restarted by a watchdog when
// nothing (not even a bookmark) arrived for `watchdog` (we speak HTTP/1.1, so no HTTP/2 ping
// notices a dead connection for us). Failures back off 0.8 s -> 30 s with jitter; the backoff
// resets after 2 min without failures. A watch that ends within a second without a single event
// is a failure too (client-go's "very short watch"), so a server that accepts and closes at once
// cannot spin us. After a relist, objects that vanished meanwhile are delivered as deletes. An
// optional resync replays every cached object to the handlers' OnResync (controller-runtime's
// SyncPeriod), so an event lost anywhere is recovered.
//
// Threading: one informer thread runs the loop and is the only writer of the cache, so every
// handler sees every change in order (there is no side door for "own writes": controllers filter
// with predicates instead). Handlers run on the informer thread, except OnResync, which runs on the
// clock's timer thread; all must be quick (enqueue a key) and must not call Stop().
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "operator/core/backoff.h"
#include "operator/core/clock.h"
#include "operator/core/log.h"
#include "operator/core/random.h"
#include "operator/kube/cache.h"
#include "operator/kube/client.h"
#include "operator/kube/request.h"

namespace cte::kube {

class EventHandler {
 public:
  virtual ~EventHandler() = default;
  // `initial` is true for objects delivered by a (re)list rather than a watch event: they go to
  // the back of the work queue so user edits overtake the startup flood.
  virtual void OnAdd(const ObjectPtr& object, bool initial) = 0;
  virtual void OnUpdate(const ObjectPtr& old_object, const ObjectPtr& new_object, bool initial) = 0;
  virtual void OnDelete(const ObjectPtr& object) = 0;
  // A periodic replay of an unchanged cached object (see InformerOptions::resync_period).
  virtual void OnResync(const ObjectPtr& /*object*/) {}
};

struct InformerOptions {
  std::string namespace_name;  // empty: all namespaces
  std::string label_selector;
  int64_t page_size = 500;
  Duration watchdog = std::chrono::seconds(90);
  Duration min_watch_timeout = std::chrono::minutes(5);
  Duration max_watch_timeout = std::chrono::minutes(10);
  BackoffPolicy backoff{std::chrono::milliseconds(800), std::chrono::seconds(30), 2.0, 0.5};
  Duration backoff_reset_after = std::chrono::minutes(2);
  // Replays the cache to OnResync this often, +-10% jitter; zero turns it off.
  Duration resync_period = Duration::zero();
  // Lists and watches PartialObjectMetadata only (no spec, status or data): for kinds such as
  // Secrets whose content is fetched on demand for the few objects that matter.
  bool metadata_only = false;
};

class Informer {
 public:
  Informer(KubeClient& client, GroupVersionResource resource, Clock& clock, Random& random,
           Logger logger, InformerOptions options = {});
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Before Start().
  void AddHandler(EventHandler* handler) { handlers_.push_back(handler); }
  void AddIndex(const std::string& name, IndexFunc func) { cache_.AddIndex(name, std::move(func)); }

  void Start();
  void Stop();

  const Cache& cache() const { return cache_; }
  const GroupVersionResource& resource() const { return resource_; }

  // True once the first list has been stored.
  bool HasSynced() const { return synced_; }
  // Blocks until synced, Stop(), or the timeout.
  bool WaitForSync(Duration timeout);
  // True when synced but the informer has not heard from the server for longer than the
  // watchdog: no event, no bookmark and no successful list in that time, whether the watch went
  // silent or every attempt to open one failed. /readyz reports it until a watch succeeds again.
  bool IsStale() const;

  // Counters for tests and logs.
  int lists() const { return lists_; }
  int watch_starts() const { return watch_starts_; }
  int watchdog_restarts() const { return watchdog_restarts_; }
  // Watch attempts counted as failures (errors, and watches that closed at once with no event).
  int watch_failures() const { return watch_failures_; }
  int resyncs() const { return resyncs_; }
  // Events (bookmarks included) received over watches so far.
  int watch_events() const { return watch_events_; }
  std::string resource_version() const;

 private:
  enum class State { kEmpty, kWatching };

  void Run();
  void ScheduleResync();
  void Resync();
  Status ListAndReplace();
  // Returns Ok when the watch ended normally (timeout, dropped connection, watchdog restart),
  // kGone when a relist is needed, or the error.
  Status WatchOnce();
  // Records that the server answered with data (an event, a bookmark or a list).
  void Touch();
  void HandleEvent(const WatchEvent& event);
  // What the cache keeps of an object from the server.
  nlohmann::json Prepare(nlohmann::json object) const;
  void SetResourceVersion(const std::string& rv);
  void WaitBackoff(Backoff& backoff);

  KubeClient& client_;
  GroupVersionResource resource_;
  Clock& clock_;
  Random& random_;
  Logger log_;
  InformerOptions options_;
  Cache cache_;
  std::vector<EventHandler*> handlers_;

  State state_ = State::kEmpty;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> synced_{false};
  std::thread thread_;

  mutable std::mutex mu_;
  std::string rv_;
  MonoTime last_activity_{};
  MonoTime last_failure_{};
  http::CancelToken* active_watch_ = nullptr;
  TimerId resync_timer_ = 0;

  std::atomic<int> lists_{0};
  std::atomic<int> watch_starts_{0};
  std::atomic<int> watchdog_restarts_{0};
  std::atomic<int> watch_events_{0};
  std::atomic<int> watch_failures_{0};
  std::atomic<int> resyncs_{0};
};

}  // namespace cte::kube
