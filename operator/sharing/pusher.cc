#include "operator/sharing/pusher.h"

#include <algorithm>
#include <iterator>
#include <unordered_set>

namespace cte::sharing {

namespace {

std::vector<store::IndicatorType> TypesFor(api::ListType list) {
  std::vector<store::IndicatorType> out;
  for (size_t i = 0; i < store::kIndicatorTypeNames.size(); ++i) {
    auto t = static_cast<store::IndicatorType>(i);
    if (list == api::ListType::kUrlList ? store::FitsUrlList(t) : store::FitsFileHashList(t)) {
      out.push_back(t);
    }
  }
  return out;
}

std::vector<std::string> SortedUnique(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// The entries this owner pushed to the target, from its ledger (another owner's ledger is not
// ours to act on).
StatusOr<std::vector<std::string>> OwnedEntries(store::IndicatorStore& store,
                                                const store::LedgerTarget& target,
                                                const std::string& owner, bool* has_ledger) {
  auto ledger = store.GetLedger(target);
  if (!ledger.ok()) return ledger.status();
  *has_ledger = ledger->has_value() && (*ledger)->owner == owner;
  if (!*has_ledger) return std::vector<std::string>{};
  return (*ledger)->entries;
}

}  // namespace

Pusher::Pusher(netskope::TenantClient& client, store::IndicatorStore& store, Clock& clock,
               Logger log)
    : client_(client), store_(store), clock_(clock), log_(std::move(log)) {}

TargetResult Pusher::Sync(const TargetRequest& request) {
  return request.target.kind == store::ListKind::kUrlList ? SyncUrlList(request)
                                                          : SyncFileHashList(request);
}

TargetResult Pusher::CreateUrlList(const TargetRequest& request, const Plan& plan,
                                   const std::vector<std::string>& owned_before,
                                   TargetResult result) {
  const std::string& name = request.target.list_name;
  // Created with its content in one request; never empty (the tenant refuses that).
  std::vector<std::string> content = plan.entries;
  if (content.empty()) content.push_back(kPlaceholderUrl);
  result.action = ListChange::Action::kReplace;
  result.added = plan.entries.size();
  result.owned = plan.entries.size();
  result.list_entries = content.size();
  result.list_bytes = ListBytes(content);
  if (!request.write) return result;
  if (Status s = ClaimAhead(request.target, request.owner, owned_before, false, plan.entries);
      !s.ok()) {
    result.status = s;
    return result;
  }
  auto created = client_.CreateUrlList(name, content, request.url_list_type);
  // Whatever the answer, the lookup decides which list is the list: a create can have been
  // applied although it failed, or applied twice (a resent POST).
  auto found = netskope::ResolveUrlListByName(client_, name);
  if (!found.ok() || !*found) {
    result.status =
        !found.ok() ? found.status()
        : !created.ok()
            ? created.status()
            : UnavailableError("URL list " + name + " is missing right after its create");
    return result;
  }
  auto got = client_.GetUrlList((*found)->id);
  if (!got.ok()) {
    result.status = got.status();
    return result;
  }
  result.list_id = got->id;
  result.wrote = true;
  result.needs_deploy = true;
  std::vector<netskope::RejectedUrl> rejected;
  if (created.ok()) rejected = created->rejected;
  if (Status s = MarkInvalid(request.source, rejected); !s.ok()) {
    result.status = s;
    return result;
  }
  // Ours: what we asked for and the list holds now.
  std::unordered_set<std::string> present(got->urls.begin(), got->urls.end());
  std::vector<std::string> owned;
  for (const auto& e : plan.entries) {
    if (present.count(e)) owned.push_back(e);
  }
  result.rejected = rejected.size();
  result.invalid += rejected.size();
  result.owned = owned.size();
  result.list_entries = got->urls.size();
  result.list_bytes = ListBytes(got->urls);
  result.status = WriteLedger(request.target, request.owner, std::move(owned));
  log_.Info("created URL list", {{"list", name}, {"id", got->id}, {"entries", result.owned}});
  return result;
}

Status Pusher::MarkInvalid(const store::SourceRef& source,
                           const std::vector<netskope::RejectedUrl>& rejected) {
  if (rejected.empty()) return Status::Ok();
  store::WriteBatch batch;
  const WallTime now = clock_.WallNow();
  for (const auto& r : rejected) {
    store::UpdateIndicators u;
    u.source = source;
    u.value = r.url;
    u.update.invalid = store::IndicatorUpdate::Invalid{
        now, r.reason.empty() ? "refused by the tenant" : "refused by the tenant: " + r.reason};
    u.now = now;
    batch.Add(std::move(u));
  }
  return store_.Commit(std::move(batch)).status();
}

Status Pusher::ClaimAhead(const store::LedgerTarget& target, const std::string& owner,
                          const std::vector<std::string>& owned_before, bool has_ledger,
                          const std::vector<std::string>& adding) {
  std::vector<std::string> claim = owned_before;
  claim.insert(claim.end(), adding.begin(), adding.end());
  if (!has_ledger) return WriteLedger(target, owner, std::move(claim));
  return UpdateLedger(target, owner, SortedUnique(owned_before), std::move(claim));
}

Status Pusher::UpdateLedger(const store::LedgerTarget& target, const std::string& owner,
                            const std::vector<std::string>& held,
                            std::vector<std::string> entries) {
  entries = SortedUnique(std::move(entries));
  std::vector<std::string> added, removed;
  std::set_difference(entries.begin(), entries.end(), held.begin(), held.end(),
                      std::back_inserter(added));
  std::set_difference(held.begin(), held.end(), entries.begin(), entries.end(),
                      std::back_inserter(removed));
  if (added.empty() && removed.empty()) return Status::Ok();
  const WallTime now = clock_.WallNow();
  store::WriteBatch batch;
  if (!removed.empty()) batch.Add(store::LedgerRemove{target, now, std::move(removed)});
  if (!added.empty()) batch.Add(store::LedgerAdd{target, owner, now, std::move(added)});
  return store_.Commit(std::move(batch)).status();
}

Status Pusher::WriteLedger(const store::LedgerTarget& target, const std::string& owner,
                           std::vector<std::string> entries) {
  store::WriteBatch batch;
  batch.Add(
      store::LedgerReplace{target, {owner, clock_.WallNow(), SortedUnique(std::move(entries))}});
  return store_.Commit(std::move(batch)).status();
}

StatusOr<Plan> Pusher::PlanFor(const TargetRequest& request, api::ListType list,
                               const ListCaps& caps, TargetResult& result) {
  store::Selection selection{request.source, TypesFor(list), false};
  auto plan = Planner::Run(store_, selection, *request.rule, list, caps, clock_.WallNow());
  if (!plan.ok()) return plan.status();
  result.matched = plan->matched;
  result.truncated = plan->truncated;
  result.invalid = plan->invalid;
  return plan;
}

TargetResult Pusher::SyncUrlList(const TargetRequest& request) {
  TargetResult result;
  const std::string& name = request.target.list_name;
  std::optional<netskope::UrlList> list;
  if (request.known_list_id) {
    auto got = client_.GetUrlList(*request.known_list_id);
    // A transient failure fails the sync; anything else (404, or a tenant that answers a
    // deleted id with 400/403) falls back to the lookup by name below.
    if (!got.ok() && got.status().IsRetryable()) {
      result.status = got.status();
      return result;
    }
    // Renamed, deleted (pending or deployed) or gone: look the name up as on a first sync.
    if (got.ok() && got->name == name && got->modify_type != "Deleted") {
      list = std::move(got).value();
    }
  }
  if (!list) {
    // Writers resolve (which also removes duplicates of the name, the rule that makes a create
    // sent twice harmless; duplicates only arise from a create, which resolves right after); a
    // dry run only looks.
    auto read = ReadUrlListByName(name, request.write);
    if (!read.ok()) {
      result.status = read.status();
      return result;
    }
    list = std::move(read).value();
  }
  if (list) result.list_id = list->id;
  static const std::vector<std::string> kNone;
  const std::vector<std::string>& actual = list ? list->urls : kNone;

  bool has_ledger = false;
  auto owned_before = OwnedEntries(store_, request.target, request.owner, &has_ledger);
  if (!owned_before.ok()) {
    result.status = owned_before.status();
    return result;
  }
  ListCaps caps = request.caps;
  if (request.ownership == api::Ownership::kShared) {
    for (const auto& e : ForeignEntries(actual, *owned_before, kPlaceholderUrl)) {
      ++caps.reserved_entries;
      caps.reserved_bytes += EntryBytes(e);
    }
  }
  auto plan = PlanFor(request, api::ListType::kUrlList, caps, result);
  if (!plan.ok()) {
    result.status = plan.status();
    return result;
  }
  if (!list) return CreateUrlList(request, *plan, *owned_before, result);

  ListChange change =
      DiffList(plan->entries, actual, *owned_before, request.ownership, kPlaceholderUrl);
  // A list of the other type (exact vs regex): under Exclusive it is rewritten whole with the
  // type asked for; under Shared that would change how the tenant reads an administrator's
  // entries, so the sync stops and says why.
  if (list->has_data && list->type != request.url_list_type &&
      request.ownership == api::Ownership::kShared) {
    result.status = Status(
        StatusCode::kFailedPrecondition,
        "URL list " + name + " is of type " +
            std::string(list->type == netskope::UrlListType::kRegex ? "regex" : "exact") +
            " but urlListType asks for " +
            (request.url_list_type == netskope::UrlListType::kRegex ? "regex" : "exact") +
            "; under ownership Shared the operator does not change the type of a list others "
            "write to (set ownership: Exclusive to take it over, or match the type)");
    return result;
  }
  if (list->has_data && list->type != request.url_list_type &&
      change.action != ListChange::Action::kReplace) {
    change.action = ListChange::Action::kReplace;
    change.entries = change.result;
  }
  result.action = change.action;
  result.added = change.added;
  result.removed = change.removed;
  result.owned = change.owned.size();
  result.list_entries = change.result.size();
  result.list_bytes = ListBytes(change.result);
  if (!request.write) return result;
  // Staged but never deployed (a deploy that failed, or a crash between write and deploy): the
  // content is right but not in effect, so this cycle deploys even without a write.
  if (list->pending) result.needs_deploy = true;

  std::vector<netskope::RejectedUrl> rejected;
  // What the ledger holds now (valid when has_ledger): the claim written ahead of a write, so a
  // refused entry the claim added is taken out of it again below.
  std::vector<std::string> ledger_now = SortedUnique(*owned_before);
  if (change.action != ListChange::Action::kNone) {
    if (Status s =
            ClaimAhead(request.target, request.owner, *owned_before, has_ledger, change.owned);
        !s.ok()) {
      result.status = s;
      return result;
    }
    ledger_now = SortedUnique(*owned_before);
    ledger_now.insert(ledger_now.end(), change.owned.begin(), change.owned.end());
    ledger_now = SortedUnique(std::move(ledger_now));
    has_ledger = true;
    auto written = change.action == ListChange::Action::kAppend
                       ? client_.AppendUrls(list->id, change.entries, request.url_list_type)
                       : client_.ReplaceUrls(list->id, change.entries, request.url_list_type);
    if (!written.ok()) {
      result.status = written.status();
      return result;
    }
    rejected = written->rejected;
    result.wrote = true;
    result.needs_deploy = true;
  }
  if (Status s = MarkInvalid(request.source, rejected); !s.ok()) {
    result.status = s;
    return result;
  }
  if (!rejected.empty()) {
    std::unordered_set<std::string> refused;
    for (const auto& r : rejected) refused.insert(r.url);
    auto drop = [&](std::vector<std::string>& v) {
      v.erase(std::remove_if(v.begin(), v.end(), [&](const auto& e) { return refused.count(e); }),
              v.end());
    };
    drop(change.owned);
    drop(change.result);
    result.rejected = rejected.size();
    result.invalid += rejected.size();
    result.owned = change.owned.size();
    result.list_entries = change.result.size();
    result.list_bytes = ListBytes(change.result);
  }
  // Recorded only now that the tenant accepted the write; unchanged ledgers are not rewritten.
  {
    Status s = has_ledger ? UpdateLedger(request.target, request.owner, ledger_now, change.owned)
                          : WriteLedger(request.target, request.owner, change.owned);
    if (!s.ok()) {
      result.status = s;
      return result;
    }
  }
  if (result.wrote) {
    log_.Info("wrote URL list",
              {{"list", request.target.list_name},
               {"action", change.action == ListChange::Action::kAppend ? "append" : "replace"},
               {"added", result.added},
               {"removed", result.removed},
               {"rejected", result.rejected}});
  }
  return result;
}

TargetResult Pusher::SyncFileHashList(const TargetRequest& request) {
  TargetResult result;
  bool has_ledger = false;
  auto last_pushed = OwnedEntries(store_, request.target, request.owner, &has_ledger);
  if (!last_pushed.ok()) {
    result.status = last_pushed.status();
    return result;
  }
  auto plan = PlanFor(request, api::ListType::kFileHashList, request.caps, result);
  if (!plan.ok()) {
    result.status = plan.status();
    return result;
  }
  std::vector<std::string> content = plan->entries;
  result.owned = content.size();
  if (content.empty()) content.push_back(kPlaceholderFileHash);
  result.list_entries = content.size();
  result.list_bytes = ListBytes(content);
  // No read-back: the ledger holds what was last pushed, and the whole list is replaced.
  if (has_ledger && SortedUnique(content) == SortedUnique(*last_pushed)) return result;
  result.action = ListChange::Action::kReplace;
  if (!request.write) return result;
  auto written = client_.UpdateFileHashList(request.target.list_name, content);
  if (!written.ok()) {
    result.status = written.status();
    return result;
  }
  result.wrote = !written->unchanged;
  if (Status s = WriteLedger(request.target, request.owner, content); !s.ok()) {
    result.status = s;
    return result;
  }
  log_.Info("wrote file-hash list",
            {{"list", request.target.list_name}, {"entries", content.size()}});
  return result;
}

StatusOr<std::optional<netskope::UrlList>> Pusher::ReadUrlListByName(const std::string& name,
                                                                     bool resolve) {
  auto found = resolve ? netskope::ResolveUrlListByName(client_, name)
                       : netskope::FindUrlListByName(client_, name);
  if (!found.ok()) return found.status();
  if (!*found) return std::optional<netskope::UrlList>();
  auto got = client_.GetUrlList((*found)->id);
  if (!got.ok()) return got.status();
  return std::optional<netskope::UrlList>(std::move(got).value());
}

TargetResult Pusher::Retract(const std::string& owner, const store::LedgerTarget& target,
                             netskope::UrlListType url_list_type) {
  TargetResult result;
  bool has_ledger = false;
  auto owned = OwnedEntries(store_, target, owner, &has_ledger);
  if (!owned.ok()) {
    result.status = owned.status();
    return result;
  }
  if (has_ledger && target.kind == store::ListKind::kFileHashList) {
    auto written =
        client_.UpdateFileHashList(target.list_name, {std::string(kPlaceholderFileHash)});
    if (!written.ok()) {
      result.status = written.status();
      return result;
    }
    result.wrote = true;
    result.action = ListChange::Action::kReplace;
  } else if (has_ledger) {
    auto read = ReadUrlListByName(target.list_name, /*resolve=*/true);
    if (!read.ok()) {
      result.status = read.status();
      return result;
    }
    if (*read) {
      const netskope::UrlList& list = **read;
      result.list_id = list.id;
      // Staged but not deployed: a retraction whose deploy failed in an earlier cycle.
      if (list.pending) result.needs_deploy = true;
      // Keep everything but our entries: an administrator's stay, whatever the ownership was.
      ListChange change = DiffList({}, list.urls, *owned, api::Ownership::kShared, kPlaceholderUrl);
      result.removed = change.removed;
      result.list_entries = change.result.size();
      if (change.action != ListChange::Action::kNone) {
        // The list keeps its own type: a retraction must not change how the tenant reads the
        // entries that stay (an administrator's, or another writer's).
        auto written =
            client_.ReplaceUrls(list.id, change.result, list.has_data ? list.type : url_list_type);
        if (!written.ok()) {
          result.status = written.status();
          return result;
        }
        result.wrote = true;
        result.needs_deploy = true;
        result.action = ListChange::Action::kReplace;
      }
    }
  }
  // The (emptied) ledger stays until the caller has deployed: see Retract's contract.
  if (has_ledger && !owned->empty()) result.status = WriteLedger(target, owner, {});
  if (result.wrote) {
    log_.Info("retracted entries", {{"list", target.list_name}, {"removed", result.removed}});
  }
  return result;
}

Status ForgetLedger(store::IndicatorStore& store, const std::string& owner,
                    const store::LedgerTarget& target) {
  store::WriteBatch batch;
  batch.Add(store::LedgerDelete{target, owner});  // only while `owner` still holds it
  return store.Commit(std::move(batch)).status();
}

Status Pusher::Deploy() {
  auto deployed = client_.DeployUrlLists();
  if (!deployed.ok()) return deployed.status();
  log_.Info("deployed URL lists", {{"lists", deployed->size()}});
  return Status::Ok();
}

}  // namespace cte::sharing
