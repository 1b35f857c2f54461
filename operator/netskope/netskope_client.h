// The HTTP implementation of TenantClient. Builds each request with the pure functions of
// requests.h, waits for the tenant's rate-limit budget (rate_limiter.h), sends through the
// injected HttpTransport, classifies the answer (responses.h), and retries what may be retried:
//   - 429: waits Retry-After (or RateLimit-Reset, or the backoff) and closes the bucket for every
//     caller of this tenant meanwhile; gives up at once when the tenant asks for more than
//     max_retry_after (the status then carries retry_after_seconds for the caller's requeue);
//   - 5xx, timeouts, transport errors: bounded exponential backoff with jitter, for requests that
//     are safe to repeat (everything except create; an iterator `next` is repeated as `resend`);
//   - everything else is returned at once.
// Tokens live in SecretString and are revealed only into the outgoing request; logs carry the
// tenant, endpoint, status and attempt, never headers, bodies or tokens, and error messages are
// scrubbed of token values.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "operator/core/backoff.h"
#include "operator/core/clock.h"
#include "operator/core/log.h"
#include "operator/core/random.h"
#include "operator/core/secret_string.h"
#include "operator/http/http_transport.h"
#include "operator/netskope/rate_limiter.h"
#include "operator/netskope/tenant_api_observer.h"
#include "operator/netskope/tenant_client.h"

namespace cte::netskope {

struct RetryPolicy {
  int max_attempts = 4;  // CE's MAX_RETRIES
  BackoffPolicy backoff{std::chrono::seconds(1), std::chrono::seconds(60), 2.0, 0.2};
  // A 429 asking for a longer pause is not waited out in the call (CE's provider gives up above
  // 300 s); the caller requeues with the status's retry_after_seconds.
  Duration max_retry_after = std::chrono::seconds(300);
};

struct NetskopeClientOptions {
  std::string tenant;    // label for metrics and logs (the tenant host or resource name)
  std::string base_url;  // https://<tenantName>, or the apiBaseURL override
  SecretString v1_token;
  SecretString v2_token;
  // Sent as User-Agent; the operator puts its version and replica identity in it
  // (`cte-operator/<version> (<identity>)`), so a tenant's logs tell replicas apart.
  std::string user_agent = std::string(kUserAgent);
  std::chrono::milliseconds request_timeout{std::chrono::seconds(60)};
  std::chrono::milliseconds iterator_timeout{std::chrono::seconds(120)};  // CE's provider value
  RetryPolicy retry;
};

class NetskopeClient : public TenantClient {
 public:
  // `transport`, `clock` and `random` must outlive the client. `limiter` is shared by every
  // client of the same tenant; `observer` may be null.
  NetskopeClient(NetskopeClientOptions options, http::HttpTransport& transport, Clock& clock,
                 Random& random, std::shared_ptr<TenantRateLimiter> limiter,
                 TenantApiObserver* observer = nullptr, Logger logger = NullLogger());

  StatusOr<std::vector<UrlList>> ListUrlLists(const ListUrlListsOptions& options) override;
  StatusOr<UrlList> GetUrlList(int64_t id) override;
  StatusOr<UrlListWriteResult> CreateUrlList(std::string_view name,
                                             const std::vector<std::string>& urls,
                                             UrlListType type) override;
  StatusOr<UrlListWriteResult> UpdateUrlList(int64_t id, std::string_view name,
                                             const std::vector<std::string>& urls,
                                             UrlListType type) override;
  StatusOr<UrlListWriteResult> AppendUrls(int64_t id, const std::vector<std::string>& urls,
                                          UrlListType type) override;
  StatusOr<UrlListWriteResult> ReplaceUrls(int64_t id, const std::vector<std::string>& urls,
                                           UrlListType type) override;
  StatusOr<UrlList> DeleteUrlList(int64_t id) override;
  StatusOr<std::vector<UrlList>> DeployUrlLists() override;
  StatusOr<FileHashListResult> UpdateFileHashList(std::string_view name,
                                                  const std::vector<std::string>& hashes) override;
  StatusOr<AlertPage> IterateAlerts(AlertType type, std::string_view index,
                                    const IteratorOperation& operation,
                                    const std::atomic<bool>* cancelled) override;

  // Makes waiting calls return Unavailable promptly (shutdown). Irreversible.
  void Shutdown();

 private:
  enum class Retry {
    kSafe,           // repeatable: retry 429, 5xx, timeouts and transport errors
    kThrottledOnly,  // not repeatable (create): retry only 429, which the tenant did not process
  };
  struct ExecOptions {
    Retry retry = Retry::kSafe;
    // The request to send after an ambiguous failure (5xx, timeout, broken body) instead of the
    // original, e.g. `resend` for an iterator `next`.
    std::optional<TenantRequest> after_ambiguous_failure;
    // Checks a 2xx answer; Unavailable means "broken answer, try again", other errors return.
    std::function<Status(const http::ClientResponse&)> validate;
    // The caller's own stop flag (besides Shutdown): ends waits for the limiter and between
    // attempts. Whoever sets it calls Clock::Notify().
    const std::atomic<bool>* cancelled = nullptr;
  };
  struct Outcome {
    Status status;                  // OK iff a 2xx answer passed validation
    http::ClientResponse response;  // the last answer, when there was one
  };

  Outcome Execute(TenantRequest request, const ExecOptions& exec);
  StatusOr<UrlListWriteResult> WriteUrls(
      const std::function<TenantRequest(const std::vector<std::string>&)>& build,
      std::vector<std::string> urls, Retry retry, bool created);
  std::vector<Bucket> BucketsFor(const TenantRequest& request) const;
  const SecretString& TokenFor(Api api) const;
  Status Scrub(const Status& status) const;
  bool WaitFor(Duration d, const std::function<bool()>& stopped);  // false once `stopped`

  NetskopeClientOptions options_;
  http::HttpTransport& transport_;
  Clock& clock_;
  Random& random_;
  std::shared_ptr<TenantRateLimiter> limiter_;
  TenantApiObserver* observer_;
  Logger logger_;
  std::atomic<bool> shutdown_{false};
};

}  // namespace cte::netskope
