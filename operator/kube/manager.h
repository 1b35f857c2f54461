// Runs the pieces of an operator together: shared informers (started at once, so caches are
// warm while this replica is on standby), controllers (started only once this replica leads),
// leader election, the probe endpoints and graceful shutdown.
//
// /readyz passes when every informer has synced and no watch is stale; /healthz fails when a
// worker has been inside one reconcile longer than `stuck_worker_deadline` or a leader's lease
// renewal is overdue. Both answer in controller-runtime's text format ("ok", or with ?verbose the
// "[+]check ok" lines).
//
// Shutdown order (SIGTERM): stop taking work, let in-flight reconciles finish within the drain
// budget while the lease keeps being renewed, and only then release the lease, so a successor
// never starts while this replica still writes. When the budget runs out the lease is not
// released: it expires on its own after the process has exited. On loss of leadership the
// controllers stop taking work at once and in-flight reconciles get only the safety margin
// (lease duration - renew deadline) before the process exits with status 1.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "operator/core/clock.h"
#include "operator/core/log.h"
#include "operator/core/random.h"
#include "operator/http/http_server.h"
#include "operator/kube/client.h"
#include "operator/kube/controller.h"
#include "operator/kube/informer.h"
#include "operator/kube/leader_election.h"
#include "operator/kube/secret_store.h"
#include "operator/metrics/controller_runtime_metrics.h"
#include "operator/metrics/unfinished_work_updater.h"

namespace cte::kube {

struct ManagerOptions {
  bool leader_elect = false;
  LeaderElectionConfig leader_election;
  std::string namespace_name;  // watch only this namespace; empty: all
  Duration drain_budget = std::chrono::seconds(25);
  Duration stuck_worker_deadline = std::chrono::minutes(5);
  Duration cache_sync_timeout = std::chrono::minutes(2);
  InformerOptions informer_defaults;
  ControllerOptions controller_defaults;
};

class Manager {
 public:
  Manager(KubeClient& client, Clock& clock, Random& random, Logger logger,
          metrics::ControllerRuntimeMetrics* metrics, ManagerOptions options);
  ~Manager();

  // The shared informer for a resource (created on first use). Before Run().
  Informer& InformerFor(const GroupVersionResource& resource, InformerOptions options);
  Informer& InformerFor(const GroupVersionResource& resource);
  // The Secret store over a metadata-only Secret informer (created on first use). Before Run().
  SecretStore& Secrets();
  // The Event recorder of `reporting_controller` (controller-runtime's GetEventRecorderFor): its
  // Events name this replica (the leader election identity) as reportingInstance. One per name,
  // owned by the manager. Before Run().
  EventRecorder& EventRecorderFor(const std::string& reporting_controller);
  // Stops work that only the leader may do and that is not a controller, e.g. the alert pollers
  // reconciles start: `stop` runs once leadership ends (stop requested or lease lost), after the
  // controllers drained and before the lease is released, so a successor never overlaps it.
  // Hooks run in reverse order of registration. Before Run().
  void OnStoppedLeading(std::function<void()> stop);
  // Adds a controller; it starts when this replica leads. Before Run().
  Controller& AddController(const std::string& name, Reconciler& reconciler,
                            ControllerOptions options);
  // The same with the manager's controller defaults (workers, reconcile deadline).
  Controller& AddController(const std::string& name, Reconciler& reconciler);
  // What the manager was built with (a controller that needs other options starts from
  // controller_defaults).
  const ManagerOptions& options() const { return options_; }

  // Serves /healthz and /readyz on `server` (routes registered before the server starts).
  void InstallProbes(http::HttpServer& server);

  // Blocks until Stop() (exit code 0 after the drain and the lease release), until leadership is
  // lost (exit code 1), or until the caches failed to sync in time (exit code 1, without
  // starting any controller: the next leader tries; controller-runtime does the same).
  int Run();
  void Stop();
  // False when a reconcile was still running after the drain budget: its worker thread was left
  // behind, so the process must exit without running destructors.
  bool drained() const { return drained_; }
  // True when no reconcile is running in any controller (a left-behind one included).
  bool Idle() const;

  // Each informer's resource ("group/version/resource") and whether its watch is stale, for the
  // cte_informer_stale gauge. Safe from any thread once Run() was called.
  std::vector<std::pair<std::string, bool>> InformerStaleness() const;

  // Probe results: {passed, body}.
  std::pair<bool, std::string> Readyz(bool verbose) const;
  std::pair<bool, std::string> Healthz(bool verbose) const;

  KubeClient& client() { return client_; }
  Clock& clock() { return clock_; }
  const Logger& log() const { return log_; }

 private:
  struct Check {
    std::string name;
    std::function<std::string()> run;  // empty string: ok; otherwise the failure reason
  };
  static std::pair<bool, std::string> RunChecks(const std::vector<Check>& checks, bool verbose,
                                                const std::string& what);
  // Waits for the caches; false when one failed to sync within the timeout.
  bool WaitForCaches();
  // Stops every controller from taking work and waits up to `budget` for in-flight reconciles
  // (less if leadership is lost meanwhile). Returns true when all finished.
  bool Drain(Duration budget);

  KubeClient& client_;
  Clock& clock_;
  Random& random_;
  Logger log_;
  metrics::ControllerRuntimeMetrics* metrics_;
  ManagerOptions options_;
  // Declared before the controllers, so destroyed after them (and after their joined workers).
  std::map<std::string, std::unique_ptr<EventRecorder>> recorders_;
  std::map<std::string, std::unique_ptr<Informer>> informers_;
  std::vector<std::unique_ptr<Controller>> controllers_;
  std::unique_ptr<SecretStore> secrets_;
  std::vector<std::unique_ptr<metrics::UnfinishedWorkUpdater>> updaters_;
  std::vector<std::function<void()>> stopped_leading_;
  std::unique_ptr<LeaderElector> elector_;
  std::thread elector_thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> leading_{false};
  std::atomic<bool> lost_{false};
  std::atomic<bool> drained_{true};
};

}  // namespace cte::kube
