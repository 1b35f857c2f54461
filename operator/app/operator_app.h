// The process shell shared by cte-operator and the runtime's test operator: flags with
// controller-runtime's names, logging, Kubernetes config, the metrics and probe servers, the
// manager with leader election, and signal handling. A binary supplies only its controllers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "operator/core/clock.h"
#include "operator/core/log.h"
#include "operator/core/random.h"
#include "operator/core/status.h"
#include "operator/kube/client.h"
#include "operator/kube/manager.h"
#include "operator/metrics/registry.h"

namespace cte::app {

struct OperatorFlags {
  std::string kubeconfig;
  bool leader_elect = false;
  std::string leader_election_namespace;  // default: the kubeconfig/in-cluster namespace
  std::string leader_election_id = "cte-operator.cte.netskope.io";
  std::string metrics_bind_address = ":8080";       // "0" disables
  std::string health_probe_bind_address = ":8081";  // "0" disables
  std::string namespace_name;                       // empty: all namespaces
  LogFormat log_format = LogFormat::kJson;
  LogLevel log_level = LogLevel::kInfo;
  Duration graceful_shutdown_timeout = std::chrono::seconds(25);
  Duration watchdog = std::chrono::seconds(90);
  int workers = 2;
  Duration reconcile_timeout = std::chrono::minutes(5);
  Duration sync_period = std::chrono::hours(10);  // zero: no periodic resync

  // The indicator store and the ingest API (cte-operator; other binaries ignore them).
  std::string store_url;                      // --store; empty: no store, no ingest
  std::string ingest_bind_address = ":8443";  // "0" disables; served only with a store
  std::string ingest_tls_cert;
  std::string ingest_tls_key;
  bool ingest_insecure = false;         // plain HTTP, for local runs only
  std::string ingest_credentials_file;  // static APISource credentials (local runs, tests)
  Duration aging_sweep_interval = std::chrono::minutes(1);
  Duration purge_inactive_after{0};                  // zero: keep inactive indicators
  Duration sync_debounce = std::chrono::seconds(1);  // store change → sync cycle of its tenants
  // Tenants synced at once. A cycle mostly waits on its tenant's rate limit (4 v2 calls per
  // second), so this is well above --workers, which would leave most tenants queued.
  int tenant_sync_workers = 16;
};

// Parses argv (both `--flag value` and `--flag=value`). Errors name the flag and the reason.
StatusOr<OperatorFlags> ParseFlags(const std::vector<std::string>& args);
// The ingest flags that depend on each other (ParseFlags runs it): TLS needs both files, plain
// HTTP must be asked for, and an ingest API with a store needs one of the two.
Status ValidateIngestFlags(const OperatorFlags& flags);
std::string Usage(const std::string& program);
// This replica's name in the Lease, Events' reportingInstance and the tenant User-Agent: the host
// name with anything but letters, digits, '-' and '.' replaced (a header or a label must not carry
// control characters), at most 200 of them, then "_" and the suffix in hex.
std::string ReplicaIdentity(std::string_view host, uint32_t suffix);

// What a binary's setup function gets to register its informers and controllers.
struct AppContext {
  Clock& clock;
  Random& random;
  Logger log;
  kube::KubeClient& client;
  kube::Manager& manager;
  metrics::Registry& registry;
  const OperatorFlags& flags;
  std::string identity;  // this replica's name in the Lease and in Events' reportingInstance
  // Run in reverse order once the manager has stopped (after the drain), while the clock, the
  // registry and the logger above still exist: a binary stops what its setup started here.
  std::vector<std::function<void()>>& stop_hooks;
};

// Runs the operator until SIGTERM/SIGINT (exit 0 after draining and releasing the lease) or loss
// of leadership (exit 1). Returns the process exit code.
int RunOperator(const std::string& program, const std::vector<std::string>& args,
                const std::function<Status(AppContext&)>& setup);

// The same for a binary whose reconciler registers its controllers in its constructor,
// `explicit R(AppContext&)`: R is built once the runtime is up and destroyed after it stopped.
template <typename R>
int RunOperator(const std::string& program, int argc, char** argv) {
  std::unique_ptr<R> reconciler;
  return RunOperator(program, {argv + 1, argv + argc}, [&](AppContext& ctx) {
    reconciler = std::make_unique<R>(ctx);
    return Status::Ok();
  });
}

}  // namespace cte::app
