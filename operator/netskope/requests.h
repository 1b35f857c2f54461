// Netskope tenant requests as values (STYLE.md "Requests are values"): one pure function per
// endpoint builds method, path, query and body; ToClientRequest() adds the base URL, the token
// and the headers. Sending is the transport's job (netskope_client.h). Table-tested in
// tests/unit/netskope/requests_test.cc.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/core/secret_string.h"
#include "operator/http/http_transport.h"
#include "operator/netskope/types.h"

namespace cte::netskope {

enum class Api { kV1, kV2 };

// Every endpoint the client calls; its label is the `endpoint` label of the tenant metrics.
enum class Endpoint {
  kUrlListList,
  kUrlListGet,
  kUrlListCreate,
  kUrlListUpdate,
  kUrlListAppend,
  kUrlListReplace,
  kUrlListDelete,
  kUrlListDeploy,
  kFileHashListUpdate,
  kAlertsMalware,
  kAlertsMalsite,
};
std::string_view EndpointLabel(Endpoint endpoint);  // e.g. "urllist_append"

struct TenantRequest {
  Endpoint endpoint = Endpoint::kUrlListList;
  Api api = Api::kV2;
  std::string method;
  std::string path;  // absolute path, percent-encoded
  http::QueryParams query;
  // JSON body; for v1 the token is added to it by ToClientRequest (never held here).
  std::optional<nlohmann::json> body;
  // See http::ClientRequest::repeatable: false for a request the transport must not send twice
  // on its own (an iterator `next` moves the tenant's cursor).
  std::optional<bool> repeatable;
};

struct ListUrlListsOptions {
  // `field=` selection, e.g. {"id", "name"}; empty: every field (including data).
  std::vector<std::string> fields;
  // `pending=`: nullopt leaves it out (the staged view); false asks for the deployed view.
  std::optional<bool> pending;
};

TenantRequest ListUrlListsRequest(const ListUrlListsOptions& options);
TenantRequest GetUrlListRequest(int64_t id);
TenantRequest CreateUrlListRequest(std::string_view name, const std::vector<std::string>& urls,
                                   UrlListType type);
TenantRequest UpdateUrlListRequest(int64_t id, std::string_view name,
                                   const std::vector<std::string>& urls, UrlListType type);
TenantRequest AppendUrlsRequest(int64_t id, const std::vector<std::string>& urls, UrlListType type);
TenantRequest ReplaceUrlsRequest(int64_t id, const std::vector<std::string>& urls,
                                 UrlListType type);
TenantRequest DeleteUrlListRequest(int64_t id);
TenantRequest DeployUrlListsRequest();
TenantRequest UpdateFileHashListRequest(std::string_view name,
                                        const std::vector<std::string>& hashes);
TenantRequest AlertIteratorRequest(AlertType type, std::string_view index,
                                   const IteratorOperation& operation);

// Renders a request for the transport. `base_url` is https://<tenant> or an apiBaseURL override
// (a trailing '/' is ignored). v2: the token goes in the Netskope-Api-Token header. v1: the token
// goes in the JSON body, as Netskope recommends ("not in the endpoint URL"), so it never appears
// in a proxy's or server's access log. `user_agent` is the User-Agent header.
inline constexpr std::string_view kUserAgent = "cte-operator/0.1";
http::ClientRequest ToClientRequest(const TenantRequest& request, std::string_view base_url,
                                    const SecretString& token, std::chrono::milliseconds timeout,
                                    std::string_view user_agent = kUserAgent);

}  // namespace cte::netskope
