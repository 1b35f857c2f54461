// cte-operator: wires the runtime to the cte.netskope.io kinds. This is the only place that
// chooses concrete classes; everything it uses takes its dependencies as interfaces.
//
// The process keeps the caches of the four kinds warm (also while on standby), elects a leader,
// and serves /metrics, /healthz and /readyz. Every replica opens the indicator store (--store,
// required), runs the aging sweep and serves the API Source ingest API; the leader runs the four
// reconcilers and the tenant sync cycle (controllers/setup.h), which start the Netskope alert
// pollers, register APISource credentials with the ingest API and push the lists.
//
// `cte-operator store backup --store URL --to FILE` copies a live store (docs/store.md).
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "controllers/setup.h"
#include "operator/app/operator_app.h"
#include "operator/core/json_util.h"
#include "operator/http/http_server.h"
#include "operator/ingest/credentials_registry.h"
#include "operator/ingest/failure_throttle.h"
#include "operator/ingest/ingest_api.h"
#include "operator/ingest/token_service.h"
#include "operator/metrics/build_info.h"
#include "operator/metrics/gauge_collector.h"
#include "operator/metrics/ingest_metrics.h"
#include "operator/metrics/sharing_metrics_impl.h"
#include "operator/metrics/tenant_api_metrics.h"
#include "operator/sources/netskope_poller.h"
#include "operator/store/aging_sweeper.h"
#include "operator/store/sqlite_store.h"
#include "operator/store/store_url.h"

namespace {

// The store, what runs on it and the controllers. Built in the setup callback (flags are parsed
// by then) and stopped by a stop hook once the manager has drained, while the clock and the
// registry they use still exist: the controllers first, then the ingest listener, so no request
// starts against a closing store, then the pollers and the store.
class OperatorServices {
 public:
  cte::Status Start(cte::app::AppContext& ctx) {
    const auto& flags = ctx.flags;
    if (flags.store_url.empty()) {
      return cte::InvalidArgumentError(
          "--store: required, e.g. --store sqlite:///var/lib/cte-operator/indicators.db (the "
          "indicators and the ledger of what was pushed to each list live there)");
    }
    auto url = cte::store::ParseStoreUrl("--store", flags.store_url);
    if (!url.ok()) return url.status();
    cte::store::SqliteStoreOptions store_options;
    store_options.path = url->path;
    auto opened =
        cte::store::SqliteIndicatorStore::Open(store_options, ctx.log.With("component", "store"));
    if (!opened.ok())
      return cte::Status(opened.status().code(), "--store: " + opened.status().message());
    store_ = std::move(opened).value();

    cte::store::AgingOptions aging;
    aging.sweep_interval = flags.aging_sweep_interval;
    aging.purge_after = flags.purge_inactive_after;
    sweeper_ = std::make_unique<cte::store::AgingSweeper>(*store_, ctx.clock, aging,
                                                          ctx.log.With("component", "aging"));
    sweeper_->Start();
    pollers_ = std::make_unique<cte::sources::NetskopePollers>(*store_, ctx.clock, ctx.random,
                                                               ctx.log.With("component", "poller"));
    // Reconciles start pollers on the leader only; a successor must not read the same iterator
    // beside them.
    ctx.manager.OnStoppedLeading([this] { pollers_->StopAll(); });

    if (!flags.ingest_credentials_file.empty()) {
      auto text = cte::ReadFile(flags.ingest_credentials_file);
      if (!text.ok())
        return cte::Status(text.status().code(),
                           "--ingest-credentials-file: " + text.status().message());
      auto entries = cte::ingest::ParseCredentialsFile(*text);
      if (!entries.ok())
        return cte::Status(entries.status().code(),
                           "--ingest-credentials-file: " + entries.status().message());
      for (auto& e : *entries) {
        if (cte::Status s = file_credentials_.Put(std::move(e)); !s.ok()) return s;
      }
    }
    if (cte::Status s = StartIngest(ctx); !s.ok()) return s;
    StartControllers(ctx);
    return cte::Status::Ok();
  }

  // Stops and destroys everything (they hold references to the runtime's clock and registry).
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(collect_mu_);
      stopped_ = true;
    }
    controllers_.reset();
    if (server_) server_->Stop();
    server_.reset();
    api_.reset();
    pollers_.reset();
    tenant_clients_.reset();
    sweeper_.reset();
    store_.reset();
  }

 private:
  void StartControllers(cte::app::AppContext& ctx) {
    tenant_api_metrics_ = std::make_unique<cte::metrics::TenantApiMetrics>(ctx.registry);
    sharing_metrics_ = std::make_unique<cte::metrics::SharingMetricsImpl>(ctx.registry);
    tenant_clients_ = std::make_unique<cte::controllers::TenantClients>(
        ctx.clock, ctx.random, tenant_api_metrics_.get(), ctx.log.With("component", "tenant"));
    // The tenant's request logs tell the replicas apart (the identity is the Lease holder's).
    tenant_clients_->SetUserAgent("cte-operator/" + cte::metrics::CurrentBuildInfo().version +
                                  " (" + ctx.identity + ")");
    cte::controllers::Dependencies deps;
    deps.manager = &ctx.manager;
    deps.client = &ctx.client;
    deps.clock = &ctx.clock;
    deps.log = ctx.log;
    deps.store = store_.get();
    deps.tenant_clients = tenant_clients_.get();
    deps.pollers = pollers_.get();
    deps.credentials = &credentials_;
    deps.sharing_metrics = sharing_metrics_.get();
    deps.sync_debounce = ctx.flags.sync_debounce;
    deps.tenant_sync_workers = ctx.flags.tenant_sync_workers;
    controllers_ = std::make_unique<cte::controllers::Controllers>(deps);

    // cte_indicators, counted at most every 15 s: one pass over the table per computation.
    cte::store::IndicatorStore* store = store_.get();
    cte::Logger log = ctx.log.With("component", "store");
    ctx.registry.AddCollector(std::make_unique<cte::metrics::GaugeCollector>(
        "cte_indicators",
        "Indicators in the store by source plugin, type and state (active, inactive: aged out, "
        "retracted, invalid: refused by a tenant).",
        [this, store, log] {
          std::vector<cte::metrics::GaugeSample> samples;
          std::lock_guard<std::mutex> lock(collect_mu_);
          if (stopped_) return samples;
          auto rows = store->Tally();
          if (!rows.ok()) {
            log.Warn("cannot count indicators for cte_indicators",
                     {{"error", rows.status().message()}});
            return samples;
          }
          for (const auto& r : *rows) {
            samples.push_back(
                {{{"namespace", r.source.namespace_name},
                  {"source", r.source.name},
                  {"type", std::string(cte::store::IndicatorTypeName(r.type))},
                  {"state",
                   std::string(cte::store::kIndicatorStateNames[static_cast<size_t>(r.state)])}},
                 static_cast<double>(r.count)});
          }
          return samples;
        },
        ctx.clock, std::chrono::seconds(15)));
  }

  cte::Status StartIngest(cte::app::AppContext& ctx) {
    const auto& flags = ctx.flags;
    auto bind = cte::http::ParseBindAddress("--ingest-bind-address", flags.ingest_bind_address);
    if (!bind.ok()) return bind.status();
    if (bind->disabled) return cte::Status::Ok();
    cte::Logger log = ctx.log.With("component", "ingest");
    cte::http::HttpServerOptions server_options;
    server_options.log = log;
    if (!flags.ingest_tls_cert.empty()) {
      // Reloaded when cert-manager rotates the files in place (docs/http.md).
      cte::http::TlsServerOptions tls;
      tls.cert_file = flags.ingest_tls_cert;
      tls.key_file = flags.ingest_tls_key;
      server_options.tls = tls;
    }
    tokens_ = std::make_unique<cte::ingest::TokenService>(ctx.clock);
    throttle_ = std::make_unique<cte::ingest::FailureThrottle>(ctx.clock);
    metrics_ = std::make_unique<cte::metrics::IngestMetrics>(ctx.registry);
    api_ = std::make_unique<cte::ingest::IngestApi>(*store_, credentials_, *tokens_, *throttle_,
                                                    ctx.clock, metrics_.get(), log);
    server_ = std::make_unique<cte::http::HttpServer>(server_options);
    api_->Install(*server_);
    if (cte::Status s = server_->Start(bind->host, bind->port); !s.ok()) {
      return cte::Status(s.code(), "ingest API: " + s.message());
    }
    if (flags.ingest_insecure) {
      log.Warn("the ingest API serves plain HTTP (--ingest-insecure): for local runs only");
    }
    ctx.log.Info("serving", {{"server", "ingest"},
                             {"address", bind->host + ":" + std::to_string(server_->port())},
                             {"tls", !flags.ingest_insecure}});
    return cte::Status::Ok();
  }

  // The cte_indicators collector runs on scraping threads: Stop() sets stopped_ under the mutex
  // before the store closes, and the collector reports nothing from then on.
  std::mutex collect_mu_;
  bool stopped_ = false;
  std::unique_ptr<cte::store::SqliteIndicatorStore> store_;
  std::unique_ptr<cte::store::AgingSweeper> sweeper_;
  std::unique_ptr<cte::sources::NetskopePollers> pollers_;
  // The file's entries stay put whatever the CTEPlugin reconciler adds or removes above them.
  cte::ingest::StaticCredentialsRegistry file_credentials_;
  cte::ingest::StaticCredentialsRegistry credentials_{&file_credentials_};
  std::unique_ptr<cte::ingest::TokenService> tokens_;
  std::unique_ptr<cte::ingest::FailureThrottle> throttle_;
  std::unique_ptr<cte::metrics::IngestMetrics> metrics_;
  std::unique_ptr<cte::ingest::IngestApi> api_;
  std::unique_ptr<cte::http::HttpServer> server_;
  std::unique_ptr<cte::metrics::TenantApiMetrics> tenant_api_metrics_;
  std::unique_ptr<cte::metrics::SharingMetricsImpl> sharing_metrics_;
  std::unique_ptr<cte::controllers::TenantClients> tenant_clients_;
  std::unique_ptr<cte::controllers::Controllers> controllers_;
};

// `cte-operator store backup --store URL --to FILE`
int StoreCommand(const std::vector<std::string>& args) {
  const std::string usage =
      "usage: cte-operator store backup --store sqlite:///path/indicators.db --to FILE\n";
  if (args.empty() || args[0] != "backup") {
    std::cerr << usage;
    return 2;
  }
  std::string store_url, to;
  for (size_t i = 1; i < args.size(); ++i) {
    std::string a = args[i], value;
    if (size_t eq = a.find('='); eq != std::string::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    }
    if (a == "--store") {
      store_url = value;
    } else if (a == "--to") {
      to = value;
    } else {
      std::cerr << "cte-operator store backup: unknown flag " << a << "\n" << usage;
      return 2;
    }
  }
  auto url = cte::store::ParseStoreUrl("--store", store_url);
  if (!url.ok() || to.empty()) {
    std::cerr << "cte-operator store backup: "
              << (url.ok() ? std::string("--to: a destination file is required")
                           : url.status().message())
              << "\n"
              << usage;
    return 2;
  }
  cte::Status s = cte::store::BackupSqliteStore(url->path, to);
  if (!s.ok()) {
    std::cerr << "cte-operator store backup: " << s.message() << "\n";
    return 1;
  }
  std::cout << "backed up " << url->path << " to " << to << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "store") {
    return StoreCommand(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  OperatorServices services;
  return cte::app::RunOperator("cte-operator", args, [&](cte::app::AppContext& ctx) {
    ctx.stop_hooks.push_back([&services] { services.Stop(); });
    return services.Start(ctx);
  });
}
