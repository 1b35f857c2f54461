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
  if (elector_) elector_->Stop();
  if (elector_thread_.joinable()) elector_thread_.join();
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

SecretStore& Manager::Secrets() {
  if (!secrets_) {
    InformerOptions options = options_.informer_defaults;
    options.metadata_only = true;
    secrets_ = std::make_unique<SecretStore>(client_, InformerFor(kSecretsResource, options));
  }
  return *secrets_;
}

void Manager::OnStoppedLeading(std::function<void()> stop) {
  stopped_leading_.push_back(std::move(stop));
}

EventRecorder& Manager::EventRecorderFor(const std::string& reporting_controller) {
  auto& recorder = recorders_[reporting_controller];
  if (!recorder) {
    recorder = std::make_unique<EventRecorder>(client_, clock_, log_, reporting_controller,
                                               options_.leader_election.identity);
  }
  return *recorder;
}

Controller& Manager::AddController(const std::string& name, Reconciler& reconciler) {
  return AddController(name, reconciler, options_.controller_defaults);
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

std::vector<std::pair<std::string, bool>> Manager::InformerStaleness() const {
  std::vector<std::pair<std::string, bool>> out;
  for (const auto& [id, inf] : informers_)
    out.emplace_back(inf->resource().String(), inf->IsStale());
  return out;
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

bool Manager::WaitForCaches() {
  for (auto& [id, inf] : informers_) {
    // Give up early on a stop or a lost lease; otherwise wait out the timeout. (Predicates run
    // under the clock's lock: they must not call the clock.)
    clock_.WaitFor(options_.cache_sync_timeout,
                   [&] { return inf->HasSynced() || stopping_.load() || lost_.load(); });
    if (!inf->HasSynced()) {
      if (!stopping_ && !lost_) {
        log_.Error("cache did not sync in time",
                   {{"resource", inf->resource().String()},
                    {"timeoutSeconds",
                     std::chrono::duration<double>(options_.cache_sync_timeout).count()}});
      }
      return false;
    }
  }
  return true;
}

bool Manager::Idle() const {
  for (const auto& c : controllers_) {
    if (!c->Idle()) return false;
  }
  return true;
}

bool Manager::Drain(Duration budget) {
  for (auto& c : controllers_) c->StopTakingWork();
  auto all_idle = [this] { return Idle(); };
  const MonoTime deadline = clock_.Now() + budget;
  clock_.WaitFor(budget, [&] { return all_idle() || lost_.load(); });
  if (lost_ && !all_idle()) {
    // Another replica may take over once the lease expires: in-flight work gets only the margin
    // between our step-down and that moment.
    Duration margin = options_.leader_election.lease_duration -
                      options_.leader_election.renew_deadline - std::chrono::seconds(1);
    MonoTime cut = std::min(deadline, clock_.Now() + std::max(margin, Duration::zero()));
    clock_.WaitFor(std::max(cut - clock_.Now(), Duration::zero()), all_idle);
  }
  bool idle = all_idle();
  for (auto& c : controllers_) {
    if (!c->Stop(Duration::zero())) idle = false;
  }
  return idle;
}

int Manager::Run() {
  for (auto& [id, inf] : informers_) inf->Start();
  if (options_.leader_elect) {
    if (Status s = LeaderElector::Validate(options_.leader_election); !s.ok()) {
      log_.Error("invalid leader election settings", {{"error", s.ToString()}});
      return 2;
    }
    elector_ = std::make_unique<LeaderElector>(
        client_, clock_, log_, options_.leader_election,
        metrics_ ? &metrics_->Leader(options_.leader_election.lease_name) : nullptr);
    // The elector renews on its own thread, so nothing done here (cache sync can take minutes)
    // ever delays a renewal.
    elector_thread_ = std::thread([this] {
      elector_->Run(
          [this] {
            leading_ = true;
            clock_.Notify();
          },
          [this] {
            lost_ = true;
            clock_.Notify();
          });
    });
  } else {
    leading_ = true;
  }
  clock_.WaitFor(std::chrono::hours(24 * 365 * 100),
                 [this] { return leading_.load() || stopping_.load() || lost_.load(); });

  int code = 0;
  bool started = false;
  if (leading_ && !stopping_ && !lost_) {
    if (WaitForCaches()) {
      if (!stopping_ && !lost_) {
        for (auto& c : controllers_) c->Start();
        started = true;
      }
    } else if (!stopping_ && !lost_) {
      code = 1;  // exit without starting controllers on caches that are not complete
    }
  }
  if (started) {
    clock_.WaitFor(std::chrono::hours(24 * 365 * 100),
                   [this] { return stopping_.load() || lost_.load(); });
  }

  if (started) {
    log_.Info("shutting down: draining in-flight reconciles",
              {{"drainSeconds", std::chrono::duration<double>(options_.drain_budget).count()}});
    drained_ = Drain(options_.drain_budget);
    for (auto it = stopped_leading_.rbegin(); it != stopped_leading_.rend(); ++it) (*it)();
  }
  if (lost_) {
    log_.Error("leader election lost; exiting");
    code = 1;
  }
  if (elector_) {
    elector_->Stop();
    if (elector_thread_.joinable()) elector_thread_.join();
    // Release only when nothing of ours is still running: a successor must not start while a
    // reconcile of this replica is writing. Otherwise the lease expires after we have exited.
    if (drained_ && !lost_) {
      elector_->Release();
    } else if (!drained_) {
      log_.Warn("not releasing the lease: a reconcile outlived the drain budget");
    }
  }
  leading_ = false;
  for (auto& [id, inf] : informers_) inf->Stop();
  log_.Info("stopped", {{"exitCode", code}});
  return code;
}

void Manager::Stop() {
  // Only a request: Run() stops the controllers, drains, and then ends the lease, in that order.
  stopping_ = true;
  clock_.Notify();
}

}  // namespace cte::kube
