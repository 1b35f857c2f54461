// Leader election on a coordination.k8s.io/v1 Lease with client-go's semantics: lease duration
// 15 s, renew deadline 10 s, retry period 2 s. Expiry is judged by the local clock since this
// process last saw the lease record change, never by comparing renewTime with our clock (clocks
// differ between nodes). Release on shutdown empties the holder so a successor need not wait.
//
// Threading: Run() blocks on the calling thread; callbacks run on it. Stop() may be called from
// any thread.
#pragma once

#include <atomic>
#include <functional>
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

  // Validates LeaseDuration > RenewDeadline > 1.2 * RetryPeriod (client-go's rule).
  static Status Validate(const LeaderElectionConfig& config);

  // Tries to acquire until it leads or Stop(); then calls on_started and renews every retry
  // period. Returns when Stop() was called (after releasing the lease if held) or when renewal
  // failed for longer than the renew deadline (after calling on_lost).
  void Run(const std::function<void()>& on_started, const std::function<void()>& on_lost);
  void Stop();

  bool IsLeader() const { return leader_; }
  // Time since the last successful renewal while leading (for /healthz).
  Duration SinceLastRenew() const;

 private:
  // One acquire-or-renew attempt. True when we hold the lease afterwards.
  bool TryAcquireOrRenew();
  // Each lease request gets half the renew deadline, so a hung API server cannot hold one
  // attempt past the point where we must step down.
  Duration RequestTimeout() const;
  void Release();

  KubeClient& client_;
  Clock& clock_;
  Logger log_;
  LeaderElectionConfig config_;
  metrics::LeaderMetrics* metrics_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> leader_{false};

  // What we last saw, and when (local clock).
  nlohmann::json observed_record_;
  MonoTime observed_time_{};
  std::atomic<int64_t> last_renew_ns_{0};
};

}  // namespace cte::kube
