// The pusher: converges one target list on a tenant (ARCHITECTURE §1 step 4) and records what it
// pushed. For a URL list it reads the list by the id it had at the last sync, or else resolves
// it by name (creating it with its content, or the placeholder when that would be empty, when
// missing) and reads its content back; it plans within the room the list has left, and sends
// the smallest change the API allows (ListChange). For a file-hash list, which cannot be read back,
// it compares the plan with the content it last pushed (the store's ledger) and replaces the list
// when they differ. Entries the tenant refuses are marked invalid in the store and never sent
// again. The ledger is written only after the tenant accepted a write; a crash in between re-plans
// from the tenant's actual content (a URL list) or pushes again (a file-hash list, idempotent).
//
// URL-list writes only stage changes: the caller deploys once per tenant after all of them
// (Deploy). One Pusher serves one tenant; calls are not concurrent (the caller serializes a
// tenant's cycle).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "controllers/api/sharing_configuration.h"
#include "operator/core/clock.h"
#include "operator/core/log.h"
#include "operator/netskope/tenant_client.h"
#include "operator/sharing/diff.h"
#include "operator/sharing/planner.h"
#include "operator/sharing/rule.h"
#include "operator/store/indicator_store.h"

namespace cte::sharing {

// One SharingConfiguration's target, resolved.
struct TargetRequest {
  std::string owner;  // the SharingConfiguration, "namespace/name"
  store::LedgerTarget target;
  store::SourceRef source;
  const CompiledRule* rule = nullptr;
  api::Ownership ownership = api::Ownership::kShared;
  netskope::UrlListType url_list_type = netskope::UrlListType::kExact;
  ListCaps caps;
  // The id this URL list had at the last sync, if any. The pusher reads the list by id (one
  // call) and falls back to the lookup by name (a listing, then a read) when that id is gone or
  // no longer carries the name, so an unchanged list costs one read per cycle.
  std::optional<int64_t> known_list_id;
  // False: plan and compare, but send nothing (suspended, or a muted rule). The result then
  // says what a sync would change.
  bool write = true;
};

struct TargetResult {
  Status status;  // Ok, or what stopped this target (the tenant's error, a store failure)
  ListChange::Action action = ListChange::Action::kNone;
  bool wrote = false;  // a change was sent and accepted
  bool needs_deploy = false;
  std::optional<int64_t> list_id;  // URL lists
  size_t matched = 0;
  size_t truncated = 0;
  size_t invalid = 0;   // refused before, plus what the tenant refused in this sync
  size_t rejected = 0;  // refused in this sync
  size_t owned = 0;     // entries of this configuration in the list now
  size_t list_entries = 0;
  size_t list_bytes = 0;
  size_t added = 0;
  size_t removed = 0;
};

// Forgets `owner`'s ledger of `target` (deletionPolicy Orphan, or a finished retraction); the
// list stays as it is. Another owner's ledger is left alone. Needs no tenant.
Status ForgetLedger(store::IndicatorStore& store, const std::string& owner,
                    const store::LedgerTarget& target);

class Pusher {
 public:
  // All references must outlive the pusher.
  Pusher(netskope::TenantClient& client, store::IndicatorStore& store, Clock& clock, Logger log);

  TargetResult Sync(const TargetRequest& request);
  // deletionPolicy Retract: takes back what `owner` pushed to `target` (the entries in its
  // ledger; a file-hash list is emptied to the placeholder). The ledger is kept (emptied) so a
  // retraction whose deploy fails is deployed again at the next cycle; the caller forgets it
  // (Forget) once nothing is left to deploy. A list that does not exist any more counts as
  // retracted.
  TargetResult Retract(const std::string& owner, const store::LedgerTarget& target,
                       netskope::UrlListType url_list_type);
  // Forgets `owner`'s ledger of `target` (ForgetLedger).
  Status Forget(const std::string& owner, const store::LedgerTarget& target) {
    return ForgetLedger(store_, owner, target);
  }
  // Applies every staged URL-list change of the tenant.
  Status Deploy();

 private:
  // Plans the request's source for a list of type `list` within `caps`; fills the counts of
  // `result`.
  StatusOr<Plan> PlanFor(const TargetRequest& request, api::ListType list, const ListCaps& caps,
                         TargetResult& result);
  TargetResult SyncUrlList(const TargetRequest& request);
  TargetResult SyncFileHashList(const TargetRequest& request);
  // The URL list named `name`, read back; nullopt when the tenant has none. `resolve` also
  // deletes duplicates of the name (writers); without it the lookup only looks (dry runs).
  StatusOr<std::optional<netskope::UrlList>> ReadUrlListByName(const std::string& name,
                                                               bool resolve);
  // Creates a missing URL list with the plan as its content, then looks it up by name again.
  TargetResult CreateUrlList(const TargetRequest& request, const Plan& plan,
                             const std::vector<std::string>& owned_before, TargetResult result);
  // Marks refused values invalid in the store (every type of that value of the source).
  Status MarkInvalid(const store::SourceRef& source,
                     const std::vector<netskope::RejectedUrl>& rejected);
  Status WriteLedger(const store::LedgerTarget& target, const std::string& owner,
                     std::vector<std::string> entries);
  // Write-ahead: before a write that may add `adding`, the ledger already claims them, so a
  // write the tenant applied but whose answer was lost (a timeout, a crash before the ledger
  // is written) never leaves our entries looking like an administrator's.
  Status ClaimAhead(const store::LedgerTarget& target, const std::string& owner,
                    const std::vector<std::string>& owned_before, bool has_ledger,
                    const std::vector<std::string>& adding);
  // Makes `owner`'s ledger of `target`, which holds `held` (sorted, unique), hold `entries`,
  // writing only the difference (a 300,000-entry ledger is not rewritten for one append).
  Status UpdateLedger(const store::LedgerTarget& target, const std::string& owner,
                      const std::vector<std::string>& held, std::vector<std::string> entries);

  netskope::TenantClient& client_;
  store::IndicatorStore& store_;
  Clock& clock_;
  Logger log_;
};

}  // namespace cte::sharing
