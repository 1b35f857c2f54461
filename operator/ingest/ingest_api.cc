#include "operator/ingest/ingest_api.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "operator/core/json_util.h"
#include "operator/ingest/crypto.h"
#include "operator/ingest/indicator_output.h"
#include "operator/ingest/indicator_query.h"
#include "operator/store/source_policy.h"

namespace cte::ingest {
namespace {

using http::HttpRequest;
using http::HttpResponse;

constexpr std::string_view kNotAuthenticated = "Could not validate credentials.";
constexpr std::string_view kForbidden = "Not enough permissions.";

HttpResponse Json(int status, std::string body) {
  return HttpResponse::Json(status, std::move(body));
}

HttpResponse Detail(int status, std::string_view message) {
  return Json(status, DetailJson(message));
}

// The bearer value of an Authorization header ("Bearer <token>", scheme case-insensitive).
std::string_view BearerOf(std::string_view header) {
  if (header.size() < 7) return {};
  std::string scheme(header.substr(0, 7));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), ::tolower);
  if (scheme != "bearer ") return {};
  std::string_view token = header.substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  return token;
}

size_t ContentLength(const HttpRequest& head) {
  std::string cl = head.Header("Content-Length");
  if (cl.empty()) return 0;
  char* end = nullptr;
  unsigned long long n = std::strtoull(cl.c_str(), &end, 10);
  return *end == '\0' ? static_cast<size_t>(n) : SIZE_MAX;
}

HttpResponse Throttled(Duration wait) {
  auto secs = static_cast<int64_t>(std::ceil(std::chrono::duration<double>(wait).count()));
  HttpResponse r = Detail(
      429, "Too many failed attempts. Please retry after " + std::to_string(secs) + " seconds.");
  r.headers["Retry-After"] = std::to_string(secs);
  return r;
}

}  // namespace

std::string ThrottleAddress(std::string_view remote) {
  // "[v6]:port" or "v4:port" (http::HttpServer); a bare address is taken as it is.
  std::string host(remote);
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    host = host.substr(1, close == std::string::npos ? std::string::npos : close - 1);
  } else if (size_t colon = host.rfind(':');
             colon != std::string::npos && host.find(':') == colon) {
    host.resize(colon);
  }
  unsigned char v6[16];
  if (inet_pton(AF_INET6, host.c_str(), v6) == 1) {
    char text[INET6_ADDRSTRLEN];
    static constexpr unsigned char kV4Mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(v6, v6 + 12, kV4Mapped)) {  // an IPv4 peer on a dual-stack socket
      if (inet_ntop(AF_INET, v6 + 12, text, sizeof(text))) return text;
    }
    // One holder of a /64 can use any address in it: count them as one.
    std::fill(v6 + 8, v6 + 16, 0);
    if (inet_ntop(AF_INET6, v6, text, sizeof(text))) return std::string(text) + "/64";
  }
  return host;
}

namespace {

HttpResponse TooLarge(size_t limit) {
  return Detail(413, "Request body too large: at most " + std::to_string(limit) + " bytes.");
}

// Items of a request for the rejected count: parsed ones plus every distinct bad index.
int64_t ItemCount(const ParsedIndicators& parsed) {
  std::set<size_t> bad;
  for (const auto& e : parsed.errors) {
    if (e.index) bad.insert(*e.index);
  }
  return static_cast<int64_t>(parsed.items.size() + bad.size());
}

}  // namespace

IngestApi::IngestApi(store::IndicatorStore& store, const CredentialsRegistry& credentials,
                     TokenService& tokens, FailureThrottle& throttle, Clock& clock,
                     IngestObserver* observer, Logger log, IngestApiOptions options)
    : store_(store),
      credentials_(credentials),
      tokens_(tokens),
      throttle_(throttle),
      clock_(clock),
      observer_(observer),
      log_(std::move(log)),
      options_(options) {}

void IngestApi::Install(http::HttpServer& server) {
  // Every route refuses from the request line and headers (token, scope, declared size) before
  // a body byte is read; the handler checks again on the whole request. Refusals at the head are
  // counted like answers of the handler.
  auto route = [&](const char* name, const char* method, const char* pattern,
                   std::optional<std::string_view> scope, size_t max_body,
                   HttpResponse (IngestApi::*fn)(const HttpRequest&)) {
    http::RouteOptions options;
    options.max_body_bytes = max_body;
    options.too_large = TooLarge(max_body);
    options.before_body = [this, name, scope, max_body](const HttpRequest& head) {
      const MonoTime started = clock_.Now();
      std::optional<HttpResponse> refusal;
      if (scope) {
        refusal = CheckHead(head, *scope, max_body);
      } else if (ContentLength(head) > max_body) {
        refusal = TooLarge(max_body);  // /api/auth: no token yet, only the size to check
      }
      if (refusal) Record(name, head, CallerOf(head), refusal->status, clock_.Now() - started);
      return refusal;
    };
    // The server's own refusals after the head passed: a chunked body that grows past the
    // limit (413), a malformed body (400).
    options.on_refused = [this, name](const HttpRequest& head, int status) {
      Record(name, head, CallerOf(head), status, std::nullopt);
    };
    server.Route(
        method, pattern,
        [this, fn](const HttpRequest& req, const http::PathParams&, http::ResponseWriter& w) {
          w.Send((this->*fn)(req));
        },
        std::move(options));
  };
  route("create", "POST", "/api/cte/indicators", kScopeWrite, options_.limits.max_body_bytes,
        &IngestApi::Create);
  route("list", "GET", "/api/cte/indicators", kScopeRead, 0, &IngestApi::List);
  route("update", "PATCH", "/api/cte/indicators", kScopeWrite, options_.max_patch_body_bytes,
        &IngestApi::Update);
  route("delete", "DELETE", "/api/cte/indicators/bulk", kScopeWrite, options_.limits.max_body_bytes,
        &IngestApi::BulkDelete);
  // The login throttle needs the client_id, which is in the (small) body: Auth checks it.
  route("auth", "POST", "/api/auth", std::nullopt, options_.max_auth_body_bytes, &IngestApi::Auth);
}

// ---------------------------------------------------------------------------------------------
// Authentication and authorization.

StatusOr<IngestApi::Principal> IngestApi::Authorize(const HttpRequest& head,
                                                    std::string_view scope) const {
  const std::string header = head.Header("Authorization");
  std::string_view token = BearerOf(header);
  auto claims = tokens_.Verify(token);
  if (!claims.ok()) return claims.status();
  // The credentials must still exist for this plugin, unchanged: removing a plugin or its
  // client, or rotating its secret, revokes its tokens at once.
  auto creds = credentials_.FindByClientId(claims->client_id);
  if (!creds || creds->plugin != claims->plugin) {
    return Status(StatusCode::kUnauthenticated, "bearer token: credentials no longer registered");
  }
  if (creds->version != claims->credentials_version) {
    return Status(StatusCode::kUnauthenticated, "bearer token: the client's secret has changed");
  }
  // The token's scopes, as far as the credentials still grant them (narrowing a client's scopes
  // takes effect on its live tokens).
  if (!claims->HasScope(scope) ||
      std::find(creds->scopes.begin(), creds->scopes.end(), scope) == creds->scopes.end()) {
    return Status(StatusCode::kPermissionDenied, "token lacks scope " + std::string(scope));
  }
  return Principal{std::move(claims).value(), std::move(*creds)};
}

IngestApi::Caller IngestApi::CallerOf(const HttpRequest& head) const {
  // A refusal that came with a valid token of registered credentials (403, 413) is counted under
  // the token's plugin; anything else under no plugin, so a removed plugin's series stay gone.
  auto claims = tokens_.Verify(BearerOf(head.Header("Authorization")));
  if (!claims.ok()) return {};
  auto creds = credentials_.FindByClientId(claims->client_id);
  if (!creds || creds->plugin != claims->plugin) return {};
  if (creds->version != claims->credentials_version) return {};
  return {claims->plugin.namespace_name, claims->plugin.name};
}

HttpResponse IngestApi::Refusal(const Status& status) const {
  if (status.code() == StatusCode::kPermissionDenied) return Detail(403, kForbidden);
  HttpResponse r = Detail(401, kNotAuthenticated);
  r.headers["WWW-Authenticate"] = "Bearer";
  return r;
}

std::optional<IngestApi::Principal> IngestApi::Admit(const HttpRequest& req, std::string_view scope,
                                                     size_t max_body, HttpResponse& refusal) const {
  auto principal = Authorize(req, scope);
  if (!principal.ok()) {
    log_.Info("ingest request refused", {{"path", req.path},
                                         {"remote", req.remote_address},
                                         {"reason", principal.status().message()}});
    refusal = Refusal(principal.status());
    return std::nullopt;
  }
  if (ContentLength(req) > max_body || req.body.size() > max_body) {
    refusal = TooLarge(max_body);
    return std::nullopt;
  }
  return std::move(principal).value();
}

std::optional<HttpResponse> IngestApi::CheckHead(const HttpRequest& head, std::string_view scope,
                                                 size_t max_body) const {
  HttpResponse refusal;
  if (!Admit(head, scope, max_body, refusal)) return refusal;
  return std::nullopt;
}

HttpResponse IngestApi::StoreFailure(const Status& status) const {
  log_.Error("ingest: the store did not commit", {{"error", status.message()}});
  if (status.code() == StatusCode::kInvalidArgument) {
    return Detail(422, status.message());
  }
  HttpResponse r = Detail(503, "The indicator store is unavailable; retry.");
  r.headers["Retry-After"] = "1";
  return r;
}

HttpResponse IngestApi::Observe(std::string_view route, const HttpRequest& req,
                                const Body& body) const {
  const MonoTime started = clock_.Now();
  Caller caller;
  HttpResponse response = body(caller);
  Record(route, req, caller, response.status, clock_.Now() - started);
  return response;
}

void IngestApi::Record(std::string_view route, const HttpRequest& req, const Caller& caller,
                       int code, std::optional<Duration> took) const {
  if (observer_) observer_->OnRequest(route, caller.namespace_name, caller.source, code, took);
  log_.Debug("ingest request",
             {{"route", std::string(route)},
              {"method", req.method},
              {"code", code},
              {"namespace", caller.namespace_name},
              {"source", caller.source},
              {"remote", req.remote_address},
              {"seconds", took ? nlohmann::json(std::chrono::duration<double>(*took).count())
                               : nlohmann::json()}});
}

HttpResponse IngestApi::Auth(const HttpRequest& req) {
  return Observe("auth", req, [&](Caller& caller) -> HttpResponse {
    if (req.body.size() > options_.max_auth_body_bytes) {
      return TooLarge(options_.max_auth_body_bytes);
    }
    http::QueryParams form = http::ParseQuery(req.body);
    auto field = [&](std::string_view name) -> std::optional<std::string> {
      for (const auto& [k, v] : form) {
        if (k == name) return v;
      }
      return std::nullopt;
    };
    std::vector<FieldError> missing;
    auto grant = field("grant_type"), id = field("client_id"), secret = field("client_secret");
    if (!grant) missing.push_back({std::nullopt, "grant_type", "field required"});
    if (!id || id->empty()) missing.push_back({std::nullopt, "client_id", "field required"});
    if (!secret || secret->empty()) {
      missing.push_back({std::nullopt, "client_secret", "field required"});
    }
    if (id && id->size() > kMaxClientIdBytes) {
      return Json(422, DetailJson({{std::nullopt, "client_id",
                                    "at most " + std::to_string(kMaxClientIdBytes) + " bytes"}}));
    }
    if (!missing.empty()) return Json(422, DetailJson(missing));
    if (*grant != "client_credentials") return Detail(422, "grant_type not supported.");

    // Guesses are counted per registered client at an address, and per address for unknown
    // ids (failure_throttle.h); an attempt is reserved until its outcome is known, so parallel
    // guesses cannot all pass.
    auto creds = credentials_.FindByClientId(*id);
    const FailureThrottle::Who who{ThrottleAddress(req.remote_address),
                                   creds ? std::optional<std::string>(*id) : std::nullopt};
    if (auto wait = throttle_.Begin(who)) return Throttled(*wait);
    // Compare even for an unknown client_id, so timing does not tell which ids exist.
    const bool ok =
        SecretEquals(*secret, creds ? creds->client_secret.Reveal() : std::string(32, 'x')) &&
        creds.has_value();
    throttle_.End(who, ok);
    if (!ok) {
      // An unknown id is not logged: it is often a secret pasted into the wrong field.
      log_.Info("ingest login failed", {{"clientId", creds ? *id : std::string("(unknown)")},
                                        {"remote", req.remote_address}});
      return Detail(401, "Invalid client_id/client_secret provided.");
    }
    caller = {creds->plugin.namespace_name, creds->plugin.name};

    // Scopes: what was asked for (space-separated), or everything the client may have.
    std::vector<std::string> scopes;
    if (auto requested = field("scope"); requested && !requested->empty()) {
      std::string_view rest = *requested;
      while (!rest.empty()) {
        size_t sp = rest.find(' ');
        std::string_view s = rest.substr(0, sp);
        rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
        if (s.empty()) continue;
        if (s != kScopeRead && s != kScopeWrite) {
          return Json(422, DetailJson({{std::nullopt, "scope",
                                        "unknown scope \"" + std::string(s) +
                                            "\"; this API knows cte_read and cte_write"}}));
        }
        if (std::find(creds->scopes.begin(), creds->scopes.end(), s) != creds->scopes.end() &&
            std::find(scopes.begin(), scopes.end(), s) == scopes.end()) {
          scopes.emplace_back(s);
        }
      }
    } else {
      scopes = creds->scopes;
    }
    SecretString token = tokens_.Issue(creds->plugin, creds->client_id, scopes, creds->version);
    nlohmann::json body = {
        {"access_token", token.Reveal()},
        {"token_type", "bearer"},
        {"expires_in",
         std::chrono::duration_cast<std::chrono::seconds>(tokens_.lifetime()).count()},
        {"scopes", scopes},
        {"firstLogin", false},
        {"fromSSO", false},
        {"passwordPolicyViolation", false}};
    HttpResponse r = Json(200, body.dump());
    r.headers["Cache-Control"] = "no-store";
    r.headers["Pragma"] = "no-cache";
    return r;
  });
}

// ---------------------------------------------------------------------------------------------
// Indicators.

HttpResponse IngestApi::Create(const HttpRequest& req) {
  return Observe("create", req, [&](Caller& caller) { return DoCreate(req, caller); });
}

HttpResponse IngestApi::DoCreate(const HttpRequest& req, Caller& caller) {
  HttpResponse refusal;
  auto principal = Admit(req, kScopeWrite, options_.limits.max_body_bytes, refusal);
  if (!principal) return refusal;
  const store::SourceRef& plugin = principal->claims.plugin;
  caller = {plugin.namespace_name, plugin.name};
  ParsedIndicators parsed = ParseIndicatorArray(req.body, options_.limits);
  auto reject = [&](int64_t n) {
    if (observer_ && n > 0) observer_->OnIndicators("rejected", n);
  };
  if (!parsed.errors.empty()) {
    reject(ItemCount(parsed));
    return Json(422, DetailJson(parsed.errors));
  }
  // A token writes only its own plugin's indicators.
  for (const auto& item : parsed.items) {
    if (item.source != plugin.name) {
      reject(static_cast<int64_t>(parsed.items.size()));
      log_.Info("ingest: item for another source refused",
                {{"namespace", plugin.namespace_name}, {"source", plugin.name}});
      return Detail(403, kForbidden);
    }
  }
  if (parsed.items.empty()) return Json(201, "[]");
  const WallTime now = clock_.WallNow();
  store::UpsertIndicators op;
  op.now = now;
  op.indicators.reserve(parsed.items.size());
  for (const auto& item : parsed.items) {
    store::Indicator ind = ToIndicator(item, plugin);
    store::ApplySourcePolicy(principal->credentials.policy, now, ind);
    op.indicators.push_back(std::move(ind));
  }
  auto committed = store_.Commit(store::WriteBatch().Add(op));
  if (!committed.ok()) {
    reject(static_cast<int64_t>(op.indicators.size()));
    return StoreFailure(committed.status());
  }
  if (observer_) {
    observer_->OnIndicators("created", committed->ops[0].inserted);
    observer_->OnIndicators("updated", committed->ops[0].updated);
  }
  // CE answers a POST with IndicatorOut items (no per-source list): what was stored, after the
  // plugin's policy.
  return Json(201, IndicatorsJson(op.indicators, /*with_sources=*/false));
}

HttpResponse IngestApi::List(const HttpRequest& req) {
  return Observe("list", req, [&](Caller& caller) -> HttpResponse {
    HttpResponse refusal;
    auto principal = Admit(req, kScopeRead, 0, refusal);
    if (!principal) return refusal;
    caller = {principal->claims.plugin.namespace_name, principal->claims.plugin.name};
    // Reads cover the token's namespace, never another.
    auto request = ParseListRequest(req.query, principal->claims.plugin.namespace_name);
    if (!request.ok()) return Detail(400, request.status().message());
    if (request->aggregate) {
      auto n = store_.Count(request->query);
      if (!n.ok()) return StoreFailure(n.status());
      return Json(200, "{\"count\":" + std::to_string(*n) + "}");
    }
    auto rows = store_.Query(request->query);
    if (!rows.ok()) return StoreFailure(rows.status());
    return Json(200, IndicatorsJson(*rows));
  });
}

HttpResponse IngestApi::Update(const HttpRequest& req) {
  return Observe("update", req, [&](Caller& caller) { return DoUpdate(req, caller); });
}

HttpResponse IngestApi::DoUpdate(const HttpRequest& req, Caller& caller) {
  HttpResponse refusal;
  auto principal = Admit(req, kScopeWrite, options_.max_patch_body_bytes, refusal);
  if (!principal) return refusal;
  const store::SourceRef& plugin = principal->claims.plugin;
  caller = {plugin.namespace_name, plugin.name};
  ParsedIndicators parsed = ParseIndicatorObject(req.body, options_.limits, ItemShape::kRetract);
  if (!parsed.errors.empty()) return Json(422, DetailJson(parsed.errors));
  const IndicatorIn& in = parsed.items[0];
  const bool retraction = in.retracted.has_value() && !in.type;
  if (!retraction && !in.type) {
    return Json(422, DetailJson({{std::nullopt, "type", "field required"}}));
  }
  if (in.source != plugin.name) return Detail(403, kForbidden);

  const WallTime now = clock_.WallNow();
  store::UpdateIndicators op{plugin, in.value, in.type, {}, now};
  store::IndicatorUpdate& u = op.update;
  u.retracted = in.retracted;
  if (!retraction) {
    u.severity = in.severity;
    u.reputation = in.reputation;
    const int override_rep = principal->credentials.policy.override_reputation;
    if (u.reputation && override_rep >= store::kMinReputation) u.reputation = override_rep;
    u.tags = in.tags;
    u.comments = in.comments;
    u.extended_information = in.extended_information;
    u.first_seen = in.first_seen;
    u.last_seen = in.last_seen;
    u.expires_at = in.expires_at;
    u.active = in.active;
    u.test = in.test;
  }
  auto committed = store_.Commit(store::WriteBatch().Add(op));
  if (!committed.ok()) return StoreFailure(committed.status());
  if (committed->ops[0].affected == 0) {
    return Detail(404, "Indicator with value='" + in.value + "' does not exist.");
  }
  if (retraction) return Json(201, "true");
  auto row = store_.Get(plugin, in.value, *in.type);
  if (!row.ok()) return StoreFailure(row.status());
  if (!row->has_value())
    return Detail(404, "Indicator with value='" + in.value + "' does not exist.");
  std::string out;
  AppendIndicator(out, **row);
  return Json(201, std::move(out));
}

HttpResponse IngestApi::BulkDelete(const HttpRequest& req) {
  return Observe("delete", req, [&](Caller& caller) { return DoBulkDelete(req, caller); });
}

HttpResponse IngestApi::DoBulkDelete(const HttpRequest& req, Caller& caller) {
  HttpResponse refusal;
  auto principal = Admit(req, kScopeWrite, options_.limits.max_body_bytes, refusal);
  if (!principal) return refusal;
  const store::SourceRef& plugin = principal->claims.plugin;
  caller = {plugin.namespace_name, plugin.name};
  auto error = [](std::string field, std::string reason) {
    return Json(422, DetailJson({{std::nullopt, std::move(field), std::move(reason)}}));
  };
  if (JsonDepth(req.body) > 4) return error("body", "JSON nested too deeply");
  auto doc = ParseJson(req.body);
  if (!doc.ok()) return error("body", "invalid JSON");
  if (!doc->is_object()) return error("body", "must be a JSON object");
  if (doc->contains("query")) {
    return error("query", "not supported here; send {\"values\": [...], \"source\": ...}");
  }
  auto values = doc->find("values");
  if (values == doc->end() || !values->is_array() || values->empty()) {
    return error("values", "must be a non-empty list of strings");
  }
  if (values->size() > options_.limits.max_items) {
    return error("values", "at most " + std::to_string(options_.limits.max_items) + " values");
  }
  store::DeleteIndicators op{plugin, {}};
  op.values.reserve(values->size());
  for (const auto& v : *values) {
    if (!v.is_string()) return error("values", "must be a non-empty list of strings");
    op.values.push_back(v.get<std::string>());
  }
  if (auto source = doc->find("source"); source != doc->end() && !source->is_null()) {
    if (!source->is_string()) return error("source", "must be a string");
    if (source->get<std::string>() != plugin.name) return Detail(403, kForbidden);
  }
  auto committed = store_.Commit(store::WriteBatch().Add(op));
  if (!committed.ok()) return StoreFailure(committed.status());
  return Json(201, "{\"deleted\":" + std::to_string(committed->ops[0].affected) + "}");
}

}  // namespace cte::ingest
