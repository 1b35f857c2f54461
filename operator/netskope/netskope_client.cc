#include "operator/netskope/netskope_client.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "operator/netskope/responses.h"

namespace cte::netskope {
namespace {

Duration Seconds(double s) {
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(std::max(0.0, s)));
}

int64_t Millis(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

std::string CodeLabel(const StatusOr<http::ClientResponse>& response) {
  if (response.ok()) return std::to_string(response->status);
  return response.status().code() == StatusCode::kDeadlineExceeded ? "timeout" : "error";
}

bool Is2xx(int status) { return status >= 200 && status < 300; }

}  // namespace

NetskopeClient::NetskopeClient(NetskopeClientOptions options, http::HttpTransport& transport,
                               Clock& clock, Random& random,
                               std::shared_ptr<TenantRateLimiter> limiter,
                               TenantApiObserver* observer, Logger logger)
    : options_(std::move(options)),
      transport_(transport),
      clock_(clock),
      random_(random),
      limiter_(limiter ? std::move(limiter)
                       : std::make_shared<TenantRateLimiter>(clock, TenantRateLimits{})),
      observer_(observer),
      logger_(logger.With("tenant", options_.tenant)) {}

void NetskopeClient::Shutdown() {
  shutdown_ = true;
  clock_.Notify();
}

bool NetskopeClient::WaitFor(Duration d, const std::function<bool()>& stopped) {
  if (d > Duration::zero()) clock_.WaitFor(d, stopped);
  return !stopped();
}

const SecretString& NetskopeClient::TokenFor(Api api) const {
  return api == Api::kV1 ? options_.v1_token : options_.v2_token;
}

Status NetskopeClient::Scrub(const Status& status) const {
  std::string message = status.message();
  for (const SecretString* token : {&options_.v1_token, &options_.v2_token}) {
    const std::string& t = token->Reveal();
    if (t.empty()) continue;
    for (size_t at = message.find(t); at != std::string::npos; at = message.find(t, at)) {
      message.replace(at, t.size(), "[redacted]");
    }
  }
  Status out(status.code(), message);
  if (auto ra = status.retry_after_seconds()) out.WithRetryAfter(*ra);
  return out;
}

std::vector<Bucket> NetskopeClient::BucketsFor(const TenantRequest& request) const {
  switch (request.endpoint) {
    case Endpoint::kFileHashListUpdate:
      return {Bucket::kV1};
    case Endpoint::kAlertsMalware:
      return {Bucket::kIteratorMalware, Bucket::kV2};
    case Endpoint::kAlertsMalsite:
      return {Bucket::kIteratorMalsite, Bucket::kV2};
    default:
      return {Bucket::kV2};
  }
}

NetskopeClient::Outcome NetskopeClient::Execute(TenantRequest request, const ExecOptions& exec) {
  const std::string_view endpoint = EndpointLabel(request.endpoint);
  const SecretString& token = TokenFor(request.api);
  if (token.empty()) {
    return {Status(StatusCode::kFailedPrecondition,
                   std::string("no ") + (request.api == Api::kV1 ? "v1" : "v2") +
                       " token is configured for tenant " + options_.tenant),
            {}};
  }
  const auto timeout =
      request.endpoint == Endpoint::kAlertsMalware || request.endpoint == Endpoint::kAlertsMalsite
          ? options_.iterator_timeout
          : options_.request_timeout;
  const std::vector<Bucket> buckets = BucketsFor(request);
  Backoff backoff(options_.retry.backoff, random_);
  Outcome last{UnavailableError("no attempt was made"), {}};
  const int attempts = std::max(1, options_.retry.max_attempts);

  // Shutdown, or the caller's own stop flag, ends every wait below (read under the clock's
  // lock, so atomics only).
  const std::function<bool()> stopped = [this, &exec] {
    return shutdown_.load() || (exec.cancelled && exec.cancelled->load());
  };
  auto gone = [this] {
    return Outcome{
        UnavailableError(shutdown_ ? "tenant client is shutting down" : "request cancelled"), {}};
  };

  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (stopped() || !limiter_->Acquire(buckets, stopped)) return gone();
    http::ClientRequest wire = ToClientRequest(
        request, options_.base_url, token,
        std::chrono::duration_cast<std::chrono::milliseconds>(timeout), options_.user_agent);
    MonoTime start = clock_.Now();
    StatusOr<http::ClientResponse> response = transport_.Send(wire);
    Duration took = clock_.Now() - start;
    std::string code = CodeLabel(response);
    if (observer_) observer_->OnRequest(options_.tenant, endpoint, code, took);
    logger_.Debug("tenant request", {{"endpoint", endpoint},
                                     {"method", request.method},
                                     {"path", request.path},
                                     {"code", code},
                                     {"attempt", attempt},
                                     {"durationMs", Millis(took)}});

    bool ambiguous = false;  // the tenant may or may not have processed the request
    Duration wait{0};
    if (!response.ok()) {
      last = {Scrub(response.status()), {}};
      if (!last.status.IsRetryable() || exec.retry == Retry::kThrottledOnly) return last;
      ambiguous = true;
      wait = backoff.Next();
    } else {
      last.response = *response;
      // A tenant that says its budget is spent gets a pause before the next request of anyone.
      // The headers describe the most specific bucket (the iterator endpoint's for iterator
      // calls, else the tenant-wide one), which BucketsFor() lists first.
      if (auto remaining = RateLimitRemaining(*response); remaining && *remaining <= 0) {
        Duration pause = Seconds(RateLimitResetSeconds(*response).value_or(1.0));
        limiter_->PauseFor(buckets.front(), pause);
      }
      if (Is2xx(response->status)) {
        Status valid = exec.validate ? exec.validate(*response) : Status::Ok();
        last.status = Scrub(valid);
        if (valid.ok() || valid.code() != StatusCode::kUnavailable) return last;
        ambiguous = true;  // a broken body: the request was processed, the answer got lost
        wait = backoff.Next();
      } else if (response->status == 429) {
        last.status = Scrub(ClassifyHttpError(request.api, *response));
        if (observer_) observer_->OnThrottled(options_.tenant);
        std::optional<double> asked = RetryAfterSeconds(*response);
        if (!asked) asked = RateLimitResetSeconds(*response);
        Duration pause = asked ? Seconds(*asked) : backoff.Next();
        if (asked && pause > options_.retry.max_retry_after) {
          // Too long to wait here, but the tenant's other callers must hold off too.
          for (Bucket b : buckets) limiter_->PauseFor(b, pause);
          return last;
        }
        if (asked) backoff.Next();  // keep the backoff growing across repeated 429s
        for (Bucket b : buckets) limiter_->PauseFor(b, pause);
        // The limiter holds this and every other request of the tenant until the pause ends.
      } else if (response->status >= 500) {
        last.status = Scrub(ClassifyHttpError(request.api, *response));
        if (exec.retry == Retry::kThrottledOnly) return last;
        ambiguous = true;
        wait = backoff.Next();
      } else {
        last.status = Scrub(ClassifyHttpError(request.api, *response));
        return last;
      }
    }
    if (attempt == attempts) break;
    logger_.Warn("tenant request failed; retrying", {{"endpoint", endpoint},
                                                     {"code", code},
                                                     {"attempt", attempt},
                                                     {"retryInMs", Millis(wait)},
                                                     {"error", last.status.ToString()}});
    if (ambiguous && exec.after_ambiguous_failure) request = *exec.after_ambiguous_failure;
    if (!WaitFor(wait, stopped)) return gone();
  }
  return last;
}

StatusOr<std::vector<UrlList>> NetskopeClient::ListUrlLists(const ListUrlListsOptions& options) {
  ExecOptions exec;
  exec.validate = [](const http::ClientResponse& r) { return CheckV2Body(r.body); };
  Outcome out = Execute(ListUrlListsRequest(options), exec);
  if (!out.status.ok()) return out.status;
  return ParseUrlLists(out.response.body);
}

StatusOr<UrlList> NetskopeClient::GetUrlList(int64_t id) {
  ExecOptions exec;
  exec.validate = [](const http::ClientResponse& r) { return CheckV2Body(r.body); };
  Outcome out = Execute(GetUrlListRequest(id), exec);
  if (!out.status.ok()) return out.status;
  return ParseUrlList(out.response.body);
}

StatusOr<UrlListWriteResult> NetskopeClient::WriteUrls(
    const std::function<TenantRequest(const std::vector<std::string>&)>& build,
    std::vector<std::string> urls, Retry retry, bool created) {
  UrlListWriteResult result;
  ExecOptions exec;
  exec.retry = retry;
  exec.validate = [](const http::ClientResponse& r) { return CheckV2Body(r.body); };
  for (int pass = 0;; ++pass) {
    TenantRequest request = build(urls);
    Outcome out = Execute(request, exec);
    if (out.status.ok()) {
      auto list =
          created ? ParseCreatedUrlList(out.response.body) : ParseUrlList(out.response.body);
      if (!list.ok()) return list.status();
      result.list = std::move(*list);
      return result;
    }
    std::vector<RejectedUrl> rejected;
    if (out.response.status == 400) rejected = ParseRejectedUrls(out.response.body);
    if (rejected.empty() || pass > 0) return out.status;
    // Invalid-URL 400 (reference §3.3): drop what the tenant refused, report it, retry once.
    std::unordered_set<std::string> refused;
    for (const auto& r : rejected) refused.insert(r.url);
    size_t before = urls.size();
    urls.erase(std::remove_if(urls.begin(), urls.end(),
                              [&](const std::string& u) { return refused.count(u) > 0; }),
               urls.end());
    if (urls.size() == before) return out.status;  // refused entries we did not send: give up
    result.rejected.insert(result.rejected.end(), rejected.begin(), rejected.end());
    logger_.Warn("tenant refused URL entries; retrying without them",
                 {{"endpoint", EndpointLabel(request.endpoint)},
                  {"rejected", rejected.size()},
                  {"remaining", urls.size()}});
    if (urls.empty()) return result;  // nothing left to send
  }
}

StatusOr<UrlListWriteResult> NetskopeClient::CreateUrlList(std::string_view name,
                                                           const std::vector<std::string>& urls,
                                                           UrlListType type) {
  std::string n(name);
  return WriteUrls(
      [&](const std::vector<std::string>& u) { return CreateUrlListRequest(n, u, type); }, urls,
      Retry::kThrottledOnly, /*created=*/true);
}

StatusOr<UrlListWriteResult> NetskopeClient::UpdateUrlList(int64_t id, std::string_view name,
                                                           const std::vector<std::string>& urls,
                                                           UrlListType type) {
  std::string n(name);
  return WriteUrls(
      [&](const std::vector<std::string>& u) { return UpdateUrlListRequest(id, n, u, type); }, urls,
      Retry::kSafe, false);
}

StatusOr<UrlListWriteResult> NetskopeClient::AppendUrls(int64_t id,
                                                        const std::vector<std::string>& urls,
                                                        UrlListType type) {
  // Appending the same entries twice leaves the list as appending once under the set semantics
  // the simulator assumes (OPEN §3.6); the pusher sends only entries missing from the list.
  return WriteUrls(
      [&](const std::vector<std::string>& u) { return AppendUrlsRequest(id, u, type); }, urls,
      Retry::kSafe, false);
}

StatusOr<UrlListWriteResult> NetskopeClient::ReplaceUrls(int64_t id,
                                                         const std::vector<std::string>& urls,
                                                         UrlListType type) {
  return WriteUrls(
      [&](const std::vector<std::string>& u) { return ReplaceUrlsRequest(id, u, type); }, urls,
      Retry::kSafe, false);
}

StatusOr<UrlList> NetskopeClient::DeleteUrlList(int64_t id) {
  ExecOptions exec;
  exec.validate = [](const http::ClientResponse& r) { return CheckV2Body(r.body); };
  Outcome out = Execute(DeleteUrlListRequest(id), exec);
  if (!out.status.ok()) return out.status;
  return ParseUrlList(out.response.body);
}

StatusOr<std::vector<UrlList>> NetskopeClient::DeployUrlLists() {
  // Deploying twice is harmless (the second applies nothing of ours), so it is retried.
  ExecOptions exec;
  exec.validate = [](const http::ClientResponse& r) { return CheckV2Body(r.body); };
  Outcome out = Execute(DeployUrlListsRequest(), exec);
  if (!out.status.ok()) return out.status;
  return ParseUrlLists(out.response.body);
}

StatusOr<FileHashListResult> NetskopeClient::UpdateFileHashList(
    std::string_view name, const std::vector<std::string>& hashes) {
  // Replace semantics make a repeat harmless (it answers "Duplicate request"), so it is retried.
  ExecOptions exec;
  Outcome out = Execute(UpdateFileHashListRequest(name, hashes), exec);
  if (!out.status.ok()) return out.status;
  auto result = ParseFileHashListAnswer(out.response);
  if (!result.ok()) return Scrub(result.status());
  return result;
}

StatusOr<AlertPage> NetskopeClient::IterateAlerts(AlertType type, std::string_view index,
                                                  const IteratorOperation& operation,
                                                  const std::atomic<bool>* cancelled) {
  ExecOptions exec;
  exec.cancelled = cancelled;
  // Every operation but resend moves the index; after an ambiguous failure of `next` the page
  // may have been consumed, so ask for it again with resend (CE's provider does the same).
  // Epoch, head and tail name absolute positions and are simply repeated.
  if (operation.is_next()) {
    exec.after_ambiguous_failure = AlertIteratorRequest(type, index, IteratorOperation::Resend());
  }
  std::optional<AlertPage> page;
  exec.validate = [&page](const http::ClientResponse& r) -> Status {
    auto parsed = ParseAlertPage(r.body);
    if (!parsed.ok()) return parsed.status();
    page = std::move(*parsed);
    return Status::Ok();
  };
  Outcome out = Execute(AlertIteratorRequest(type, index, operation), exec);
  if (!out.status.ok()) return out.status;
  return std::move(*page);
}

namespace {

// Every live list named `name` (not pending deletion), lowest id first.
StatusOr<std::vector<UrlList>> ListsNamed(TenantClient& client, std::string_view name) {
  ListUrlListsOptions options;
  options.fields = {"id", "name", "modify_type", "pending"};
  auto lists = client.ListUrlLists(options);
  if (!lists.ok()) return lists.status();
  std::vector<UrlList> out;
  for (auto& list : *lists) {
    if (list.name == name && !(list.pending && list.modify_type == "Deleted")) {
      out.push_back(std::move(list));
    }
  }
  std::sort(out.begin(), out.end(), [](const UrlList& a, const UrlList& b) { return a.id < b.id; });
  return out;
}

}  // namespace

StatusOr<std::optional<UrlList>> FindUrlListByName(TenantClient& client, std::string_view name) {
  auto lists = ListsNamed(client, name);
  if (!lists.ok()) return lists.status();
  if (lists->empty()) return std::optional<UrlList>();
  return std::optional<UrlList>(std::move(lists->front()));
}

StatusOr<std::optional<UrlList>> ResolveUrlListByName(TenantClient& client, std::string_view name) {
  auto lists = ListsNamed(client, name);
  if (!lists.ok()) return lists.status();
  if (lists->empty()) return std::optional<UrlList>();
  for (size_t i = 1; i < lists->size(); ++i) {
    // A duplicate from a create applied twice. Deleting is idempotent enough: a retry of this
    // lookup finds it pending deletion and leaves it alone.
    auto deleted = client.DeleteUrlList((*lists)[i].id);
    if (!deleted.ok() && deleted.status().code() != StatusCode::kNotFound) return deleted.status();
  }
  return std::optional<UrlList>(std::move(lists->front()));
}

}  // namespace cte::netskope
