#include "operator/app/operator_app.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <thread>

#include "operator/core/duration.h"
#include "operator/core/stop_signals.h"
#include "operator/http/http_server.h"
#include "operator/http/socket_transport.h"
#include "operator/kube/config.h"
#include "operator/metrics/build_info.h"
#include "operator/metrics/controller_runtime_metrics.h"
#include "operator/metrics/gauge_collector.h"
#include "operator/metrics/metrics_handler.h"
#include "operator/metrics/process_collector.h"
#include "operator/store/store_url.h"

namespace cte::app {

std::string Usage(const std::string& program) {
  return "usage: " + program + R"( [flags]
  --kubeconfig PATH                  kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)
  --leader-elect                     elect a leader on a Lease before reconciling
  --leader-election-namespace NS     namespace of the Lease (default: the config's namespace)
  --leader-election-id NAME          name of the Lease (default cte-operator.cte.netskope.io)
  --metrics-bind-address ADDR        Prometheus /metrics (default :8080; 0 disables)
  --health-probe-bind-address ADDR   /healthz and /readyz (default :8081; 0 disables)
  --namespace NS                     watch only this namespace (default: all)
  --log-format json|text             (default json)
  --log-level debug|info|warn|error  (default info)
  --graceful-shutdown-timeout DUR    drain budget on SIGTERM (default 25s)
  --watch-watchdog DUR               restart a watch silent for this long (default 90s)
  --workers N                        reconcile workers per controller (default 2)
  --reconcile-timeout DUR            deadline of one reconcile (default 5m)
  --sync-period DUR                  replay every cached object this often (default 10h; 0s disables)
  --store URL                        indicator store, sqlite:///path/indicators.db (default: none)
  --ingest-bind-address ADDR         the API Source ingest API (default :8443; 0 disables; needs --store)
  --ingest-tls-cert FILE             PEM certificate chain of the ingest API
  --ingest-tls-key FILE              PEM private key of the ingest API
  --ingest-insecure                  serve the ingest API over plain HTTP (local runs only)
  --ingest-credentials-file FILE     APISource client credentials to accept (local runs, tests)
  --aging-sweep-interval DUR         how often expired indicators are deactivated (default 1m)
  --purge-inactive-after DUR         delete indicators inactive this long (default 0: never)
  --sync-debounce DUR                wait this long after a store change before syncing (default 1s)
  --tenant-sync-workers N            tenants whose sync cycles run at once (default 16)
)";
}

StatusOr<OperatorFlags> ParseFlags(const std::vector<std::string>& args) {
  OperatorFlags f;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    std::string value;
    bool has_inline = false;
    if (size_t eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_inline = true;
    }
    auto next = [&]() -> StatusOr<std::string> {
      if (has_inline) return value;
      if (i + 1 >= args.size()) return InvalidArgumentError(arg + ": needs a value");
      return args[++i];
    };
    auto take = [&](std::string& out) -> Status {
      auto v = next();
      if (!v.ok()) return v.status();
      out = *v;
      return Status::Ok();
    };
    auto take_duration = [&](Duration& out) -> Status {
      auto v = next();
      if (!v.ok()) return v.status();
      auto d = ParseDuration(*v);
      if (!d.ok()) return InvalidArgumentError(arg + ": " + d.status().message());
      out = *d;
      return Status::Ok();
    };
    // A whole number from `low` to `high`; the error names the flag and the range.
    auto take_int = [&](int& out, long low, long high) -> Status {
      auto v = next();
      if (!v.ok()) return v.status();
      char* end = nullptr;
      long n = std::strtol(v->c_str(), &end, 10);
      if (v->empty() || *end != '\0' || n < low || n > high) {
        std::string message = arg;  // appended: see the -Wrestrict note in docs/benchmarks.md
        message += ": must be ";
        message += std::to_string(low);
        message += " to ";
        message += std::to_string(high);
        return InvalidArgumentError(message);
      }
      out = static_cast<int>(n);
      return Status::Ok();
    };
    Status s;
    if (arg == "--kubeconfig") {
      s = take(f.kubeconfig);
    } else if (arg == "--leader-elect") {
      if (has_inline) {
        if (value != "true" && value != "false")
          s = InvalidArgumentError("--leader-elect: must be true or false");
        f.leader_elect = value == "true";
      } else {
        f.leader_elect = true;
      }
    } else if (arg == "--leader-election-namespace") {
      s = take(f.leader_election_namespace);
    } else if (arg == "--leader-election-id") {
      s = take(f.leader_election_id);
    } else if (arg == "--metrics-bind-address") {
      s = take(f.metrics_bind_address);
      if (s.ok()) s = http::ParseBindAddress(arg, f.metrics_bind_address).status();
    } else if (arg == "--health-probe-bind-address") {
      s = take(f.health_probe_bind_address);
      if (s.ok()) s = http::ParseBindAddress(arg, f.health_probe_bind_address).status();
    } else if (arg == "--namespace") {
      s = take(f.namespace_name);
    } else if (arg == "--log-format") {
      std::string v;
      s = take(v);
      if (s.ok()) {
        auto parsed = ParseLogFormat(v);
        if (parsed.ok())
          f.log_format = *parsed;
        else
          s = parsed.status();
      }
    } else if (arg == "--log-level") {
      std::string v;
      s = take(v);
      if (s.ok()) {
        auto parsed = ParseLogLevel(v);
        if (parsed.ok())
          f.log_level = *parsed;
        else
          s = parsed.status();
      }
    } else if (arg == "--graceful-shutdown-timeout") {
      s = take_duration(f.graceful_shutdown_timeout);
    } else if (arg == "--watch-watchdog") {
      s = take_duration(f.watchdog);
      if (s.ok() && f.watchdog <= Duration::zero())
        s = InvalidArgumentError("--watch-watchdog: must be positive");
    } else if (arg == "--reconcile-timeout") {
      s = take_duration(f.reconcile_timeout);
      if (s.ok() && f.reconcile_timeout <= Duration::zero())
        s = InvalidArgumentError("--reconcile-timeout: must be positive");
    } else if (arg == "--sync-period") {
      s = take_duration(f.sync_period);
      if (s.ok() && f.sync_period < Duration::zero())
        s = InvalidArgumentError("--sync-period: must not be negative");
    } else if (arg == "--workers") {
      s = take_int(f.workers, 1, 64);
    } else if (arg == "--store") {
      s = take(f.store_url);
      if (s.ok()) s = store::ParseStoreUrl(arg, f.store_url).status();
    } else if (arg == "--ingest-bind-address") {
      s = take(f.ingest_bind_address);
      if (s.ok()) s = http::ParseBindAddress(arg, f.ingest_bind_address).status();
    } else if (arg == "--ingest-tls-cert") {
      s = take(f.ingest_tls_cert);
    } else if (arg == "--ingest-tls-key") {
      s = take(f.ingest_tls_key);
    } else if (arg == "--ingest-insecure") {
      if (has_inline) {
        s = InvalidArgumentError("--ingest-insecure: takes no value");
      } else {
        f.ingest_insecure = true;
      }
    } else if (arg == "--ingest-credentials-file") {
      s = take(f.ingest_credentials_file);
    } else if (arg == "--aging-sweep-interval") {
      s = take_duration(f.aging_sweep_interval);
      if (s.ok() && f.aging_sweep_interval <= Duration::zero())
        s = InvalidArgumentError("--aging-sweep-interval: must be positive");
    } else if (arg == "--purge-inactive-after") {
      s = take_duration(f.purge_inactive_after);
    } else if (arg == "--tenant-sync-workers") {
      s = take_int(f.tenant_sync_workers, 1, 256);
    } else if (arg == "--sync-debounce") {
      s = take_duration(f.sync_debounce);
      if (s.ok() && f.sync_debounce < Duration::zero())
        s = InvalidArgumentError("--sync-debounce: must not be negative");
    } else {
      s = InvalidArgumentError("unknown flag " + arg);
    }
    if (!s.ok()) return s;
  }
  if (Status s = ValidateIngestFlags(f); !s.ok()) return s;
  return f;
}

Status ValidateIngestFlags(const OperatorFlags& f) {
  if (f.ingest_tls_cert.empty() != f.ingest_tls_key.empty()) {
    return InvalidArgumentError("--ingest-tls-cert and --ingest-tls-key: give both or neither");
  }
  const bool tls = !f.ingest_tls_cert.empty();
  if (tls && f.ingest_insecure) {
    return InvalidArgumentError("--ingest-insecure: cannot be combined with --ingest-tls-cert");
  }
  auto bind = http::ParseBindAddress("--ingest-bind-address", f.ingest_bind_address);
  if (!bind.ok()) return bind.status();
  if (!f.store_url.empty() && !bind->disabled && !tls && !f.ingest_insecure) {
    return InvalidArgumentError(
        "--ingest-bind-address: the ingest API carries client secrets and tokens; give "
        "--ingest-tls-cert and --ingest-tls-key, or --ingest-insecure for a local run (or "
        "--ingest-bind-address 0 to turn it off)");
  }
  return Status::Ok();
}

std::string ReplicaIdentity(std::string_view host, uint32_t suffix) {
  std::string id;
  for (char c : host.substr(0, 200)) {
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.';
    id += safe ? c : '-';
  }
  char tail[16];
  std::snprintf(tail, sizeof(tail), "_%08x", suffix);
  return (id.empty() ? "cte-operator" : id) + tail;
}

namespace {

std::string Identity() {
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  RealRandom r;
  return ReplicaIdentity(host, static_cast<uint32_t>(r.Uniform() * 4294967295.0));
}

// Every listener and every tenant connection is a file descriptor; the soft limit (often 1024)
// is raised to the hard one at start, as Go's runtime does, so a connection surge meets the
// servers' connection caps rather than EMFILE.
void RaiseOpenFileLimit(const Logger& log) {
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  // An unlimited hard limit cannot be the soft one: the kernel caps it at fs.nr_open.
  rlim_t target = limit.rlim_max;
  if (target == RLIM_INFINITY) {
    unsigned long nr_open = 0;
    std::ifstream("/proc/sys/fs/nr_open") >> nr_open;
    target = nr_open > 0 ? nr_open : 1 << 20;
  }
  if (limit.rlim_cur >= target) return;
  const rlim_t before = limit.rlim_cur;
  limit.rlim_cur = target;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    log.Warn("cannot raise the open-file limit",
             {{"soft", static_cast<int64_t>(before)}, {"error", std::strerror(errno)}});
  }
}

// Starts `server` on the address a bind-address flag holds ("0" leaves it off).
Status StartServer(http::HttpServer& server, const std::string& flag, const std::string& address,
                   const Logger& log, const std::string& what) {
  auto bind = http::ParseBindAddress(flag, address);
  if (!bind.ok()) return bind.status();
  if (bind->disabled) return Status::Ok();
  if (Status s = server.Start(bind->host, bind->port); !s.ok()) {
    return Status(s.code(), flag + ": " + s.message());
  }
  log.Info("serving",
           {{"server", what}, {"address", bind->host + ":" + std::to_string(server.port())}});
  return Status::Ok();
}

}  // namespace

int RunOperator(const std::string& program, const std::vector<std::string>& args,
                const std::function<Status(AppContext&)>& setup) {
  for (const auto& a : args) {
    if (a == "-h" || a == "--help") {
      std::cout << Usage(program);
      return 0;
    }
  }
  auto flags = ParseFlags(args);
  if (!flags.ok()) {
    std::cerr << program << ": " << flags.status().message() << "\n" << Usage(program);
    return 2;
  }
  // Stop signals are handled by a dedicated thread through sigwait; block them everywhere first.
  const StopSignals signals;

  Logger log(std::make_shared<StderrSink>(), flags->log_level, flags->log_format);
  RaiseOpenFileLimit(log);
  auto config = kube::LoadDefault(flags->kubeconfig);
  if (!config.ok()) {
    log.Error("cannot load Kubernetes configuration", {{"error", config.status().message()}});
    return 1;
  }
  http::TransportOptions transport_options;
  transport_options.tls.ca_bundle_pem = config->ca_pem;
  transport_options.tls.client_cert_pem = config->client_cert_pem;
  transport_options.tls.client_key_pem = config->client_key_pem;
  transport_options.tls.insecure_skip_verify = config->insecure_skip_tls_verify;
  // The socket transport: the Kubernetes client's watches and writes are the operator's hottest
  // path, and it avoids cpprestsdk's thread hand-offs (docs/benchmarks.md).
  auto transport = http::NewSocketTransport(transport_options);

  RealClock clock;
  RealRandom random;
  metrics::Registry registry;
  metrics::ControllerRuntimeMetrics runtime_metrics(registry);
  registry.AddCollector(std::make_unique<metrics::ProcessCollector>());
  metrics::RegisterBuildInfo(registry);

  kube::ClientOptions client_options;
  client_options.user_agent = program;
  kube::KubeClient client(*config, *transport, clock, random, &runtime_metrics.RestClient(),
                          client_options);

  kube::ManagerOptions manager_options;
  manager_options.namespace_name = flags->namespace_name;
  manager_options.drain_budget = flags->graceful_shutdown_timeout;
  manager_options.informer_defaults.watchdog = flags->watchdog;
  manager_options.informer_defaults.resync_period = flags->sync_period;
  manager_options.controller_defaults.workers = flags->workers;
  manager_options.controller_defaults.reconcile_timeout = flags->reconcile_timeout;
  manager_options.leader_elect = flags->leader_elect;
  manager_options.leader_election.lease_name = flags->leader_election_id;
  manager_options.leader_election.lease_namespace = flags->leader_election_namespace.empty()
                                                        ? config->default_namespace
                                                        : flags->leader_election_namespace;
  manager_options.leader_election.identity = Identity();
  kube::Manager manager(client, clock, random, log, &runtime_metrics, manager_options);
  registry.AddCollector(std::make_unique<metrics::GaugeCollector>(
      "cte_informer_stale",
      "1 while an informer has not heard from the API server for longer than the watchdog "
      "(/readyz fails meanwhile), else 0.",
      [&manager] {
        std::vector<metrics::GaugeSample> samples;
        for (auto& [resource, stale] : manager.InformerStaleness()) {
          samples.push_back({{{"resource", resource}}, stale ? 1.0 : 0.0});
        }
        return samples;
      },
      clock));

  std::vector<std::function<void()>> stop_hooks;
  // Whatever way RunOperator returns after setup (a setup or server error included), the hooks
  // run while what they use (clock, registry, logger, declared above) still exists.
  struct RunStopHooks {
    std::vector<std::function<void()>>& hooks;
    ~RunStopHooks() {
      for (auto it = hooks.rbegin(); it != hooks.rend(); ++it) (*it)();
      hooks.clear();
    }
  } run_stop_hooks{stop_hooks};
  AppContext ctx{clock,     random,   log,    client,
                 manager,   registry, *flags, manager_options.leader_election.identity,
                 stop_hooks};
  if (Status s = setup(ctx); !s.ok()) {
    log.Error("setup failed", {{"error", s.message()}});
    return 1;
  }

  http::HttpServerOptions server_options;
  server_options.log = log.With("component", "http");
  http::HttpServer metrics_server(server_options), probe_server(server_options);
  metrics::InstallMetricsHandler(metrics_server, registry);
  manager.InstallProbes(probe_server);
  if (Status s = StartServer(metrics_server, "--metrics-bind-address", flags->metrics_bind_address,
                             log, "metrics");
      !s.ok()) {
    log.Error("cannot serve metrics", {{"error", s.message()}});
    return 1;
  }
  if (Status s = StartServer(probe_server, "--health-probe-bind-address",
                             flags->health_probe_bind_address, log, "probes");
      !s.ok()) {
    log.Error("cannot serve probes", {{"error", s.message()}});
    return 1;
  }

  std::thread signal_thread([&] {
    int sig = signals.Wait();
    log.Info("signal received; stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    manager.Stop();
    // A second signal ends the process at once.
    signals.Wait();
    std::_Exit(1);
  });
  signal_thread.detach();

  int code = manager.Run();
  // A reconcile outlived the drain budget: its worker may still be using what the stop hooks and
  // the destructors would free (the store, the tenant clients), so exit without running them.
  // The store's transactions are durable when committed; nothing acknowledged is lost.
  if (!manager.drained()) {
    log.Error("exiting with a reconcile still running (drain budget exceeded)");
    std::_Exit(code);
  }
  for (auto it = stop_hooks.rbegin(); it != stop_hooks.rend(); ++it) (*it)();
  stop_hooks.clear();
  probe_server.Stop();
  metrics_server.Stop();
  // Lost the lease: exit without running destructors, as soon as possible.
  if (code == 1) std::_Exit(code);
  return code;
}

}  // namespace cte::app
