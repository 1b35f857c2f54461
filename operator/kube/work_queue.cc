#include "operator/kube/work_queue.h"

#include <algorithm>

namespace cte::kube {

WorkQueue::WorkQueue(Clock& clock, Random& random, BackoffPolicy per_key,
                     metrics::WorkqueueMetrics* metrics)
    : clock_(clock), random_(random), per_key_(per_key), metrics_(metrics) {}

WorkQueue::~WorkQueue() {
  ShutDown();
  std::map<std::string, Delayed> waiting;
  {
    std::lock_guard<std::mutex> lock(mu_);
    waiting.swap(waiting_);
  }
  for (const auto& [key, w] : waiting) clock_.Cancel(w.timer);
}

// The metrics calls below are a few atomic operations each, so they run under the lock; that keeps
// the depth gauge exactly in step with the queues.
void WorkQueue::AddLocked(const std::string& key, Priority priority) {
  if (shutting_down_) return;
  auto it = dirty_.find(key);
  if (it != dirty_.end()) {
    // Already waiting: a higher priority moves it up.
    if (priority > it->second && !processing_.count(key)) {
      auto& low = queues_[static_cast<int>(it->second)];
      low.erase(std::remove(low.begin(), low.end(), key), low.end());
      queues_[static_cast<int>(priority)].push_back(key);
      if (metrics_) metrics_->UpdatePriority(MetricPriority(it->second), MetricPriority(priority));
    }
    it->second = std::max(it->second, priority);
    return;
  }
  dirty_[key] = priority;
  if (processing_.count(key)) return;  // runs again after Done
  queues_[static_cast<int>(priority)].push_back(key);
  queued_at_[key] = clock_.Now();
  cv_.notify_one();
  if (metrics_) metrics_->Add(MetricPriority(priority));
}

void WorkQueue::Add(const std::string& key, Priority priority) {
  std::lock_guard<std::mutex> lock(mu_);
  AddLocked(key, priority);
}

void WorkQueue::AddAfter(const std::string& key, Duration delay, Priority priority) {
  if (delay <= Duration::zero()) return Add(key, priority);
  std::lock_guard<std::mutex> lock(mu_);
  if (shutting_down_) return;
  if (metrics_) metrics_->Retry();
  const MonoTime ready_at = clock_.Now() + delay;
  if (auto it = waiting_.find(key); it != waiting_.end()) {
    it->second.priority = std::max(it->second.priority, priority);
    if (it->second.ready_at <= ready_at) return;  // the earlier entry already covers this one
    clock_.Cancel(it->second.timer);
    waiting_.erase(it);
  }
  auto id = std::make_shared<TimerId>(0);
  // The timer fires on the clock's thread; it re-enters through Add like any producer. The id
  // check ignores a timer that was replaced by an earlier one but fired before Cancel took it.
  TimerId t = clock_.Schedule(delay, [this, key, id] {
    Priority p;
    {
      std::lock_guard<std::mutex> l(mu_);
      auto it = waiting_.find(key);
      if (it == waiting_.end() || it->second.timer != *id) return;
      p = it->second.priority;
      waiting_.erase(it);
    }
    Add(key, p);
  });
  *id = t;
  waiting_[key] = {ready_at, t, priority};
}

void WorkQueue::AddRateLimited(const std::string& key, Duration at_least) {
  Duration delay;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& b = backoffs_[key];
    if (!b) b = std::make_unique<Backoff>(per_key_, random_);
    delay = std::max(b->Next(), at_least);
  }
  AddAfter(key, delay);
}

void WorkQueue::Forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  backoffs_.erase(key);
}

int WorkQueue::NumRequeues(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = backoffs_.find(key);
  return it == backoffs_.end() ? 0 : it->second->attempts();
}

std::optional<std::string> WorkQueue::Get() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return shutting_down_ || !queues_[0].empty() || !queues_[1].empty(); });
  Priority priority = !queues_[1].empty() ? Priority::kNormal : Priority::kLow;
  auto& q = queues_[static_cast<int>(priority)];
  if (q.empty()) return std::nullopt;  // shut down and drained
  std::string key = q.front();
  q.pop_front();
  MonoTime now = clock_.Now();
  Duration waited = now - queued_at_[key];
  queued_at_.erase(key);
  processing_[key] = now;
  dirty_.erase(key);
  if (metrics_) metrics_->Get(MetricPriority(priority), waited);
  return key;
}

void WorkQueue::Done(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = processing_.find(key);
  if (it == processing_.end()) return;
  Duration worked = clock_.Now() - it->second;
  processing_.erase(it);
  auto d = dirty_.find(key);
  if (d != dirty_.end() && !shutting_down_) {
    queues_[static_cast<int>(d->second)].push_back(key);
    queued_at_[key] = clock_.Now();
    if (metrics_) metrics_->Add(MetricPriority(d->second));
  }
  cv_.notify_all();
  if (metrics_) metrics_->Done(worked);
}

void WorkQueue::ShutDown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutting_down_ = true;
  cv_.notify_all();
}

bool WorkQueue::shutting_down() const {
  std::lock_guard<std::mutex> lock(mu_);
  return shutting_down_;
}

size_t WorkQueue::Len() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queues_[0].size() + queues_[1].size();
}

size_t WorkQueue::NumWaiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiting_.size();
}

std::pair<double, double> WorkQueue::InProgressSeconds() const {
  std::lock_guard<std::mutex> lock(mu_);
  MonoTime now = clock_.Now();
  double sum = 0, longest = 0;
  for (const auto& [key, start] : processing_) {
    double s = std::chrono::duration<double>(now - start).count();
    sum += s;
    longest = std::max(longest, s);
  }
  return {sum, longest};
}

}  // namespace cte::kube
