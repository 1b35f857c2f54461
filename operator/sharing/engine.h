// The sync cycle of one tenant (ARCHITECTURE §1 steps 4-5): every SharingConfiguration that
// writes to the tenant, in one pass, then one deploy. The controllers layer resolves the
// configurations from its caches (references, compiled rules, the tenant's client) and calls
// RunCycle for one tenant at a time; the engine keeps each configuration's last outcome for the
// reconciler that writes its status, and reports the metrics.
//
// In a cycle:
// - Two configurations on one target list: the older (creationTimestamp, then name) writes; the
//   other gets TargetConflict and sends nothing. Lists are claimed per tenant host across all
//   cycles, so configurations behind two NetskopeTenants of the same host (two namespaces) never
//   fight over a list.
// - A suspended configuration, or one whose rule is muted, sends nothing; its outcome says what
//   a sync would change.
// - A configuration being deleted retracts (deletionPolicy Retract) or forgets (Orphan) its
//   entries; its outcome says when that is done, so the finalizer can go.
// - A configuration whose target changed takes its entries back from its old list on the tenant
//   (deletionPolicy Retract) or leaves them (Orphan), and forgets the old ledger; until then no
//   other configuration of the tenant writes that list.
// - URL-list writes are deployed with one deploy after all of them, when any was written.
//
// Thread-safety: RunCycle is called for one tenant at a time (the caller's work queue serializes
// a tenant); different tenants may run concurrently. Outcome() may be called from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "controllers/api/sharing_configuration.h"
#include "operator/core/clock.h"
#include "operator/core/log.h"
#include "operator/metrics/sharing_metrics.h"
#include "operator/netskope/tenant_client.h"
#include "operator/sharing/pusher.h"
#include "operator/sharing/rule.h"
#include "operator/store/indicator_store.h"

namespace cte::sharing {

// One SharingConfiguration, resolved by the controllers layer.
struct ResolvedSharing {
  std::string key;  // "namespace/name"
  int64_t generation = 0;
  std::string creation_timestamp;  // RFC 3339, for conflict order
  std::string uid;                 // tells a configuration re-created under the same name apart
  // The tenant (spec.tenantName): lists belong to it, and two NetskopeTenants (in two
  // namespaces, say) may name the same one.
  std::string host;
  store::LedgerTarget target;
  store::SourceRef source;
  std::shared_ptr<const CompiledRule> rule;
  api::Ownership ownership = api::Ownership::kShared;
  netskope::UrlListType url_list_type = netskope::UrlListType::kExact;
  ListCaps caps;
  bool suspended = false;
  bool deleting = false;  // has a deletionTimestamp; the finalizer waits for Outcome().finalized
  api::DeletionPolicy deletion_policy = api::DeletionPolicy::kRetract;
};

// What happened to one configuration in its last cycle.
struct SyncOutcome {
  enum class State {
    kSynced,     // the list holds what it should (written now or already)
    kFailed,     // the tenant or the store failed; retried next cycle
    kConflict,   // another configuration writes this list
    kSuspended,  // suspend: true; nothing sent
    kMuted,      // the rule is muted; nothing sent
    kFinalized,  // deletion done (retracted or orphaned); the finalizer may go
  };
  State state = State::kSynced;
  int64_t generation = 0;              // of the configuration this outcome is for
  WallTime finished{};                 // when the cycle ended
  std::optional<WallTime> last_write;  // the last cycle that changed the tenant's list
  std::string message;                 // the error, or who holds a conflicting list
  std::string conflict_with;           // kConflict: the configuration that writes the list
  TargetResult result;
  bool deploy_failed = false;
  std::string uid;  // of the configuration this outcome is for
};

class SharingEngine {
 public:
  // `store` and `clock` outlive the engine; `metrics` may be null.
  SharingEngine(store::IndicatorStore& store, Clock& clock, Logger log,
                metrics::SharingMetrics* metrics = nullptr);

  // Runs one cycle for `tenant` ("namespace/name") with its client. `configurations` are all the
  // configurations that target this tenant. Returns the keys whose outcome changed in a way their
  // status shows (so the caller can reconcile them).
  // `cancelled` is asked before each configuration: once it says true (the operator is
  // stopping, or the reconcile's deadline passed) no further configuration is synced, and those
  // not reached are kFailed ("interrupted"). What was staged is still deployed, unless
  // `stopping` says the operator is shutting down (leadership may be gone: the next leader sees
  // the pending lists and deploys them).
  std::vector<std::string> RunCycle(const std::string& tenant, netskope::TenantClient& client,
                                    std::vector<ResolvedSharing> configurations,
                                    const std::function<bool()>& cancelled = {},
                                    const std::function<bool()>& stopping = {});

  // The last outcome for a configuration; nullopt before its first cycle.
  std::optional<SyncOutcome> Outcome(const std::string& key) const;
  // Forgets a configuration that is gone (its metrics series and its claim on a list too).
  void Forget(const std::string& key);
  // deletionPolicy Orphan needs no tenant: forgets every ledger `key` holds (its current
  // target's and any left from an earlier target). From the call on, cycles only forget for the
  // configuration with this `uid` (one resolved before the deletion included); Unavailable while
  // a cycle that may still write its ledger is running (retry: that is at most one cycle).
  Status Orphan(const std::string& key, const std::string& uid);

 private:
  SyncOutcome SyncOne(const ResolvedSharing& c, Pusher& pusher);
  // Claims c's list on its host for c; returns the key of an older configuration that holds it
  // (empty when c holds it now). A configuration holds one claim at a time.
  std::string Claim(const ResolvedSharing& c);

  struct ListClaim {
    std::string key;
    std::string creation_timestamp;
  };
  using ClaimKey = std::tuple<std::string, int, std::string>;  // host, kind, list name
  // The id a URL list had when it was last synced (TargetRequest::known_list_id).
  std::optional<int64_t> KnownListId(const store::LedgerTarget& target) const;

  store::IndicatorStore& store_;
  Clock& clock_;
  Logger log_;
  metrics::SharingMetrics* metrics_;
  mutable std::mutex mu_;
  std::map<std::string, SyncOutcome> outcomes_;
  std::map<std::string, std::pair<std::string, std::string>> series_;  // key -> (tenant, list)
  std::map<ClaimKey, ListClaim> claims_;
  std::map<std::string, ClaimKey> claim_of_;  // configuration key -> its claim
  std::map<std::pair<std::string, std::string>, int64_t> list_ids_;  // (tenant, list) -> id
  std::map<std::string, int> in_cycle_;  // configuration key -> cycles that may write for it
  // key -> uid of a configuration Orphan() was called for. Kept after Forget(): a cycle resolved
  // before the deletion may start later; dropped when the key comes back with another uid.
  std::map<std::string, std::string> orphaned_;
};

}  // namespace cte::sharing
