#include "operator/sharing/engine.h"

#include <algorithm>

namespace cte::sharing {

namespace {

std::string ListLabel(const store::LedgerTarget& t) {
  return (t.kind == store::ListKind::kUrlList ? "url:" : "hash:") + t.list_name;
}

// The configuration that wins a list: the oldest, then the first by name.
bool Before(const ResolvedSharing& a, const ResolvedSharing& b) {
  if (a.creation_timestamp != b.creation_timestamp) {
    return a.creation_timestamp < b.creation_timestamp;
  }
  return a.key < b.key;
}

bool SameStatus(const SyncOutcome& a, const SyncOutcome& b) {
  const TargetResult& x = a.result;
  const TargetResult& y = b.result;
  return a.state == b.state && a.generation == b.generation && a.message == b.message &&
         a.conflict_with == b.conflict_with && a.last_write == b.last_write &&
         x.status.ok() == y.status.ok() && x.list_id == y.list_id && x.matched == y.matched &&
         x.truncated == y.truncated && x.invalid == y.invalid && x.owned == y.owned &&
         x.list_entries == y.list_entries && x.list_bytes == y.list_bytes;
}

}  // namespace

SharingEngine::SharingEngine(store::IndicatorStore& store, Clock& clock, Logger log,
                             metrics::SharingMetrics* metrics)
    : store_(store), clock_(clock), log_(std::move(log)), metrics_(metrics) {}

std::optional<SyncOutcome> SharingEngine::Outcome(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = outcomes_.find(key);
  if (it == outcomes_.end()) return std::nullopt;
  return it->second;
}

Status SharingEngine::Orphan(const std::string& key, const std::string& uid) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    orphaned_[key] = uid;  // cycles from now on only forget for it
    if (in_cycle_.count(key)) {
      return UnavailableError("SharingConfiguration " + key +
                              " is being synced; its ledger is forgotten once that ends");
    }
  }
  auto targets = store_.LedgerTargetsOf(key);
  if (!targets.ok()) return targets.status();
  for (const auto& t : *targets) {
    if (Status s = ForgetLedger(store_, key, t); !s.ok()) return s;
  }
  return Status::Ok();
}

std::string SharingEngine::Claim(const ResolvedSharing& c) {
  if (c.host.empty()) return "";
  const ClaimKey list{c.host, static_cast<int>(c.target.kind), c.target.list_name};
  std::lock_guard<std::mutex> lock(mu_);
  // A configuration that moved to another list lets go of the old one, whether or not it gets
  // the new one.
  if (auto mine = claim_of_.find(c.key); mine != claim_of_.end() && mine->second != list) {
    auto old = claims_.find(mine->second);
    if (old != claims_.end() && old->second.key == c.key) claims_.erase(old);
    claim_of_.erase(mine);
  }
  auto it = claims_.find(list);
  if (it != claims_.end() && it->second.key != c.key) {
    const ListClaim& held = it->second;
    const bool older = held.creation_timestamp != c.creation_timestamp
                           ? held.creation_timestamp < c.creation_timestamp
                           : held.key < c.key;
    if (older) return held.key;
  }
  claims_[list] = {c.key, c.creation_timestamp};
  claim_of_[c.key] = list;
  return "";
}

void SharingEngine::Forget(const std::string& key) {
  std::pair<std::string, std::string> series;
  {
    std::lock_guard<std::mutex> lock(mu_);
    outcomes_.erase(key);
    if (auto mine = claim_of_.find(key); mine != claim_of_.end()) {
      auto held = claims_.find(mine->second);
      if (held != claims_.end() && held->second.key == key) claims_.erase(held);
      claim_of_.erase(mine);
    }
    auto it = series_.find(key);
    if (it == series_.end()) return;
    series = it->second;
    series_.erase(it);
  }
  if (metrics_) metrics_->ListGone(series.first, series.second);
}

std::optional<int64_t> SharingEngine::KnownListId(const store::LedgerTarget& target) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = list_ids_.find({target.tenant, target.list_name});
  if (it == list_ids_.end()) return std::nullopt;
  return it->second;
}

SyncOutcome SharingEngine::SyncOne(const ResolvedSharing& c, Pusher& pusher) {
  SyncOutcome out;
  out.generation = c.generation;
  const MonoTime start = clock_.Now();
  if (c.deleting) {
    if (c.deletion_policy == api::DeletionPolicy::kRetract) {
      out.result = pusher.Retract(c.key, c.target, c.url_list_type);
    } else {
      out.result.status = pusher.Forget(c.key, c.target);
    }
    out.state =
        out.result.status.ok() ? SyncOutcome::State::kFinalized : SyncOutcome::State::kFailed;
  } else {
    TargetRequest request;
    request.owner = c.key;
    request.target = c.target;
    request.source = c.source;
    request.rule = c.rule.get();
    request.ownership = c.ownership;
    request.url_list_type = c.url_list_type;
    request.caps = c.caps;
    request.write = !c.suspended && !c.rule->muted();
    if (c.target.kind == store::ListKind::kUrlList) request.known_list_id = KnownListId(c.target);
    out.result = pusher.Sync(request);
    if (!out.result.status.ok()) {
      out.state = SyncOutcome::State::kFailed;
    } else if (c.suspended) {
      out.state = SyncOutcome::State::kSuspended;
    } else if (c.rule->muted()) {
      out.state = SyncOutcome::State::kMuted;
    }
  }
  if (!out.result.status.ok()) out.message = out.result.status.ToString();
  if (metrics_ && !c.suspended && !(c.rule && c.rule->muted())) {
    metrics_->SyncFinished(c.target.tenant, ListLabel(c.target), out.result.status.ok(),
                           clock_.Now() - start);
  }
  return out;
}

std::vector<std::string> SharingEngine::RunCycle(const std::string& tenant,
                                                 netskope::TenantClient& client,
                                                 std::vector<ResolvedSharing> configurations,
                                                 const std::function<bool()>& cancelled,
                                                 const std::function<bool()>& stopping) {
  auto interrupted = [&] { return cancelled && cancelled(); };
  std::vector<std::string> writing;  // keys that may write their ledgers (counted in in_cycle_)
  {
    // A configuration orphaned after the caller resolved it is being deleted: forget only. The
    // others may write their ledgers, so Orphan() waits for this cycle to end.
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& c : configurations) {
      auto orphaned = orphaned_.find(c.key);
      if (orphaned != orphaned_.end() && orphaned->second == c.uid) {
        c.deleting = true;
        c.deletion_policy = api::DeletionPolicy::kOrphan;
      } else if (orphaned != orphaned_.end()) {
        orphaned_.erase(orphaned);  // re-created under the same name since
      }
      if (c.deleting && c.deletion_policy == api::DeletionPolicy::kOrphan) continue;
      ++in_cycle_[c.key];
      writing.push_back(c.key);
    }
  }
  struct CycleEnd {
    SharingEngine& engine;
    const std::vector<std::string>& keys;
    ~CycleEnd() {
      std::lock_guard<std::mutex> lock(engine.mu_);
      for (const auto& key : keys) {
        if (--engine.in_cycle_[key] == 0) engine.in_cycle_.erase(key);
      }
    }
  } cycle_end{*this, writing};
  Pusher pusher(client, store_, clock_, log_.With("tenant", tenant));
  std::sort(configurations.begin(), configurations.end(), Before);
  std::map<std::pair<int, std::string>, std::string> writers;  // (kind, list) -> winner
  // A configuration whose target changed (a renamed list, another type) still holds the ledger of
  // its old list here. It keeps that list until its entries there are taken back or left (after
  // the loop below): no other configuration writes it meanwhile, which would also take over the
  // ledger and leave those entries on the list for good.
  std::map<std::string, std::vector<store::LedgerTarget>> old_targets;  // key -> old lists here
  Status ledgers_read;  // without them no list can be known free: nothing is written
  for (const auto& c : configurations) {
    auto targets = store_.LedgerTargetsOf(c.key);
    if (!targets.ok()) {
      ledgers_read = targets.status();
      break;
    }
    for (auto& old : *targets) {
      if (old.tenant != tenant || old == c.target) continue;
      writers.emplace(std::make_pair(static_cast<int>(old.kind), old.list_name), c.key);
      old_targets[c.key].push_back(std::move(old));
    }
  }
  std::map<std::string, SyncOutcome> results;
  bool needs_deploy = false;
  for (const auto& c : configurations) {
    // A configuration being deleted keeps its claim until it has finalized, so no other can
    // start writing the list while its entries are taken back.
    auto list = std::make_pair(static_cast<int>(c.target.kind), c.target.list_name);
    auto [it, first] = writers.emplace(list, c.key);
    SyncOutcome out;
    // The list may also be held by a configuration of another NetskopeTenant of the same host.
    // (Asked even when this cycle already has a writer for the list, so that c lets go of a
    // list it moved away from.)
    if (std::string holder = Claim(c); first && !holder.empty()) {
      it->second = holder;
      first = false;
    }
    if (!ledgers_read.ok()) {
      out.state = SyncOutcome::State::kFailed;
      out.generation = c.generation;
      out.result.status = ledgers_read;
      out.message = "cannot read the ledgers: " + ledgers_read.ToString();
    } else if (!first) {
      out.state = c.deleting ? SyncOutcome::State::kFinalized : SyncOutcome::State::kConflict;
      out.generation = c.generation;
      out.conflict_with = it->second;
      out.message = c.deleting ? "never wrote the list: " + it->second + " does"
                               : "SharingConfiguration " + it->second + " already writes list \"" +
                                     c.target.list_name + "\"";
    } else if (interrupted()) {
      out.state = SyncOutcome::State::kFailed;
      out.generation = c.generation;
      out.result.status =
          UnavailableError("interrupted: the operator is stopping or the sync took too long");
      out.message = out.result.status.ToString();
    } else {
      out = SyncOne(c, pusher);
      needs_deploy = needs_deploy || out.result.needs_deploy;
    }
    out.uid = c.uid;
    results[c.key] = std::move(out);
  }
  // The old lists of configurations whose target changed: Retract takes their entries back from
  // there, Orphan leaves them; either way the old ledger is forgotten once that is in effect.
  // Only once the current list is written (or, for a deletion, taken back): entries never leave
  // the tenant while the list that should now carry them does not (a conflict, a failure,
  // suspend or a muted rule).
  std::vector<std::pair<std::string, store::LedgerTarget>> abandoned;
  for (const auto& c : configurations) {
    if (interrupted()) break;
    SyncOutcome& out = results[c.key];
    // A deletion in conflict on its current list never wrote it, but its earlier lists are its.
    const bool settled = c.deleting ? out.state == SyncOutcome::State::kFinalized
                                    : out.state == SyncOutcome::State::kSynced;
    if (!settled) continue;
    for (const auto& old : old_targets[c.key]) {
      if (c.deletion_policy == api::DeletionPolicy::kRetract) {
        TargetResult r = pusher.Retract(c.key, old, c.url_list_type);
        if (!r.status.ok()) {
          log_.Warn(
              "cannot take entries back from the previous list",
              {{"configuration", c.key}, {"list", old.list_name}, {"error", r.status.ToString()}});
          if (c.deleting) {  // not finished: the finalizer waits for the next cycle
            out.state = SyncOutcome::State::kFailed;
            out.result.status = r.status;
            out.message = "list " + old.list_name + ": " + r.status.ToString();
          }
          continue;
        }
        needs_deploy = needs_deploy || r.needs_deploy;
        // A failed deploy then leaves a deletion unfinished, as for its current list.
        if (c.deleting) out.result.needs_deploy = out.result.needs_deploy || r.needs_deploy;
      }
      abandoned.emplace_back(c.key, old);
    }
  }

  bool deploy_failed = false;
  if (needs_deploy) {
    // Shutting down: what was staged stays pending; the next cycle (here or on the next leader)
    // sees the pending list and deploys it. No deploy was sent, so none is counted.
    const bool shutting_down = stopping && stopping();
    Status deployed = shutting_down ? UnavailableError("the operator is stopping; not deployed")
                                    : pusher.Deploy();
    deploy_failed = !deployed.ok();
    if (metrics_ && !shutting_down) metrics_->Deployed(tenant, deployed.ok());
    if (deploy_failed) {
      log_.Warn("deploy failed; the next cycle deploys again",
                {{"tenant", tenant}, {"error", deployed.ToString()}});
      // A staged change is not in effect until deployed: those configurations are not synced
      // (and a retraction not finished), so they are retried.
      for (auto& [key, out] : results) {
        if (out.result.needs_deploy) {
          out.state = SyncOutcome::State::kFailed;
          out.deploy_failed = true;
          out.result.status = deployed;  // its code decides whether the cycle is retried
          out.message = "deploy failed: " + deployed.ToString();
        }
      }
    }
  }

  if (!deploy_failed) {
    for (const auto& [key, old] : abandoned) {
      if (Status s = pusher.Forget(key, old); !s.ok()) {
        log_.Warn("cannot forget the previous list's ledger",
                  {{"configuration", key}, {"list", old.list_name}, {"error", s.ToString()}});
      } else {
        log_.Info("left the previous list", {{"configuration", key}, {"list", old.list_name}});
      }
    }
  }
  // Retractions whose changes are in effect (deployed, or nothing to deploy) forget their
  // ledger; one whose deploy failed keeps it and deploys again next cycle.
  for (auto& [key, out] : results) {
    if (out.state != SyncOutcome::State::kFinalized || !out.result.status.ok()) continue;
    const auto& c = *std::find_if(configurations.begin(), configurations.end(),
                                  [&](const ResolvedSharing& r) { return r.key == key; });
    if (!c.deleting || c.deletion_policy != api::DeletionPolicy::kRetract) continue;
    if (out.conflict_with.empty()) {
      if (Status s = pusher.Forget(c.key, c.target); !s.ok()) {
        out.state = SyncOutcome::State::kFailed;
        out.result.status = s;
        out.message = s.ToString();
      }
    }
  }

  const WallTime now = clock_.WallNow();
  std::vector<std::string> changed;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [key, out] : results) {
    out.finished = now;
    auto previous = outcomes_.find(key);
    if (out.result.wrote && !out.deploy_failed) {
      out.last_write = now;
    } else if (previous != outcomes_.end()) {
      out.last_write = previous->second.last_write;
    }
    if (previous == outcomes_.end() || !SameStatus(previous->second, out)) changed.push_back(key);
    const auto& c = *std::find_if(configurations.begin(), configurations.end(),
                                  [&](const ResolvedSharing& r) { return r.key == key; });
    if (metrics_ && out.result.status.ok() && out.state != SyncOutcome::State::kConflict &&
        out.state != SyncOutcome::State::kFinalized) {
      metrics_->ListState(
          c.target.tenant, ListLabel(c.target), static_cast<double>(out.result.list_entries),
          static_cast<double>(out.result.list_bytes), static_cast<double>(out.result.truncated));
      series_[key] = {c.target.tenant, ListLabel(c.target)};
    }
    if (c.target.kind == store::ListKind::kUrlList && out.state != SyncOutcome::State::kConflict) {
      if (out.result.list_id) {
        list_ids_[{c.target.tenant, c.target.list_name}] = *out.result.list_id;
      } else if (out.result.status.ok()) {
        list_ids_.erase({c.target.tenant, c.target.list_name});  // retracted, or no list
      }
    }
    outcomes_[key] = out;
  }
  return changed;
}

}  // namespace cte::sharing
