#include "operator/kube/manager.h"

#include "operator/metrics/unfinished_work_updater.h"

namespace cte::kube {

Manager::Manager(KubeClient& client, Clock& clock, Random& random, Logger logger,
                 metrics::ControllerRuntimeMetrics* metrics, ManagerOptions options)
    : client_(client),
      clock_(clock),
      random_(random),
      log_(std::move(logger)),
      metrics_(metrics),
      options_(std::move(options)) {}

Manager::~Manager() {
  Stop();
  updaters_.clear();
  for (auto& c : controllers_) c->Stop(Duration::zero());
  for (auto& [id, inf] : informers_) inf->Stop();
}

Informer& Manager::InformerFor(const GroupVersionResource& resource, InformerOptions options) {
  std::string id = resource.ApiVersion() + "/" + resource.resource;
  auto& slot = informers_[id];
  if (!slot) {
    if (options.namespace_name.empty()) options.namespace_name = options_.namespace_name;
    slot = std::make_unique<Informer>(client_, resource, clock_, random_, log_, options);
  }
  return *slot;
}

Informer& Manager::InformerFor(const GroupVersionResource& resource) {
  return InformerFor(resource, options_.informer_defaults);
}

Controller& Manager::AddController(const std::string& name, Reconciler& reconciler,
                                   ControllerOptions options) {
  metrics::WorkqueueMetrics* queue_metrics = metrics_ ? &metrics_->Workqueue(name) : nullptr;
  metrics::ControllerMetrics* controller_metrics =
      metrics_ ? &metrics_->Controller(name, options.workers) : nullptr;
  controllers_.push_back(std::make_unique<Controller>(name, reconciler, clock_, random_, log_,
                                                      options, queue_metrics, controller_metrics));
  Controller& c = *controllers_.back();
  if (queue_metrics) {
    updaters_.push_back(
        std::make_unique<metrics::UnfinishedWorkUpdater>(clock_, *queue_metrics, [&c] {
          auto [sum, longest] = c.queue().InProgressSeconds();
          metrics::UnfinishedWork w;
          w.total = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(sum));
          w.longest = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(longest));
          return w;
        }));
  }
  return c;
}

std::pair<bool, std::string> Manager::RunChecks(const std::vector<Check>& checks, bool verbose,
                                                const std::string& what) {
  bool ok = true;
  std::string body;
  for (const auto& check : checks) {
    std::string failure = check.run();
    if (failure.empty()) {
      body += "[+]" + check.name + " ok\n";
    } else {
      ok = false;
      body += "[-]" + check.name + " failed: " + failure + "\n";
    }
  }
  body += what + (ok ? " check passed\n" : " check failed\n");
  if (ok && !verbose) return {true, "ok"};
  return {ok, body};
}

std::pair<bool, std::string> Manager::Readyz(bool verbose) const {
  std::vector<Check> checks = {
      {"ping", [] { return std::string(); }},
      {"informer-sync",
       [this] {
         for (const auto& [id, inf] : informers_) {
           if (!inf->HasSynced()) return inf->resource().String() + " not synced";
         }
         return std::string();
       }},
      {"watches",
       [this] {
         for (const auto& [id, inf] : informers_) {
           if (inf->IsStale()) return inf->resource().String() + " watch is stale";
         }
         return std::string();
       }},
  };
  return RunChecks(checks, verbose, "readyz");
}

std::pair<bool, std::string> Manager::Healthz(bool verbose) const {
  std::vector<Check> checks = {
      {"ping", [] { return std::string(); }},
      {"workers",
       [this] {
         for (const auto& c : controllers_) {
           if (c->LongestRunning() > options_.stuck_worker_deadline) {
             return c->name() + " has a reconcile running past the deadline";
           }
         }
         return std::string();
       }},
      {"leader-election",
       [this] {
         if (elector_ && elector_->IsLeader() &&
             elector_->SinceLastRenew() > options_.leader_election.renew_deadline) {
           return std::string("lease renewal is overdue");
         }
         return std::string();
       }},
  };
  return RunChecks(checks, verbose, "healthz");
}

void Manager::InstallProbes(http::HttpServer& server) {
  auto probe = [](std::pair<bool, std::string> result, http::ResponseWriter& w) {
    w.Send(http::HttpResponse::Text(result.first ? 200 : 500, result.second));
  };
  server.Route("GET", "/readyz",
               [this, probe](const http::HttpRequest& req, const http::PathParams&,
                             http::ResponseWriter& w) {
                 probe(Readyz(req.Query("verbose").has_value()), w);
               });
  server.Route("GET", "/healthz",
               [this, probe](const http::HttpRequest& req, const http::PathParams&,
                             http::ResponseWriter& w) {
                 probe(Healthz(req.Query("verbose").has_value()), w);
               });
}

int Manager::Run() {
  for (auto& [id, inf] : informers_) inf->Start();
  auto start_controllers = [this] {
    for (auto& [id, inf] : informers_) {
      if (!inf->WaitForSync(options_.cache_sync_timeout) && !stopping_) {
        log_.Error("cache did not sync in time", {{"resource", inf->resource().String()}});
      }
    }
    if (stopping_) return;
    leading_ = true;
    for (auto& c : controllers_) c->Start();
  };
  if (options_.leader_elect) {
    if (Status s = LeaderElector::Validate(options_.leader_election); !s.ok()) {
      log_.Error("invalid leader election settings", {{"error", s.ToString()}});
      return 2;
    }
    elector_ = std::make_unique<LeaderElector>(
        client_, clock_, log_, options_.leader_election,
        metrics_ ? &metrics_->Leader(options_.leader_election.lease_name) : nullptr);
    elector_->Run(start_controllers, [this] { lost_ = true; });
  } else {
    start_controllers();
    clock_.WaitFor(std::chrono::hours(24 * 365 * 100), [this] { return stopping_.load(); });
  }
  if (lost_) {
    // Another replica may already lead: exit at once rather than keep reconciling.
    log_.Error("leader election lost; exiting");
    return 1;
  }
  log_.Info("shutting down",
            {{"drainSeconds", std::chrono::duration<double>(options_.drain_budget).count()}});
  MonoTime deadline = clock_.Now() + options_.drain_budget;
  for (auto& c : controllers_) {
    Duration left = std::max(Duration::zero(), deadline - clock_.Now());
    if (!c->Stop(left)) drained_ = false;
  }
  for (auto& [id, inf] : informers_) inf->Stop();
  // The elector released the lease when Run returned after Stop().
  log_.Info("stopped");
  return 0;
}

void Manager::Stop() {
  if (stopping_.exchange(true)) return;
  if (elector_) elector_->Stop();
  clock_.Notify();
}

}  // namespace cte::kube
