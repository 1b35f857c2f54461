// The seam between the tenant client and the metrics layer. The client reports every HTTP
// attempt and every 429; operator/metrics implements this interface to produce
//   cte_tenant_api_requests_total{tenant,endpoint,code}
//   cte_tenant_api_request_duration_seconds{tenant,endpoint}
//   cte_tenant_api_throttled_total{tenant}
// so the client does not depend on the metrics library (and tests use a recording fake).
#pragma once

#include <string_view>

#include "operator/core/clock.h"

namespace cte::netskope {

class TenantApiObserver {
 public:
  virtual ~TenantApiObserver() = default;

  // One HTTP attempt finished (retries are separate attempts). `endpoint` is a fixed label such
  // as "urllist_append" (requests.h EndpointLabel); `code` is the HTTP status ("200", "429"), or
  // "timeout" / "error" when no answer arrived. Called on the thread that made the request, after
  // the attempt, with no client lock held; it must be thread-safe and must not call the client.
  virtual void OnRequest(std::string_view tenant, std::string_view endpoint, std::string_view code,
                         Duration duration) = 0;

  // The tenant answered 429. Called in addition to OnRequest, same thread rules.
  virtual void OnThrottled(std::string_view tenant) = 0;
};

}  // namespace cte::netskope
