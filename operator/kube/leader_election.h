// Leader election on a coordination.k8s.io/v1 Lease with client-go's semantics: lease duration
// 15 s, renew deadline 10 s, retry period 2 s. Expiry of a rival's lease is judged by the local
// clock since this process last saw the record change (taken when the GET returned), never by
// comparing renewTime with our clock (clocks differ between nodes).
//
// The one promise that matters: never two leaders. A leader steps down no later than
// `renew_deadline` after the start of its last successful renewal, even when requests hang: every
// request of a renewal gets only the time left until that deadline, and a timer steps down at the
// deadline whatever the renewal thread is doing. A rival can take over only `lease_duration` after
// it saw that renewal, so the gap between the two is at least lease_duration - renew_deadline.
//
// Releasing is separate from stopping: the owner stops taking work, lets in-flight work finish,
// and only then calls Release(), so a successor never starts while this replica still writes.
//
// Threading: Run() blocks the calling thread (give it a thread of its own) and renews there,
// independently of whatever the owner does on leading (cache sync can take minutes). The
// callbacks run on the elector's thread or on the clock's timer thread and must return quickly.
// Stop(), Release(), IsLeader() and SinceLastRenew() may be called from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "operator/core/clock.h"
#include "operator/core/log.h"
#include "operator/kube/client.h"
#include "operator/metrics/runtime_metrics.h"

namespace cte::kube {

struct LeaderElectionConfig {
  std::string lease_namespace;
  std::string lease_name;
  std::string identity;
  Duration lease_duration = std::chrono::seconds(15);
  Duration renew_deadline = std::chrono::seconds(10);
  Duration retry_period = std::chrono::seconds(2);
};

class LeaderElector {
 public:
  LeaderElector(KubeClient& client, Clock& clock, Logger logger, LeaderElectionConfig config,
                metrics::LeaderMetrics* metrics = nullptr);
  ~LeaderElector();

  // Validates LeaseDuration > RenewDeadline > 1.2 * RetryPeriod (client-go's rule).
  static Status Validate(const LeaderElectionConfig& config);

  // Campaigns until it leads or Stop(); on acquiring calls `on_started` and renews every retry
  // period until Stop() (returns, still holding the lease: call Release() when work has drained)
  // or until renewal failed to succeed within the renew deadline (calls `on_lost` once, then
  // returns). Call once.
  void Run(const std::function<void()>& on_started, const std::function<void()>& on_lost);
  // Ends Run() at the next opportunity without giving the lease up.
  void Stop();
  // Gives the lease up (empty holder) so a successor need not wait for it to expire. Only after
  // Run() has returned and the work it guarded has finished. No-op when not leading.
  void Release();

  bool IsLeader() const { return leader_; }
  // Time since the start of the last successful renewal while leading (for /healthz).
  Duration SinceLastRenew() const;

 private:
  // One acquire-or-renew attempt whose requests must all end by `deadline`. True when we hold
  // the lease afterwards.
  bool TryAcquireOrRenew(MonoTime deadline);
  // Leaves the leader state (gauge to 0) and calls on_lost, once.
  void StepDown(const char* why);
  void ArmStepDownTimer();

  KubeClient& client_;
  Clock& clock_;
  Logger log_;
  LeaderElectionConfig config_;
  metrics::LeaderMetrics* metrics_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> leader_{false};
  std::atomic<bool> lost_{false};

  struct TimerGuard;
  std::shared_ptr<TimerGuard> guard_;

  mutable std::mutex mu_;  // guards the four fields below
  std::function<void()> on_lost_;
  TimerId step_down_timer_ = 0;
  MonoTime last_renew_{};  // start of the last successful acquire or renewal

  // What we last saw of the record, and when (local clock, after the GET returned). Used only by
  // the thread in Run().
  nlohmann::json observed_record_;
  MonoTime observed_time_{};
};

}  // namespace cte::kube
