// The tenant client interface: typed calls for every Netskope endpoint the operator uses. The
// sharing layer and the reconcilers depend on this interface and tests pass a fake; the HTTP
// implementation is NetskopeClient (netskope_client.h).
//
// Every call blocks the calling thread (rate limiting and retries included) and is thread-safe.
// Errors are classified Status values: ResourceExhausted (still throttled after the retries;
// retry_after_seconds says when to come back), Unavailable / DeadlineExceeded (transient),
// Unauthenticated / PermissionDenied (fix the token), InvalidArgument (the request is wrong),
// NotFound.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/core/status.h"
#include "operator/netskope/requests.h"
#include "operator/netskope/types.h"

namespace cte::netskope {

class TenantClient {
 public:
  virtual ~TenantClient() = default;

  // GET /api/v2/policy/urllist: every list, applied and pending.
  virtual StatusOr<std::vector<UrlList>> ListUrlLists(const ListUrlListsOptions& options) = 0;
  // GET /api/v2/policy/urllist/{id}.
  virtual StatusOr<UrlList> GetUrlList(int64_t id) = 0;

  // The writes below stage a change (pending) that DeployUrlLists applies. When the tenant
  // refuses entries with an invalid-URL 400, the client drops them, retries once with the rest
  // and reports them in UrlListWriteResult::rejected.
  //
  // POST /api/v2/policy/urllist. Not retried after an ambiguous failure (5xx, timeout): the list
  // may exist; look it up by name before creating again.
  virtual StatusOr<UrlListWriteResult> CreateUrlList(std::string_view name,
                                                     const std::vector<std::string>& urls,
                                                     UrlListType type) = 0;
  // PUT /api/v2/policy/urllist/{id}: name and content.
  virtual StatusOr<UrlListWriteResult> UpdateUrlList(int64_t id, std::string_view name,
                                                     const std::vector<std::string>& urls,
                                                     UrlListType type) = 0;
  // PATCH /api/v2/policy/urllist/{id}/append.
  virtual StatusOr<UrlListWriteResult> AppendUrls(int64_t id, const std::vector<std::string>& urls,
                                                  UrlListType type) = 0;
  // PATCH /api/v2/policy/urllist/{id}/replace.
  virtual StatusOr<UrlListWriteResult> ReplaceUrls(int64_t id, const std::vector<std::string>& urls,
                                                   UrlListType type) = 0;
  // DELETE /api/v2/policy/urllist/{id} (pending until deployed).
  virtual StatusOr<UrlList> DeleteUrlList(int64_t id) = 0;
  // POST /api/v2/policy/urllist/deploy: applies every pending URL-list change on the tenant.
  virtual StatusOr<std::vector<UrlList>> DeployUrlLists() = 0;

  // v1 updateFileHashList: replaces the whole list (which must exist) with `hashes`.
  virtual StatusOr<FileHashListResult> UpdateFileHashList(
      std::string_view name, const std::vector<std::string>& hashes) = 0;

  // GET /api/v2/events/dataexport/alerts/{type}?index=&operation=. The caller honours
  // AlertPage::wait_time before the next call (AlertIterator does). After an ambiguous failure
  // of an operation that moves the index, the client retries with `resend`, so a page is never
  // skipped (it may be delivered twice). `cancelled` (may be null) ends the call's waits for the
  // rate limiter and between retries with Unavailable once set (the setter calls
  // Clock::Notify()), so a poller stops promptly even while the tenant's budget is paused.
  virtual StatusOr<AlertPage> IterateAlerts(AlertType type, std::string_view index,
                                            const IteratorOperation& operation,
                                            const std::atomic<bool>* cancelled) = 0;
};

// Looks a list up by name, as CE does (names are the key, reference §3.5 step 3). One GET with
// field=id,name. nullopt when no list (or only one pending deletion) has that name. Read-only:
// with several lists of the name it returns the one with the lowest id.
StatusOr<std::optional<UrlList>> FindUrlListByName(TenantClient& client, std::string_view name);

// The lookup the sharing layer uses before it writes a list, and the rule that makes a create
// sent twice harmless. A POST can reach the tenant twice: cpprestsdk resends a request whose
// pooled keep-alive connection was reset after the tenant processed it, and a caller may retry
// after an ambiguous failure. The tenant does not document names as unique (reference §3.5), so
// that can leave two lists of one name. The rule: the list with the lowest id (the first created)
// is the list; every other live list of that name is deleted (pending until the next deploy,
// which the sharing layer runs once per tenant per cycle) and the lowest is returned. So after one
// lookup there is one list of the name, and writes go to the id returned here, never to an id
// remembered from a create's answer. Callers create only when this returns nullopt, and after a
// create that failed they call this again before creating again (a tenant that refuses duplicate
// names answers the resent create with a 400 although the first one succeeded).
StatusOr<std::optional<UrlList>> ResolveUrlListByName(TenantClient& client, std::string_view name);

}  // namespace cte::netskope
