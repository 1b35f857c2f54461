#include "operator/sources/netskope_poller.h"

#include <nlohmann/json.hpp>

#include "operator/core/backoff.h"
#include "operator/core/json_util.h"
#include "operator/sources/alert_mapping.h"

namespace cte::sources {
namespace {

using netskope::AlertType;
using netskope::IteratorOperation;

int64_t EpochSeconds(WallTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// Tenant errors that mean "this index is not known to the tenant" (expired, or never started):
// resume from our own high-water mark instead of the tenant's cursor.
bool IndexUnknown(const Status& s) {
  return s.code() == StatusCode::kInvalidArgument || s.code() == StatusCode::kFailedPrecondition ||
         s.code() == StatusCode::kNotFound;
}

// Failures that will not go away by retrying soon (a token or scope problem): wait longer.
bool NeedsFix(const Status& s) {
  return s.code() == StatusCode::kUnauthenticated || s.code() == StatusCode::kPermissionDenied;
}

}  // namespace

bool NetskopePollerSpec::SameAs(const NetskopePollerSpec& o) const {
  return plugin == o.plugin && tenant_name == o.tenant_name && hashes == o.hashes &&
         urls == o.urls && initial_range_days == o.initial_range_days &&
         poll_interval == o.poll_interval && policy.aging_days == o.policy.aging_days &&
         policy.override_reputation == o.policy.override_reputation && client == o.client;
}

std::string PollerCheckpointKey(const store::SourceRef& plugin, const std::string& tenant_host,
                                AlertType type) {
  return "netskope-poller/" + plugin.Key() + "/" + tenant_host + "/" +
         std::string(netskope::AlertTypeName(type));
}

namespace {

// Before checkpoint keys named the tenant host (a store written by an older release), and the
// mark that says such progress has been taken over.
std::string LegacyCheckpointKey(const store::SourceRef& plugin, AlertType type) {
  return "netskope-poller/" + plugin.Key() + "/" + std::string(netskope::AlertTypeName(type));
}
std::string LegacyTakenOverKey(const store::SourceRef& plugin, AlertType type) {
  return LegacyCheckpointKey(plugin, type) + "/taken-over";
}

}  // namespace

std::string PollerIndexName(const store::SourceRef& plugin, AlertType type, bool historical) {
  std::string name =
      netskope::IteratorIndexName("cte_" + plugin.namespace_name + "_" + plugin.name, type);
  return historical ? name + "_historical" : name;
}

// What survives a restart, as JSON in the store's checkpoint table.
struct AlertConsumer::Checkpoint {
  int64_t enabled_at = 0;  // epoch seconds when polling was first enabled for this type
  struct Phase {
    bool started = false;  // the tenant's index has been started (resume with resend)
    bool done = false;     // historical only
    int64_t hwm = 0;       // the highest timestamp_hwm stored
  };
  Phase historical;
  Phase incremental;

  std::string ToJson() const {
    auto phase = [](const Phase& p) {
      return nlohmann::json{{"started", p.started}, {"done", p.done}, {"hwm", p.hwm}};
    };
    return nlohmann::json{{"enabledAt", enabled_at},
                          {"historical", phase(historical)},
                          {"incremental", phase(incremental)}}
        .dump();
  }
  static StatusOr<Checkpoint> FromJson(const std::string& text) {
    auto j = ParseJson(text);
    if (!j.ok()) return j.status();
    Checkpoint c;
    try {
      c.enabled_at = j->at("enabledAt").get<int64_t>();
      auto phase = [](const nlohmann::json& p) {
        return Phase{p.at("started").get<bool>(), p.at("done").get<bool>(),
                     p.at("hwm").get<int64_t>()};
      };
      c.historical = phase(j->at("historical"));
      c.incremental = phase(j->at("incremental"));
    } catch (const nlohmann::json::exception& e) {
      return InternalError(std::string("poller checkpoint: ") + e.what());
    }
    return c;
  }
};

AlertConsumer::AlertConsumer(NetskopePollerSpec spec, AlertType type, store::IndicatorStore& store,
                             Clock& clock, Random& random, Logger log)
    : spec_(std::move(spec)),
      type_(type),
      store_(store),
      clock_(clock),
      random_(random),
      log_(log.With("plugin", spec_.plugin.Key())
               .With("alertType", std::string(netskope::AlertTypeName(type)))) {
  status_.type = type;
  status_.phase = "stopped";
}

AlertConsumer::~AlertConsumer() { Stop(); }

void AlertConsumer::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

void AlertConsumer::RequestStop() {
  stopping_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (iterator_) iterator_->Cancel();
  }
  clock_.Notify();
}

void AlertConsumer::Stop() {
  RequestStop();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  status_.phase = "stopped";
}

ConsumerStatus AlertConsumer::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

bool AlertConsumer::Wait(Duration d) {
  clock_.WaitFor(d, [this] { return stopping_.load(); });
  return !stopping_;
}

void AlertConsumer::Run() {
  // Tenant trouble is retried with backoff; a token or scope problem waits longer, since only a
  // change of the Secret or the token fixes it.
  Backoff backoff(BackoffPolicy{std::chrono::seconds(5), std::chrono::minutes(5), 2.0, 0.2},
                  random_);
  while (!stopping_) {
    Status s = RunOnce();
    if (stopping_) break;
    if (s.ok()) {
      backoff.Reset();
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      status_.last_error = s.message();
    }
    Duration delay = backoff.Next();
    if (NeedsFix(s)) delay = std::max<Duration>(delay, std::chrono::minutes(5));
    if (auto after = s.retry_after_seconds()) {
      delay = std::max<Duration>(
          delay, std::chrono::duration_cast<Duration>(std::chrono::duration<double>(*after)));
    }
    log_.Warn(
        "alert poll failed; retrying",
        {{"error", s.message()}, {"retryInSeconds", std::chrono::duration<double>(delay).count()}});
    if (!Wait(delay)) break;
  }
}

StatusOr<AlertConsumer::Checkpoint> AlertConsumer::LoadCheckpoint() {
  const std::string key = PollerCheckpointKey(spec_.plugin, spec_.tenant_name, type_);
  auto stored = store_.GetCheckpoint(key);
  if (!stored.ok()) return stored.status();
  if (stored->has_value()) return Checkpoint::FromJson(**stored);
  // Progress from before keys named the tenant host belongs to the tenant the plugin polls now
  // (the only one it had): taken over once, and marked so, so a later move to another tenant
  // does not pick it up again. The old key stays as it was, for a rollback to the old release.
  const std::string taken_over = LegacyTakenOverKey(spec_.plugin, type_);
  auto marked = store_.GetCheckpoint(taken_over);
  if (!marked.ok()) return marked.status();
  auto old = store_.GetCheckpoint(LegacyCheckpointKey(spec_.plugin, type_));
  if (!old.ok()) return old.status();
  if (!marked->has_value() && old->has_value()) {
    auto c = Checkpoint::FromJson(**old);
    if (c.ok()) {
      auto r = store_.Commit(store::WriteBatch()
                                 .Add(store::PutCheckpoint{key, **old})
                                 .Add(store::PutCheckpoint{taken_over, key}));
      if (!r.ok()) return r.status();
      log_.Info("alert polling progress taken over from the key without the tenant",
                {{"key", key}});
      return c;
    }
    // Unreadable: polling starts afresh below (the mark is written with the new progress).
    log_.Warn("alert polling progress under the old key is unreadable; starting afresh",
              {{"error", c.status().message()}});
  }
  // First enable: remember when, so the historical range and the incremental start never move.
  Checkpoint c;
  c.enabled_at = EpochSeconds(clock_.WallNow());
  c.historical.done = spec_.initial_range_days <= 0;
  store::WriteBatch batch;
  batch.Add(store::PutCheckpoint{key, c.ToJson()});
  if (!marked->has_value() && old->has_value()) batch.Add(store::PutCheckpoint{taken_over, key});
  auto r = store_.Commit(batch);
  if (!r.ok()) return r.status();
  log_.Info("alert polling enabled",
            {{"enabledAt", c.enabled_at}, {"initialRangeDays", spec_.initial_range_days}});
  return c;
}

Status AlertConsumer::RunOnce() {
  auto ckpt = LoadCheckpoint();
  if (!ckpt.ok()) return ckpt.status();
  if (!ckpt->historical.done) {
    if (Status s = Drain(*ckpt, /*historical=*/true); !s.ok() || stopping_) return s;
  }
  return Drain(*ckpt, /*historical=*/false);
}

Status AlertConsumer::Drain(Checkpoint& ckpt, bool historical) {
  Checkpoint::Phase& phase = historical ? ckpt.historical : ckpt.incremental;
  const int64_t end = ckpt.enabled_at;
  const int64_t start =
      historical ? end - int64_t{spec_.initial_range_days} * 86400 : ckpt.enabled_at;
  netskope::AlertIterator iterator(*spec_.client, clock_, type_,
                                   PollerIndexName(spec_.plugin, type_, historical));
  {
    std::lock_guard<std::mutex> lock(mu_);
    iterator_ = &iterator;
    status_.phase = historical ? "historical" : "incremental";
  }
  struct Detach {
    AlertConsumer& self;
    ~Detach() {
      std::lock_guard<std::mutex> lock(self.mu_);
      self.iterator_ = nullptr;
    }
  } detach{*this};
  if (stopping_) return Status::Ok();

  // A started index resumes with resend: the last page the tenant handed out may never have
  // been stored (we stopped or crashed in between); storing it twice is harmless.
  IteratorOperation op =
      phase.started ? IteratorOperation::Resend() : IteratorOperation::Epoch(start);
  MappingOptions mapping{spec_.plugin, spec_.tenant_name, spec_.hashes, spec_.urls, {}};
  const std::string key = PollerCheckpointKey(spec_.plugin, spec_.tenant_name, type_);
  while (!stopping_) {
    auto page = iterator.Fetch(op);
    if (stopping_) break;
    {
      std::lock_guard<std::mutex> lock(mu_);
      status_.last_poll = clock_.WallNow();
    }
    if (!page.ok()) {
      if (op == IteratorOperation::Resend() && IndexUnknown(page.status())) {
        // The tenant no longer knows the index: restart it where our stored progress ends.
        log_.Info("iterator index unknown to the tenant; restarting from the stored mark",
                  {{"index", iterator.index()}, {"hwm", std::max(phase.hwm, start)}});
        op = IteratorOperation::Epoch(std::max(phase.hwm, start));
        continue;
      }
      return page.status();
    }
    const WallTime now = clock_.WallNow();
    mapping.now = now;
    std::vector<store::Indicator> indicators;
    for (const auto& alert : page->alerts) {
      if (historical && alert.timestamp > end) continue;  // the incremental pull has these
      MapAlert(alert, type_, mapping, indicators);
    }
    for (auto& ind : indicators) store::ApplySourcePolicy(spec_.policy, now, ind);
    phase.started = true;
    phase.hwm = std::max(phase.hwm, page->timestamp_hwm);
    // Done once the mark passed the end of the range, or the tenant had nothing more to give.
    if (historical && (page->timestamp_hwm > end || page->alerts.empty())) phase.done = true;
    store::WriteBatch batch;
    if (!indicators.empty()) batch.Add(store::UpsertIndicators{indicators, now});
    batch.Add(store::PutCheckpoint{key, ckpt.ToJson()});
    auto committed = store_.Commit(std::move(batch));
    if (!committed.ok()) return committed.status();
    {
      std::lock_guard<std::mutex> lock(mu_);
      status_.alerts += static_cast<int64_t>(page->alerts.size());
      status_.indicators += static_cast<int64_t>(indicators.size());
      status_.last_success = now;
      status_.last_error.clear();
    }
    if (!page->alerts.empty()) {
      log_.Debug("alert page stored", {{"index", iterator.index()},
                                       {"alerts", page->alerts.size()},
                                       {"indicators", indicators.size()},
                                       {"hwm", page->timestamp_hwm}});
    }
    if (historical && phase.done) {
      log_.Info("historical alert pull finished", {{"index", iterator.index()}});
      return Status::Ok();
    }
    op = IteratorOperation::Next();
    // Caught up: come back after the poll interval (the tenant's wait_time applies as well).
    if (!historical && page->alerts.empty() && !Wait(spec_.poll_interval)) break;
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------

NetskopePollers::NetskopePollers(store::IndicatorStore& store, Clock& clock, Random& random,
                                 Logger log)
    : store_(store), clock_(clock), random_(random), log_(std::move(log)) {}

NetskopePollers::~NetskopePollers() { StopAll(); }

namespace {

// Stops consumers together: every one is asked first, then each is waited for, so stopping
// several costs the slowest one's wait (an iterator call already on the wire), not their sum.
void StopTogether(std::vector<std::unique_ptr<AlertConsumer>>& consumers) {
  for (auto& c : consumers) c->RequestStop();
  for (auto& c : consumers) c->Stop();
  consumers.clear();
}

}  // namespace

void NetskopePollers::Ensure(const NetskopePollerSpec& spec) {
  // The old consumers of the plugin stop before the new ones start (both would move the same
  // tenant index). Calls for one plugin come from its reconciles, which never overlap.
  std::vector<std::unique_ptr<AlertConsumer>> old;
  uint64_t epoch = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    epoch = stop_all_epoch_;
    auto it = entries_.find(spec.plugin.Key());
    if (it != entries_.end()) {
      if (it->second.spec.SameAs(spec)) return;
      old = std::move(it->second.consumers);
      entries_.erase(it);
    }
  }
  StopTogether(old);  // outside the lock: Status() of other plugins goes on meanwhile
  std::lock_guard<std::mutex> lock(mu_);
  if (epoch != stop_all_epoch_) return;  // StopAll() ran meanwhile: it wins
  Entry entry{spec, {}};
  if (spec.client) {
    if (spec.hashes) {
      entry.consumers.push_back(std::make_unique<AlertConsumer>(spec, AlertType::kMalware, store_,
                                                                clock_, random_, log_));
    }
    if (spec.urls) {
      entry.consumers.push_back(std::make_unique<AlertConsumer>(spec, AlertType::kMalsite, store_,
                                                                clock_, random_, log_));
    }
  }
  for (auto& c : entry.consumers) c->Start();
  entries_.insert_or_assign(spec.plugin.Key(), std::move(entry));
}

void NetskopePollers::Stop(const store::SourceRef& plugin) {
  std::vector<std::unique_ptr<AlertConsumer>> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(plugin.Key());
    if (it == entries_.end()) return;
    old = std::move(it->second.consumers);
    entries_.erase(it);
  }
  StopTogether(old);
}

std::vector<ConsumerStatus> NetskopePollers::Status(const store::SourceRef& plugin) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ConsumerStatus> out;
  auto it = entries_.find(plugin.Key());
  if (it == entries_.end()) return out;
  for (const auto& c : it->second.consumers) out.push_back(c->status());
  return out;
}

void NetskopePollers::StopAll() {
  std::vector<std::unique_ptr<AlertConsumer>> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stop_all_epoch_;
    for (auto& [key, entry] : entries_) {
      for (auto& c : entry.consumers) old.push_back(std::move(c));
    }
    entries_.clear();
  }
  StopTogether(old);
}

}  // namespace cte::sources
