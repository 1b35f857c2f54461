#include "operator/kube/informer.h"

namespace cte::kube {

using nlohmann::json;

Informer::Informer(KubeClient& client, GroupVersionResource resource, Clock& clock, Random& random,
                   Logger logger, InformerOptions options)
    : client_(client),
      resource_(std::move(resource)),
      clock_(clock),
      random_(random),
      log_(logger.With("informer", resource_.String())),
      options_(std::move(options)) {}

Informer::~Informer() { Stop(); }

void Informer::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_activity_ = clock_.Now();
  }
  thread_ = std::thread([this] { Run(); });
  ScheduleResync();
}

void Informer::Stop() {
  if (stopping_.exchange(true)) {
    if (thread_.joinable()) thread_.join();
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (active_watch_) active_watch_->Cancel();
    if (resync_timer_) clock_.Cancel(resync_timer_);
    resync_timer_ = 0;
  }
  clock_.Notify();
  if (thread_.joinable()) thread_.join();
}

void Informer::ScheduleResync() {
  if (options_.resync_period <= Duration::zero()) return;
  // +-10% jitter, as controller-runtime's SyncPeriod, so informers of several kinds (and several
  // replicas) do not resync in lockstep.
  double factor = 0.9 + 0.2 * random_.Uniform();
  auto delay = std::chrono::duration_cast<Duration>(options_.resync_period * factor);
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return;
  resync_timer_ = clock_.Schedule(delay, [this] { Resync(); });
}

void Informer::Resync() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    resync_timer_ = 0;
  }
  if (stopping_) return;
  if (synced_) {
    ++resyncs_;
    for (const auto& obj : cache_.List()) {
      for (auto* h : handlers_) h->OnResync(obj);
    }
  }
  ScheduleResync();
}

bool Informer::WaitForSync(Duration timeout) {
  return clock_.WaitFor(timeout, [this] { return synced_.load() || stopping_.load(); }) && synced_;
}

bool Informer::IsStale() const {
  std::lock_guard<std::mutex> lock(mu_);
  return synced_ && clock_.Now() - last_activity_ > options_.watchdog;
}

std::string Informer::resource_version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rv_;
}

void Informer::Touch() {
  std::lock_guard<std::mutex> lock(mu_);
  last_activity_ = clock_.Now();
}

void Informer::SetResourceVersion(const std::string& rv) {
  if (rv.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  rv_ = rv;
}

namespace {

// resourceVersions are opaque strings, but every API server we talk to uses etcd revisions;
// compare numerically when both parse, and treat anything else as "not newer".
bool NewerThan(const std::string& a, const std::string& b) {
  char* end_a = nullptr;
  char* end_b = nullptr;
  unsigned long long x = std::strtoull(a.c_str(), &end_a, 10);
  unsigned long long y = std::strtoull(b.c_str(), &end_b, 10);
  if (a.empty() || b.empty() || *end_a != '\0' || *end_b != '\0') return false;
  return x > y;
}

}  // namespace

void Informer::WaitBackoff(Backoff& backoff) {
  MonoTime now = clock_.Now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (last_failure_ != MonoTime{} && now - last_failure_ > options_.backoff_reset_after)
      backoff.Reset();
    last_failure_ = now;
  }
  Duration wait = backoff.Next();
  log_.Debug("backing off", {{"seconds", std::chrono::duration<double>(wait).count()}});
  clock_.WaitFor(wait, [this] { return stopping_.load(); });
}

void Informer::Run() {
  Backoff backoff(options_.backoff, random_);
  while (!stopping_) {
    if (state_ == State::kEmpty) {
      Status s = ListAndReplace();
      if (stopping_) break;
      if (!s.ok()) {
        log_.Warn("list failed", {{"error", s.ToString()}});
        WaitBackoff(backoff);
        continue;
      }
      state_ = State::kWatching;
    }
    Status s = WatchOnce();
    if (stopping_) break;
    if (s.code() == StatusCode::kGone) {
      log_.Info("watch expired (410), relisting", {{"resourceVersion", resource_version()}});
      state_ = State::kEmpty;
      continue;
    }
    if (!s.ok()) {
      ++watch_failures_;
      log_.Warn("watch failed", {{"error", s.ToString()}});
      WaitBackoff(backoff);
    }
  }
}

Status Informer::ListAndReplace() {
  ++lists_;
  std::map<std::string, ObjectPtr> fresh;
  std::string continue_token, list_rv;
  for (;;) {
    ListOptions o;
    o.limit = options_.page_size;
    o.continue_token = continue_token;
    o.label_selector = options_.label_selector;
    o.metadata_only = options_.metadata_only;
    auto page = client_.Do(ListRequest(resource_, options_.namespace_name, o));
    if (!page.ok()) {
      // An expired continue token: start the list again from the beginning.
      if (page.status().code() == StatusCode::kGone && !continue_token.empty()) {
        continue_token.clear();
        fresh.clear();
        continue;
      }
      return page.status();
    }
    for (auto& item : (*page)["items"]) {
      // List items carry no apiVersion/kind; add them so handlers see complete objects.
      // (PartialObjectMetadata items keep their own.)
      if (!options_.metadata_only) {
        item["apiVersion"] = resource_.ApiVersion();
        if (!resource_.kind.empty()) item["kind"] = resource_.kind;
      }
      auto obj = std::make_shared<const json>(Prepare(std::move(item)));
      fresh[ObjectKey(*obj)] = obj;
    }
    list_rv = page->value("/metadata/resourceVersion"_json_pointer, std::string());
    continue_token = page->value("/metadata/continue"_json_pointer, std::string());
    if (continue_token.empty()) break;
    if (stopping_) return Status::Ok();
  }
  // Diff against the cache so handlers hear about adds, changes and deletions while we were away.
  std::vector<std::pair<ObjectPtr, ObjectPtr>> updated;
  std::vector<ObjectPtr> added, deleted;
  for (const auto& old : cache_.List()) {
    if (!fresh.count(ObjectKey(*old))) deleted.push_back(old);
  }
  for (auto& [key, obj] : fresh) {
    ObjectPtr old = cache_.Get(key);
    if (!old) {
      added.push_back(obj);
      continue;
    }
    std::string old_rv = old->value("/metadata/resourceVersion"_json_pointer, std::string());
    std::string new_rv = obj->value("/metadata/resourceVersion"_json_pointer, std::string());
    if (NewerThan(old_rv, new_rv)) {
      // The list was served from an older snapshot than an event we already delivered (a
      // lagging watch cache, a paged list that is not snapshot-consistent): keep the newer
      // object rather than move the cache backwards.
      obj = old;
    } else if (old_rv != new_rv) {
      updated.emplace_back(old, obj);
    }
  }
  const bool first = !synced_;
  cache_.Replace(std::move(fresh));
  SetResourceVersion(list_rv);
  Touch();
  for (const auto& obj : deleted) {
    for (auto* h : handlers_) h->OnDelete(obj);
  }
  for (const auto& obj : added) {
    for (auto* h : handlers_) h->OnAdd(obj, true);
  }
  for (const auto& [old, obj] : updated) {
    for (auto* h : handlers_) h->OnUpdate(old, obj, true);
  }
  // Synced means the handlers have seen the initial state too (client-go's HasSynced).
  synced_ = true;
  clock_.Notify();
  log_.Info(
      first ? "synced" : "relisted",
      {{"objects", cache_.Size()}, {"resourceVersion", list_rv}, {"deleted", deleted.size()}});
  return Status::Ok();
}

Status Informer::WatchOnce() {
  ++watch_starts_;
  WatchOptions o;
  o.resource_version = resource_version();
  o.allow_bookmarks = true;
  o.label_selector = options_.label_selector;
  o.metadata_only = options_.metadata_only;
  double span =
      std::chrono::duration<double>(options_.max_watch_timeout - options_.min_watch_timeout)
          .count();
  o.timeout_seconds = static_cast<int64_t>(
      std::chrono::duration<double>(options_.min_watch_timeout).count() + span * random_.Uniform());

  // Shared with the watchdog timer, which may still be running when this function returns.
  struct WatchdogState {
    std::mutex mu;
    bool done = false;
    bool fired = false;
    TimerId timer = 0;
    http::CancelToken cancel;
  };
  auto wd = std::make_shared<WatchdogState>();
  http::CancelToken& cancel = wd->cancel;
  const MonoTime started = clock_.Now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    active_watch_ = &cancel;
  }
  if (stopping_) cancel.Cancel();
  // The watchdog re-arms itself for `last heard + watchdog` and cancels the stream when that
  // moment passes with nothing heard. "Last heard" is never earlier than this watch's start, so
  // a new watch gets a full watchdog period even after a long outage.
  auto check = std::make_shared<std::function<void()>>();
  std::weak_ptr<std::function<void()>> weak_check = check;
  *check = [this, wd, weak_check, started] {
    std::lock_guard<std::mutex> tl(wd->mu);
    if (wd->done) return;
    MonoTime last;
    {
      std::lock_guard<std::mutex> lock(mu_);
      last = std::max(last_activity_, started);
    }
    MonoTime now = clock_.Now();
    if (now - last >= options_.watchdog) {
      wd->fired = true;
      wd->cancel.Cancel();
      return;
    }
    if (auto self = weak_check.lock()) {
      wd->timer = clock_.Schedule(last + options_.watchdog - now, [self] { (*self)(); });
    }
  };
  {
    std::lock_guard<std::mutex> tl(wd->mu);
    wd->timer = clock_.Schedule(options_.watchdog, [check] { (*check)(); });
  }

  bool gone = false;
  int events = 0;
  Status error_event;
  Status s = client_.Watch(
      WatchRequest(resource_, options_.namespace_name, o), cancel, [&](const WatchEvent& ev) {
        ++watch_events_;
        ++events;
        if (ev.type == "ERROR") {
          int code = ev.object.value("code", 0);
          if (code == 410) {
            gone = true;
          } else {
            error_event = UnavailableError("watch error event: " + ev.object.value("message", ""));
          }
          return false;
        }
        Touch();
        HandleEvent(ev);
        return !stopping_;
      });
  bool watchdog_fired;
  {
    std::lock_guard<std::mutex> tl(wd->mu);
    wd->done = true;
    clock_.Cancel(wd->timer);
    watchdog_fired = wd->fired;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    active_watch_ = nullptr;
  }
  if (watchdog_fired) {
    ++watchdog_restarts_;
    log_.Warn("watch was silent past the watchdog; restarting",
              {{"resourceVersion", resource_version()},
               {"watchdogSeconds", std::chrono::duration<double>(options_.watchdog).count()}});
    return Status::Ok();
  }
  if (gone || s.code() == StatusCode::kGone)
    return Status(StatusCode::kGone, "resource version expired");
  if (!error_event.ok()) return error_event;
  if (s.ok() && events == 0 && !stopping_ && !cancel.cancelled() &&
      clock_.Now() - started < std::chrono::seconds(1)) {
    return UnavailableError("very short watch: the server closed it within a second, no events");
  }
  return s;
}

json Informer::Prepare(json object) const {
  if (options_.metadata_only && object.is_object()) {
    // A server that ignored the PartialObjectMetadata request sent whole objects: keep what a
    // metadata watch would have, so the promise of not holding the content stays true.
    json partial = {{"apiVersion", object.value("apiVersion", resource_.ApiVersion())},
                    {"kind", object.value("kind", resource_.kind)},
                    {"metadata", object.value("metadata", json::object())}};
    object = std::move(partial);
  }
  return StripForCache(std::move(object));
}

void Informer::HandleEvent(const WatchEvent& ev) {
  std::string rv = ev.object.value("/metadata/resourceVersion"_json_pointer, std::string());
  if (ev.type == "BOOKMARK") {
    SetResourceVersion(rv);
    return;
  }
  json object = ev.object;
  if (!object.contains("apiVersion")) object["apiVersion"] = resource_.ApiVersion();
  auto obj = std::make_shared<const json>(Prepare(std::move(object)));
  if (ev.type == "ADDED" || ev.type == "MODIFIED") {
    ObjectPtr old = cache_.Put(obj);
    for (auto* h : handlers_) {
      if (old) {
        h->OnUpdate(old, obj, false);
      } else {
        h->OnAdd(obj, false);
      }
    }
  } else if (ev.type == "DELETED") {
    ObjectPtr old = cache_.Remove(ObjectKey(*obj));
    for (auto* h : handlers_) h->OnDelete(old ? old : obj);
  }
  SetResourceVersion(rv);
}

}  // namespace cte::kube
