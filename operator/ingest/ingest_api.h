// The API Source ingest API (ARCHITECTURE §1 step 1, reference/netskope-api.md §1.3 and §7): the
// request shapes of Cloud Exchange's /api/auth and /api/cte/indicators, so a tool that pushes to
// CE today pushes here by changing its base URL.
//
//   POST   /api/auth                   form client_credentials -> bearer token (120 min)
//   POST   /api/cte/indicators         cte_write  array of IndicatorIn, all or nothing, 201
//   GET    /api/cte/indicators         cte_read   skip, limit<=100, sort, ascending, filters,
//                                                 aggregate=true -> {"count": N}
//   PATCH  /api/cte/indicators         cte_write  one IndicatorIn, or {value, source, retracted}
//   DELETE /api/cte/indicators/bulk    cte_write  {"values": [...], "source": ...}
//
// A token is bound to one APISource plugin: it writes only items whose `source` is that plugin's
// name (others: 403) and reads only its namespace. Errors use CE's {"detail": ...} shape: 401
// "Could not validate credentials.", 403 "Not enough permissions.", 422 validation with
// {"detail": [{"index", "field", "reason"}, ...]} naming every bad item, 413 past 16 MiB,
// 429 while an address is throttled after failed logins, 503 when the store cannot commit.
// 201 is answered only after the store's transaction is durable.
//
// Secrets: tokens and client secrets never reach logs, metrics or error bodies.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "operator/core/clock.h"
#include "operator/core/log.h"
#include "operator/http/http_server.h"
#include "operator/ingest/credentials_registry.h"
#include "operator/ingest/failure_throttle.h"
#include "operator/ingest/indicator_json.h"
#include "operator/ingest/token_service.h"
#include "operator/store/indicator_store.h"

namespace cte::ingest {

// The seam to the metrics layer (operator/metrics/ingest_metrics.h implements it):
//   cte_ingest_requests_total{namespace,source,code}
//   cte_ingest_indicators_total{result}
//   cte_ingest_request_duration_seconds{route}
// Called on the request's thread after the answer is known; must be thread-safe.
class IngestObserver {
 public:
  virtual ~IngestObserver() = default;
  // `route`: auth, create, list, update, delete. `namespace_name`/`source`: the token's plugin,
  // empty when the request was not authenticated. `duration`: nullopt for a request the server
  // refused while reading its body (no handler ran; nothing to time).
  virtual void OnRequest(std::string_view route, std::string_view namespace_name,
                         std::string_view source, int code, std::optional<Duration> duration) = 0;
  // `result`: created, updated (merged into an existing row) or rejected (refused by validation,
  // permissions or the store).
  virtual void OnIndicators(std::string_view result, int64_t count) = 0;
};

// The address /api/auth counts failed logins by (with the client_id): the peer's IP without its
// port, an IPv6 address as its /64.
std::string ThrottleAddress(std::string_view remote_address);

struct IngestApiOptions {
  IngestLimits limits;
  size_t max_auth_body_bytes = 16 * 1024;
  size_t max_patch_body_bytes = 1 << 20;
};

class IngestApi {
 public:
  // Everything passed in must outlive the API; `observer` may be null.
  IngestApi(store::IndicatorStore& store, const CredentialsRegistry& credentials,
            TokenService& tokens, FailureThrottle& throttle, Clock& clock,
            IngestObserver* observer = nullptr, Logger log = NullLogger(),
            IngestApiOptions options = {});

  // Registers the routes on `server`, each with its body limit, its CE-shaped 413 and CheckHead as
  // its before_body hook, so a refused request's body is never read.
  void Install(http::HttpServer& server);

  // The checks that need only the request line and headers: the bearer token and its scope for
  // the route, and the body-size limit from Content-Length. Returns the refusal, or nullopt to go
  // on. The route's RouteOptions::before_body.
  std::optional<http::HttpResponse> CheckHead(const http::HttpRequest& head, std::string_view scope,
                                              size_t max_body) const;

  // The handlers, callable without a server (tests).
  http::HttpResponse Auth(const http::HttpRequest& req);
  http::HttpResponse Create(const http::HttpRequest& req);
  http::HttpResponse List(const http::HttpRequest& req);
  http::HttpResponse Update(const http::HttpRequest& req);
  http::HttpResponse BulkDelete(const http::HttpRequest& req);

 private:
  struct Principal {
    TokenClaims claims;
    ApiSourceCredentials credentials;
  };
  // Who made a request, for metrics and logs (empty until authorized).
  struct Caller {
    std::string namespace_name;
    std::string source;
  };
  using Body = std::function<http::HttpResponse(Caller&)>;

  StatusOr<Principal> Authorize(const http::HttpRequest& head, std::string_view scope) const;
  // Authorize, then the size limit (Content-Length and, once read, the body); fills `refusal`
  // and returns nullopt when the request must be refused.
  std::optional<Principal> Admit(const http::HttpRequest& req, std::string_view scope,
                                 size_t max_body, http::HttpResponse& refusal) const;
  http::HttpResponse Refusal(const Status& status) const;
  http::HttpResponse StoreFailure(const Status& status) const;
  // Runs a handler body, then records the outcome.
  http::HttpResponse Observe(std::string_view route, const http::HttpRequest& req,
                             const Body& body) const;
  // One answered request: metrics and a debug log line.
  // The plugin to count a refused request under: its token's, when valid and still registered.
  Caller CallerOf(const http::HttpRequest& head) const;
  void Record(std::string_view route, const http::HttpRequest& req, const Caller& caller, int code,
              std::optional<Duration> took) const;
  http::HttpResponse DoCreate(const http::HttpRequest& req, Caller& caller);
  http::HttpResponse DoUpdate(const http::HttpRequest& req, Caller& caller);
  http::HttpResponse DoBulkDelete(const http::HttpRequest& req, Caller& caller);

  store::IndicatorStore& store_;
  const CredentialsRegistry& credentials_;
  TokenService& tokens_;
  FailureThrottle& throttle_;
  Clock& clock_;
  IngestObserver* observer_;
  Logger log_;
  IngestApiOptions options_;
};

}  // namespace cte::ingest
