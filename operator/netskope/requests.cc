#include "operator/netskope/requests.h"

namespace cte::netskope {
namespace {

constexpr std::string_view kUrlListPath = "/api/v2/policy/urllist";

nlohmann::json UrlData(const std::vector<std::string>& urls, UrlListType type) {
  return {{"urls", urls}, {"type", UrlListTypeName(type)}};
}

TenantRequest V2(Endpoint endpoint, std::string method, std::string path) {
  TenantRequest r;
  r.endpoint = endpoint;
  r.api = Api::kV2;
  r.method = std::move(method);
  r.path = std::move(path);
  return r;
}

std::string ListPath(int64_t id) { return std::string(kUrlListPath) + "/" + std::to_string(id); }

}  // namespace

std::string_view EndpointLabel(Endpoint endpoint) {
  switch (endpoint) {
    case Endpoint::kUrlListList:
      return "urllist_list";
    case Endpoint::kUrlListGet:
      return "urllist_get";
    case Endpoint::kUrlListCreate:
      return "urllist_create";
    case Endpoint::kUrlListUpdate:
      return "urllist_update";
    case Endpoint::kUrlListAppend:
      return "urllist_append";
    case Endpoint::kUrlListReplace:
      return "urllist_replace";
    case Endpoint::kUrlListDelete:
      return "urllist_delete";
    case Endpoint::kUrlListDeploy:
      return "urllist_deploy";
    case Endpoint::kFileHashListUpdate:
      return "filehashlist_update";
    case Endpoint::kAlertsMalware:
      return "alerts_malware";
    case Endpoint::kAlertsMalsite:
      return "alerts_malsite";
  }
  return "unknown";
}

TenantRequest ListUrlListsRequest(const ListUrlListsOptions& options) {
  TenantRequest r = V2(Endpoint::kUrlListList, "GET", std::string(kUrlListPath));
  if (!options.fields.empty()) {
    std::string fields;
    for (const auto& f : options.fields) fields += (fields.empty() ? "" : ",") + f;
    r.query.emplace_back("field", fields);
  }
  if (options.pending) r.query.emplace_back("pending", *options.pending ? "1" : "0");
  return r;
}

TenantRequest GetUrlListRequest(int64_t id) {
  return V2(Endpoint::kUrlListGet, "GET", ListPath(id));
}

TenantRequest CreateUrlListRequest(std::string_view name, const std::vector<std::string>& urls,
                                   UrlListType type) {
  // The P/TF body shape (reference §3.6): name at top level, urls and type under data.
  TenantRequest r = V2(Endpoint::kUrlListCreate, "POST", std::string(kUrlListPath));
  r.body = nlohmann::json{{"name", name}, {"data", UrlData(urls, type)}};
  return r;
}

TenantRequest UpdateUrlListRequest(int64_t id, std::string_view name,
                                   const std::vector<std::string>& urls, UrlListType type) {
  TenantRequest r = V2(Endpoint::kUrlListUpdate, "PUT", ListPath(id));
  r.body = nlohmann::json{{"name", name}, {"data", UrlData(urls, type)}};
  return r;
}

TenantRequest AppendUrlsRequest(int64_t id, const std::vector<std::string>& urls,
                                UrlListType type) {
  TenantRequest r = V2(Endpoint::kUrlListAppend, "PATCH", ListPath(id) + "/append");
  r.body = nlohmann::json{{"data", UrlData(urls, type)}};
  return r;
}

TenantRequest ReplaceUrlsRequest(int64_t id, const std::vector<std::string>& urls,
                                 UrlListType type) {
  TenantRequest r = V2(Endpoint::kUrlListReplace, "PATCH", ListPath(id) + "/replace");
  r.body = nlohmann::json{{"data", UrlData(urls, type)}};
  return r;
}

TenantRequest DeleteUrlListRequest(int64_t id) {
  return V2(Endpoint::kUrlListDelete, "DELETE", ListPath(id));
}

TenantRequest DeployUrlListsRequest() {
  // /api/v2/policy/urllist/deploy, not the CLI/SDK's /api/v2/policy/deploy (reference §3.6).
  return V2(Endpoint::kUrlListDeploy, "POST", std::string(kUrlListPath) + "/deploy");
}

TenantRequest UpdateFileHashListRequest(std::string_view name,
                                        const std::vector<std::string>& hashes) {
  TenantRequest r;
  r.endpoint = Endpoint::kFileHashListUpdate;
  r.api = Api::kV1;
  r.method = "POST";
  r.path = "/api/v1/updateFileHashList";
  std::string list;
  for (const auto& h : hashes) list += (list.empty() ? "" : ",") + h;
  r.body = nlohmann::json{{"name", name}, {"list", list}};
  return r;
}

TenantRequest AlertIteratorRequest(AlertType type, std::string_view index,
                                   const IteratorOperation& operation) {
  TenantRequest r =
      V2(type == AlertType::kMalware ? Endpoint::kAlertsMalware : Endpoint::kAlertsMalsite, "GET",
         "/api/v2/events/dataexport/alerts/" + std::string(AlertTypeName(type)));
  r.query.emplace_back("index", std::string(index));
  r.query.emplace_back("operation", operation.value());
  // Sent twice, a `next` skips a page; NetskopeClient follows an ambiguous failure with `resend`.
  if (operation.is_next()) r.repeatable = false;
  return r;
}

http::ClientRequest ToClientRequest(const TenantRequest& request, std::string_view base_url,
                                    const SecretString& token, std::chrono::milliseconds timeout,
                                    std::string_view user_agent) {
  http::ClientRequest out;
  out.method = request.method;
  out.timeout = timeout;
  out.repeatable = request.repeatable;
  while (!base_url.empty() && base_url.back() == '/') base_url.remove_suffix(1);
  out.url = std::string(base_url) + request.path;
  for (size_t i = 0; i < request.query.size(); ++i) {
    const auto& [k, v] = request.query[i];
    // Piece by piece: GCC 12 at -O3 misreads `const char* + std::string` chains as overlapping
    // memcpy (-Wrestrict, GCC PR 105329).
    out.url += i == 0 ? '?' : '&';
    out.url += http::PercentEncode(k);
    out.url += '=';
    out.url += http::PercentEncode(v);
  }
  out.headers["Accept"] = "application/json";
  out.headers["User-Agent"] = std::string(user_agent);
  std::optional<nlohmann::json> body = request.body;
  if (request.api == Api::kV2) {
    out.headers["Netskope-Api-Token"] = token.Reveal();
  } else {
    if (!body) body = nlohmann::json::object();
    (*body)["token"] = token.Reveal();
  }
  if (body) {
    out.headers["Content-Type"] = "application/json";
    out.body = body->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return out;
}

}  // namespace cte::netskope
