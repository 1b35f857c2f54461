// A rate-limited work queue with client-go's guarantees: a key is queued at most once (dirty
// set), is never handed to two workers at once (processing set; a re-add during processing runs
// after Done), delayed adds (AddAfter, one waiting entry per key: the earliest wins, as in
// client-go's delaying queue), per-key exponential backoff with jitter (AddRateLimited, Forget),
// and two priorities so user edits overtake the initial-list and resync flood.
//
// Thread-safe. Get() blocks; ShutDown() makes Get() drain what is queued and then return nullopt.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "operator/core/backoff.h"
#include "operator/core/clock.h"
#include "operator/core/random.h"
#include "operator/metrics/runtime_metrics.h"

namespace cte::kube {

enum class Priority { kLow = 0, kNormal = 1 };

// controller-runtime's priority values, used as the workqueue_depth{priority} label.
inline int MetricPriority(Priority p) { return p == Priority::kLow ? -100 : 0; }

class WorkQueue {
 public:
  WorkQueue(Clock& clock, Random& random,
            BackoffPolicy per_key = {std::chrono::seconds(1), std::chrono::minutes(5), 2.0, 0.1},
            metrics::WorkqueueMetrics* metrics = nullptr);
  ~WorkQueue();

  void Add(const std::string& key, Priority priority = Priority::kNormal);
  // Adds `key` once `delay` has passed. A key has at most one waiting entry: a later AddAfter for
  // a key that already waits keeps whichever moment is earlier, so repeated requeues never
  // multiply timers.
  void AddAfter(const std::string& key, Duration delay, Priority priority = Priority::kNormal);
  // Adds after the key's next backoff delay, or after `at_least` when that is longer (a server's
  // Retry-After). Each call advances the backoff until Forget(), whichever delay wins.
  void AddRateLimited(const std::string& key, Duration at_least = Duration::zero());
  void Forget(const std::string& key);
  int NumRequeues(const std::string& key) const;

  std::optional<std::string> Get();
  void Done(const std::string& key);

  void ShutDown();
  bool shutting_down() const;
  size_t Len() const;
  // Keys waiting for a delayed add (for tests and the depth of the retry backlog).
  size_t NumWaiting() const;

  // Seconds of work in progress: the sum over keys being processed, and the longest one
  // (workqueue_unfinished_work_seconds / workqueue_longest_running_processor_seconds).
  std::pair<double, double> InProgressSeconds() const;

 private:
  void AddLocked(const std::string& key, Priority priority);

  Clock& clock_;
  Random& random_;
  BackoffPolicy per_key_;
  metrics::WorkqueueMetrics* metrics_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queues_[2];  // index = Priority
  std::map<std::string, Priority> dirty_;
  std::map<std::string, MonoTime> queued_at_;
  std::map<std::string, MonoTime> processing_;  // key -> start time
  std::map<std::string, std::unique_ptr<Backoff>> backoffs_;
  struct Delayed {
    MonoTime ready_at;
    TimerId timer = 0;
    Priority priority = Priority::kNormal;
  };
  std::map<std::string, Delayed> waiting_;  // AddAfter entries whose delay has not passed
  bool shutting_down_ = false;
};

}  // namespace cte::kube
