#include "hack/tenant-simulator/tenant_simulator.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <unordered_set>

#include "hack/tenant-simulator/validation.h"
#include "operator/core/json_util.h"
#include "operator/core/secret_string.h"
#include "operator/core/time_format.h"

namespace cte::tenantsim {
namespace {

using http::HttpRequest;
using http::HttpResponse;
using http::PathParams;
using nlohmann::json;

constexpr size_t kMaxLogEntries = 100000;
constexpr size_t kMaxLoggedUserAgent = 256;  // also bounds a logged iterator operation
constexpr const char* kRateLimitBody = R"({"message":"API rate limit exceeded"})";
constexpr const char* kDuplicateHashes = "Duplicate request, no change in file hashes";

std::string Param(const PathParams& params, const std::string& name) {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return "";
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// The v2 policy API's error shape: {"statusCode":N,"message":[...]}. Items are strings for
// general errors and [url, reason] pairs for rejected URL entries (reference §2, §3.3).
HttpResponse PolicyError(int status, const std::vector<std::string>& messages) {
  return HttpResponse::Json(status, Dump({{"statusCode", status}, {"message", messages}}));
}

HttpResponse V1Envelope(int status, const std::string& error_code,
                        const std::vector<std::string>& errors) {
  return HttpResponse::Json(
      status, Dump({{"status", "error"}, {"errorCode", error_code}, {"errors", errors}}));
}

HttpResponse IteratorError(int status, const std::string& message) {
  return HttpResponse::Json(status, Dump({{"ok", 0}, {"message", message}}));
}

std::string CeilSeconds(double s) {
  return std::to_string(std::max<int64_t>(1, static_cast<int64_t>(std::ceil(s - 1e-9))));
}

// Bodies well above the list caps (7 and 8 MiB of JSON by default) reach the handlers, so an
// oversized list gets the tenant's own error rather than the server's 413.
http::RouteOptions BodyLimit() {
  http::RouteOptions o;
  o.max_body_bytes = 32 << 20;
  return o;
}

bool PathMatches(const std::string& pattern, const std::string& path) {
  if (!pattern.empty() && pattern.back() == '*') {
    return path.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0;
  }
  return pattern == path;
}

std::vector<std::string> Dedup(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (const auto& v : in) {
    if (seen.insert(v).second) out.push_back(v);
  }
  return out;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Fault

StatusOr<Fault> Fault::FromJson(const json& j) {
  if (!j.is_object()) return InvalidArgumentError("fault: must be an object");
  Fault f;
  try {
    if (!j.contains("path") || !j["path"].is_string()) {
      return InvalidArgumentError("fault.path: required string");
    }
    f.path = j["path"].get<std::string>();
    f.method = j.value("method", "*");
    f.count = j.value("count", 1);
    // A negative count keeps the fault until DELETE /__sim/faults; 0 would never fire.
    if (f.count == 0) {
      return InvalidArgumentError(
          "fault.count: 0 never fires; give at least 1, or -1 for until cleared");
    }
    std::string kind = j.value("kind", "status");
    if (kind == "429" || kind == "500") {
      f.kind = Kind::kStatus;
      f.status = std::stoi(kind);
    } else if (kind == "status") {
      f.kind = Kind::kStatus;
      f.status = j.value("status", 500);
    } else if (kind == "hang") {
      f.kind = Kind::kHang;
    } else if (kind == "reset") {
      f.kind = Kind::kReset;
    } else if (kind == "latency") {
      f.kind = Kind::kLatency;
      f.latency = std::chrono::milliseconds(j.value("latencyMs", 0));
    } else if (kind == "reset-after") {
      f.kind = Kind::kResetAfter;
    } else {
      return InvalidArgumentError(
          "fault.kind: one of 429, 500, status, hang, reset, reset-after, latency");
    }
    if (j.contains("status") && f.kind == Kind::kStatus) f.status = j["status"].get<int>();
    if (j.contains("body"))
      f.body = j["body"].is_string() ? j["body"].get<std::string>() : Dump(j["body"]);
    f.retry_after_seconds = j.value("retryAfter", 1.0);
  } catch (const json::exception& e) {
    return InvalidArgumentError(std::string("fault: ") + e.what());
  }
  return f;
}

json Fault::ToJson() const {
  static const char* kKinds[] = {"status", "hang", "reset", "latency", "reset-after"};
  json j = {{"kind", kKinds[static_cast<int>(kind)]},
            {"method", method},
            {"path", path},
            {"count", count}};
  if (kind == Kind::kStatus) {
    j["status"] = status;
    if (body) j["body"] = *body;
    if (status == 429) j["retryAfter"] = retry_after_seconds;
  }
  if (kind == Kind::kLatency) {
    j["latencyMs"] = std::chrono::duration_cast<std::chrono::milliseconds>(latency).count();
  }
  return j;
}

// ---------------------------------------------------------------------------------------------
// Lifecycle

TenantSimulator::TenantSimulator(SimulatorOptions options, Clock& clock)
    : options_(std::move(options)),
      initial_limits_(options_.limits),
      clock_(clock),
      started_(clock.Now()),
      server_([this] {
        http::HttpServerOptions o;
        o.tls = options_.tls;
        return o;
      }()),
      alerts_(options_.iterator_page_size, options_.iterator_wait_seconds),
      v1_limiter_(options_.limits.v1_requests, options_.limits.v1_window),
      v2_limiter_(options_.limits.v2_requests_per_second, std::chrono::seconds(1)) {
  std::lock_guard<std::mutex> lock(mu_);
  ResetStateLocked();
  RegisterRoutes();
}

TenantSimulator::~TenantSimulator() { Stop(); }

Status TenantSimulator::Start(const std::string& host, int port) {
  if (auto s = server_.Start(host, port); !s.ok()) return s;
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  url_ = (server_.tls() ? "https://" : "http://") + h + ":" + std::to_string(server_.port());
  return Status::Ok();
}

void TenantSimulator::Stop() {
  stopping_ = true;
  clock_.Notify();  // wakes hanging and delayed requests
  server_.Stop();
}

void TenantSimulator::ResetStateLocked() {
  url_lists_.clear();
  next_list_id_ = 1;
  for (const auto& seed : options_.url_lists) {
    UrlListState list;
    list.id = next_list_id_++;
    list.name = seed.name;
    list.type = seed.type;
    list.urls = Dedup(seed.urls);
    list.applied = UrlListState::Applied{seed.name, seed.type, list.urls};
    list.modify_type = "Created";
    list.modify_time = NowIso();
    list.modify_by = "admin@example.com";
    url_lists_[list.id] = std::move(list);
  }
  file_hash_lists_.clear();
  for (const auto& seed : options_.file_hash_lists) {
    file_hash_lists_[seed.name].hashes = seed.hashes;
  }
  alerts_.Clear();
  alerts_.SetPaging(options_.iterator_page_size, options_.iterator_wait_seconds);
  options_.limits = initial_limits_;
  v1_limiter_ = WindowLimiter(options_.limits.v1_requests, options_.limits.v1_window);
  v2_limiter_ = WindowLimiter(options_.limits.v2_requests_per_second, std::chrono::seconds(1));
  iterator_limiters_.clear();
  faults_.clear();
  log_.clear();
}

void TenantSimulator::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  ResetStateLocked();
}

// ---------------------------------------------------------------------------------------------
// Routing

void TenantSimulator::RegisterRoutes() {
  const std::string kUrlList = "/api/v2/policy/urllist";
  const std::string kDeploy = "/api/v2/policy/urllist/deploy";
  Register({"POST", kDeploy, TokenApi::kV2, kDeploy, ""},
           [this](const HttpRequest&, const PathParams&, const TokenSpec&) { return Deploy(); });
  Register({"GET", kUrlList, TokenApi::kV2, kUrlList, ""},
           [this](const HttpRequest& req, const PathParams&, const TokenSpec&) {
             return ListUrlLists(req);
           });
  Register({"POST", kUrlList, TokenApi::kV2, kUrlList, ""},
           [this](const HttpRequest& req, const PathParams&, const TokenSpec& token) {
             return CreateUrlList(req, token);
           });
  Register({"GET", kUrlList + "/{id}", TokenApi::kV2, kUrlList, ""},
           [this](const HttpRequest& req, const PathParams& p, const TokenSpec&) {
             return GetUrlList(p, req);
           });
  Register({"PUT", kUrlList + "/{id}", TokenApi::kV2, kUrlList, ""},
           [this](const HttpRequest& req, const PathParams& p, const TokenSpec& token) {
             return PutUrlList(p, req, token);
           });
  Register({"DELETE", kUrlList + "/{id}", TokenApi::kV2, kUrlList, ""},
           [this](const HttpRequest&, const PathParams& p, const TokenSpec& token) {
             return DeleteUrlList(p, token);
           });
  Register({"PATCH", kUrlList + "/{id}/{action}", TokenApi::kV2, kUrlList, ""},
           [this](const HttpRequest& req, const PathParams& p, const TokenSpec& token) {
             return PatchUrlList(p, req, token);
           });
  for (std::string type : {"malware", "malsite"}) {
    std::string path = "/api/v2/events/dataexport/alerts/" + type;
    Register({"GET", path, TokenApi::kV2, path, "iterator:" + type},
             [this, type](const HttpRequest& req, const PathParams&, const TokenSpec&) {
               return IterateAlerts({{"type", type}}, req);
             });
  }
  // v1: the method is not significant in practice (reference §1.1).
  Register({"*", "/api/v1/updateFileHashList", TokenApi::kV1, "", ""}, nullptr);

  RegisterSim("GET", "/__sim/urllists", [this](const HttpRequest&, const PathParams&) {
    return HttpResponse::Json(200, Dump(UrlListsSnapshot()));
  });
  RegisterSim("GET", "/__sim/filehashlists", [this](const HttpRequest&, const PathParams&) {
    return HttpResponse::Json(200, Dump(FileHashListsSnapshot()));
  });
  RegisterSim("POST", "/__sim/filehashlists", [this](const HttpRequest& req, const PathParams&) {
    auto body = ParseJson(req.body);
    if (!body.ok() || !body->is_object() || !body->contains("name")) {
      return HttpResponse::Json(400, R"({"message":"want {\"name\", \"hashes\", \"pending\"}"})");
    }
    std::vector<std::string> hashes = body->value("hashes", std::vector<std::string>{});
    Status s = CreateFileHashList((*body)["name"].get<std::string>(), hashes,
                                  body->value("pending", false));
    if (!s.ok()) return HttpResponse::Json(400, Dump({{"message", s.message()}}));
    return HttpResponse::Json(201, Dump({{"name", (*body)["name"]}}));
  });
  RegisterSim("GET", "/__sim/alerts", [this](const HttpRequest&, const PathParams&) {
    std::lock_guard<std::mutex> lock(mu_);
    return HttpResponse::Json(200, Dump(alerts_.Summary()));
  });
  RegisterSim("POST", "/__sim/alerts", [this](const HttpRequest& req, const PathParams&) {
    auto body = ParseJson(req.body);
    if (!body.ok() || !body->is_object() || !AlertStore::IsKnownType(body->value("type", ""))) {
      return HttpResponse::Json(
          400, R"({"message":"want {\"type\": \"malware\"|\"malsite\", \"alerts\": [...]} or )"
               R"({\"type\", \"count\", \"startTimestamp\", \"intervalSeconds\"}"})");
    }
    std::string type = (*body)["type"].get<std::string>();
    size_t n = 0;
    if (body->contains("alerts")) {
      n = SeedAlerts(type, (*body)["alerts"].get<std::vector<json>>());
    } else {
      // Checked before use: a float or negative count cast to size_t is undefined, and a huge
      // one would allocate without bound.
      const json count = body->value("count", json(0));
      const json interval = body->value("intervalSeconds", json(1));
      if (!count.is_number_integer() || count.get<int64_t>() < 0 ||
          count.get<int64_t>() > static_cast<int64_t>(kMaxGeneratedAlerts)) {
        return HttpResponse::Json(
            400, Dump({{"message",
                        "count: an integer from 0 to " + std::to_string(kMaxGeneratedAlerts)}}));
      }
      if (!interval.is_number_integer()) {
        return HttpResponse::Json(400, Dump({{"message", "intervalSeconds: an integer"}}));
      }
      n = GenerateAlerts(type, count.get<size_t>(),
                         TimestampOf(body->value("startTimestamp", json(NowEpoch())), NowEpoch()),
                         TimestampOf(interval, 1));
    }
    return HttpResponse::Json(201, Dump({{"seeded", n}}));
  });
  RegisterSim("GET", "/__sim/requests", [this](const HttpRequest&, const PathParams&) {
    return HttpResponse::Json(200, Dump(RequestLog()));
  });
  RegisterSim("DELETE", "/__sim/requests", [this](const HttpRequest&, const PathParams&) {
    ClearRequestLog();
    return HttpResponse::Json(200, "{}");
  });
  RegisterSim("GET", "/__sim/faults", [this](const HttpRequest&, const PathParams&) {
    std::lock_guard<std::mutex> lock(mu_);
    json out = json::array();
    for (const auto& f : faults_) out.push_back(f.ToJson());
    return HttpResponse::Json(200, Dump(out));
  });
  RegisterSim("POST", "/__sim/faults", [this](const HttpRequest& req, const PathParams&) {
    auto body = ParseJson(req.body);
    if (!body.ok()) return HttpResponse::Json(400, Dump({{"message", body.status().message()}}));
    auto fault = Fault::FromJson(*body);
    if (!fault.ok()) return HttpResponse::Json(400, Dump({{"message", fault.status().message()}}));
    AddFault(*fault);
    return HttpResponse::Json(201, Dump(fault->ToJson()));
  });
  RegisterSim("DELETE", "/__sim/faults", [this](const HttpRequest&, const PathParams&) {
    ClearFaults();
    return HttpResponse::Json(200, "{}");
  });
  RegisterSim("GET", "/__sim/limits", [this](const HttpRequest&, const PathParams&) {
    SimulatorLimits l = limits();
    return HttpResponse::Json(
        200, Dump({{"urlListMaxBytes", l.url_list_max_bytes},
                   {"fileHashListMaxBytes", l.file_hash_list_max_bytes},
                   {"maxEntries", l.max_entries},
                   {"v1Requests", l.v1_requests},
                   {"v1WindowSeconds", std::chrono::duration<double>(l.v1_window).count()},
                   {"v2RequestsPerSecond", l.v2_requests_per_second},
                   {"iteratorRequestsPerSecond", l.iterator_requests_per_second}}));
  });
  RegisterSim("PUT", "/__sim/limits", [this](const HttpRequest& req, const PathParams&) {
    auto body = ParseJson(req.body);
    if (!body.ok()) return HttpResponse::Json(400, Dump({{"message", body.status().message()}}));
    SimulatorOptions base;
    base.limits = limits();
    auto applied = ApplyConfig(json{{"limits", *body}}, base);
    if (!applied.ok()) {
      return HttpResponse::Json(400, Dump({{"message", applied.status().message()}}));
    }
    SetLimits(applied->limits);
    return HttpResponse::Json(200, "{}");
  });
  RegisterSim("POST", "/__sim/reset", [this](const HttpRequest&, const PathParams&) {
    Reset();
    return HttpResponse::Json(200, "{}");
  });
}

void TenantSimulator::Register(EndpointInfo info, Inner inner) {
  std::string method = info.method;
  std::string pattern = info.pattern;
  server_.Route(
      method, pattern,
      [this, info = std::move(info), inner = std::move(inner)](
          const HttpRequest& req, const PathParams& params, http::ResponseWriter& w) {
        Serve(info, inner, req, params, w);
      },
      BodyLimit());
}

void TenantSimulator::RegisterSim(
    const std::string& method, const std::string& pattern,
    std::function<HttpResponse(const HttpRequest&, const PathParams&)> handler) {
  server_.Route(
      method, pattern,
      [handler = std::move(handler)](const HttpRequest& req, const PathParams& params,
                                     http::ResponseWriter& w) {
        try {
          w.Send(handler(req, params));
        } catch (const std::exception& e) {
          w.Send(HttpResponse::Json(400, Dump({{"message", e.what()}})));
        }
      },
      BodyLimit());
}

std::optional<Fault> TenantSimulator::TakeFault(const HttpRequest& req) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (it->method != "*" && it->method != req.method) continue;
    if (!PathMatches(it->path, req.path)) continue;
    Fault f = *it;
    if (it->count > 0 && --it->count == 0) faults_.erase(it);
    return f;
  }
  return std::nullopt;
}

void TenantSimulator::Serve(const EndpointInfo& info, const Inner& inner, const HttpRequest& req,
                            const PathParams& params, http::ResponseWriter& w) {
  LogEntry entry;
  MonoTime arrived = clock_.Now();
  entry.time = std::chrono::duration<double>(arrived - started_).count();
  entry.wall = std::chrono::duration<double>(clock_.WallNow().time_since_epoch()).count();
  entry.method = req.method;
  entry.path = req.path;
  entry.endpoint = (info.method == "*" ? std::string("*") : info.method) + " " + info.pattern;
  entry.request_bytes = req.body.size();
  // Which client sent it (cte-operator puts its replica identity there); bounded, as the log is.
  entry.user_agent = req.Header("User-Agent").substr(0, kMaxLoggedUserAgent);
  entry.operation = req.Query("operation").value_or("").substr(0, kMaxLoggedUserAgent);

  bool reset_after = false;
  auto finish = [&](const HttpResponse& response) {
    entry.status = response.status;
    entry.response_bytes = response.body.size();
    Log(entry);
    if (reset_after) {
      w.Abort();  // processed, but the answer never leaves
    } else {
      w.Send(response);
    }
  };

  if (auto fault = TakeFault(req)) {
    switch (fault->kind) {
      case Fault::Kind::kResetAfter:
        entry.fault = "reset-after";
        reset_after = true;
        break;
      case Fault::Kind::kLatency:
        entry.fault = "latency";
        clock_.WaitFor(fault->latency, [this] { return stopping_.load(); });
        break;
      case Fault::Kind::kReset:
        entry.fault = "reset";
        Log(entry);
        w.Abort();
        return;
      case Fault::Kind::kHang: {
        entry.fault = "hang";
        Log(entry);
        // Hold the request until the client hangs up (its timeout), the simulator stops, or
        // max_hang passes; then reset the connection.
        MonoTime deadline = clock_.Now() + options_.max_hang;
        while (!stopping_ && !w.Closed() && clock_.Now() < deadline) {
          clock_.WaitFor(std::chrono::milliseconds(20), [this] { return stopping_.load(); });
        }
        w.Abort();
        return;
      }
      case Fault::Kind::kStatus: {
        entry.fault = "status";
        HttpResponse r;
        if (fault->status == 429) {
          r = HttpResponse::Json(429, fault->body.value_or(kRateLimitBody));
          r.headers["Retry-After"] = CeilSeconds(fault->retry_after_seconds);
          if (info.api == TokenApi::kV2) {
            r.headers["RateLimit-Limit"] = std::to_string(
                info.iterator_bucket.empty() ? limits().v2_requests_per_second
                                             : limits().iterator_requests_per_second);
            r.headers["RateLimit-Remaining"] = "0";
            r.headers["RateLimit-Reset"] = CeilSeconds(fault->retry_after_seconds);
          }
        } else {
          r = HttpResponse::Json(
              fault->status,
              fault->body.value_or(Dump({{"message", http::ReasonPhrase(fault->status)}})));
        }
        finish(r);
        return;
      }
    }
  }

  const TokenSpec* token = nullptr;
  std::map<std::string, std::string> v1_params;
  if (info.api == TokenApi::kV1) {
    if (req.method != "GET" && req.method != "POST" && req.method != "PUT" &&
        req.method != "PATCH") {
      finish(V1Envelope(405, "General Error", {"method not allowed"}));
      return;
    }
    // token, name and list may come from the query string, a JSON body or a form body.
    for (const auto& [k, v] : req.query) v1_params.emplace(k, v);
    // Clients label JSON bodies inconsistently (curl -d says form), so the body decides.
    if (!req.body.empty()) {
      auto parsed = ParseJson(req.body);
      if (parsed.ok() && parsed->is_object()) {
        for (const auto& [k, v] : parsed->items()) {
          v1_params[k] = v.is_string() ? v.get<std::string>() : Dump(v);
        }
      } else {
        for (const auto& [k, v] : http::ParseQuery(req.body)) v1_params[k] = v;
      }
    }
    auto it = v1_params.find("token");
    if (auto denied = AuthorizeV1(it == v1_params.end() ? "" : it->second, &token)) {
      finish(*denied);
      return;
    }
  } else if (auto denied = AuthorizeV2(info, req, &token)) {
    finish(*denied);
    return;
  }

  HttpResponse response;
  http::Headers limit_headers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto refused = Admit(info, limit_headers)) {
      response = *refused;
    } else if (info.api == TokenApi::kV1) {
      response = UpdateFileHashList(v1_params);
    } else {
      response = inner(req, params, *token);
    }
  }
  for (const auto& [k, v] : limit_headers) response.headers.emplace(k, v);
  finish(response);
}

// ---------------------------------------------------------------------------------------------
// Auth and rate limits

std::optional<HttpResponse> TenantSimulator::AuthorizeV2(const EndpointInfo& info,
                                                         const HttpRequest& req,
                                                         const TokenSpec** token) const {
  std::string value = req.Header("Netskope-Api-Token");
  if (value.empty()) {
    std::string auth = req.Header("Authorization");
    if (auth.size() > 7 && Lower(auth.substr(0, 7)) == "bearer ") value = auth.substr(7);
  }
  for (const auto& t : options_.tokens) {
    // Constant time: a client must not learn a token from how fast a wrong one is refused.
    if (t.api == TokenApi::kV2 && !value.empty() && ConstantTimeEquals(t.token, value)) {
      *token = &t;
    }
  }
  // Reference §1.2 recommends 401 for an unknown token and 403 for a missing scope.
  if (*token == nullptr) {
    return HttpResponse::Json(
        401,
        Dump({{"status", "error"}, {"message", "Unauthorized: invalid or missing API token"}}));
  }
  Access access = Access::kNone;
  for (const auto& [endpoint, a] : (*token)->scopes) {
    if (endpoint == "*" || endpoint == info.scope) access = std::max(access, a);
  }
  bool write = req.method != "GET" && req.method != "HEAD";
  if (access == Access::kNone || (write && access != Access::kReadWrite)) {
    return HttpResponse::Json(
        403, Dump({{"status", "error"},
                   {"message", std::string("Forbidden: the token has no ") +
                                   (write ? "write" : "read") + " access to " + info.scope}}));
  }
  return std::nullopt;
}

std::optional<HttpResponse> TenantSimulator::AuthorizeV1(const std::string& token_value,
                                                         const TokenSpec** token) const {
  for (const auto& t : options_.tokens) {
    if (t.api == TokenApi::kV1 && !token_value.empty() &&
        ConstantTimeEquals(t.token, token_value)) {
      *token = &t;
    }
  }
  if (*token != nullptr) return std::nullopt;
  return V1Envelope(options_.v1_auth_error_status, "Authorization Error",
                    {token_value.empty() ? "token not passed" : "Invalid token"});
}

std::optional<HttpResponse> TenantSimulator::Admit(const EndpointInfo& info,
                                                   http::Headers& headers) {
  MonoTime now = clock_.Now();
  std::vector<WindowLimiter*> limiters;
  WindowLimiter* shown = nullptr;  // the bucket whose numbers go into RateLimit-* headers
  if (info.api == TokenApi::kV1) {
    limiters.push_back(&v1_limiter_);
  } else {
    if (!info.iterator_bucket.empty()) {
      auto it = iterator_limiters_.find(info.iterator_bucket);
      if (it == iterator_limiters_.end()) {
        it = iterator_limiters_
                 .emplace(info.iterator_bucket,
                          WindowLimiter(options_.limits.iterator_requests_per_second,
                                        std::chrono::seconds(1)))
                 .first;
      }
      limiters.push_back(&it->second);
      shown = &it->second;
    }
    limiters.push_back(&v2_limiter_);
    if (shown == nullptr) shown = &v2_limiter_;
  }
  double retry_after = 0;
  bool refused = false;
  std::optional<WindowLimiter::Decision> shown_decision;
  for (auto* limiter : limiters) {
    auto d = limiter->Check(now);
    if (!d.allowed) {
      refused = true;
      retry_after = std::max(retry_after, d.retry_after_seconds);
    }
    if (limiter == shown && limiter->limit() > 0) shown_decision = d;
  }
  if (shown_decision) {
    headers["RateLimit-Limit"] = std::to_string(shown_decision->limit);
    headers["RateLimit-Remaining"] = std::to_string(refused ? 0 : shown_decision->remaining);
    headers["RateLimit-Reset"] = CeilSeconds(shown_decision->reset_seconds);
  }
  if (refused) {
    HttpResponse r = HttpResponse::Json(429, kRateLimitBody);
    r.headers["Retry-After"] = CeilSeconds(retry_after);
    return r;
  }
  for (auto* limiter : limiters) limiter->Record(now);
  return std::nullopt;
}

void TenantSimulator::SetLimits(const SimulatorLimits& l) {
  std::lock_guard<std::mutex> lock(mu_);
  options_.limits = l;
  v1_limiter_.SetLimit(l.v1_requests, l.v1_window);
  v2_limiter_.SetLimit(l.v2_requests_per_second, std::chrono::seconds(1));
  for (auto& [_, limiter] : iterator_limiters_) {
    limiter.SetLimit(l.iterator_requests_per_second, std::chrono::seconds(1));
  }
}

SimulatorLimits TenantSimulator::limits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return options_.limits;
}

// ---------------------------------------------------------------------------------------------
// URL lists (v2, reference §3)

std::string TenantSimulator::NowIso() const {
  return FormatRfc3339(clock_.WallNow(), TimePrecision::kMillis);
}

int64_t TenantSimulator::NowEpoch() const {
  return std::chrono::duration_cast<std::chrono::seconds>(clock_.WallNow().time_since_epoch())
      .count();
}

json TenantSimulator::ListJson(const UrlListState& list, bool applied_view) const {
  const std::string& name = applied_view ? list.applied->name : list.name;
  const std::string& type = applied_view ? list.applied->type : list.type;
  const auto& urls = applied_view ? list.applied->urls : list.urls;
  return json{{"id", list.id},
              {"name", name},
              {"data", {{"urls", urls}, {"type", type}, {"json_version", 2}}},
              {"modify_by", list.modify_by},
              {"modify_time", list.modify_time},
              {"modify_type", list.modify_type},
              {"pending", applied_view ? 0 : (list.pending ? 1 : 0)}};
}

namespace {

// `field=id,name` keeps only the named top-level fields (reference §3.1).
json SelectFields(json obj, const std::optional<std::string>& field) {
  if (!field || field->empty()) return obj;
  json out = json::object();
  size_t start = 0;
  while (start <= field->size()) {
    size_t comma = field->find(',', start);
    if (comma == std::string::npos) comma = field->size();
    std::string name = field->substr(start, comma - start);
    if (obj.contains(name)) out[name] = obj[name];
    start = comma + 1;
  }
  return out;
}

// A JSON body that must be an object; nullopt and `error` set otherwise.
std::optional<json> ObjectBody(const HttpRequest& req, std::optional<HttpResponse>* error) {
  auto body = ParseJson(req.body);
  if (!body.ok() || !body->is_object()) {
    *error = PolicyError(400, {"request body must be a JSON object"});
    return std::nullopt;
  }
  return *body;
}

// data.urls as strings; nullopt and `error` set when absent or malformed.
std::optional<std::vector<std::string>> UrlsOf(const json& data,
                                               std::optional<HttpResponse>* error) {
  if (!data.contains("urls") || !data["urls"].is_array()) {
    *error = PolicyError(400, {"data.urls must be an array of strings"});
    return std::nullopt;
  }
  std::vector<std::string> urls;
  for (const auto& u : data["urls"]) {
    if (!u.is_string()) {
      *error = PolicyError(400, {"data.urls must be an array of strings"});
      return std::nullopt;
    }
    urls.push_back(u.get<std::string>());
  }
  return urls;
}

// data.type when present: exact or regex.
std::optional<std::string> TypeOf(const json& data, bool required,
                                  std::optional<HttpResponse>* error) {
  if (!data.contains("type") && !required) return std::string();
  if (!data.contains("type") || !data["type"].is_string() ||
      (data["type"] != "exact" && data["type"] != "regex")) {
    *error = PolicyError(400, {"data.type must be exact or regex"});
    return std::nullopt;
  }
  return data["type"].get<std::string>();
}

}  // namespace

std::optional<HttpResponse> TenantSimulator::CheckUrls(const std::vector<std::string>& urls,
                                                       const std::string& type,
                                                       std::vector<std::string>* out) const {
  json rejected = json::array();
  std::vector<std::string> keep;
  for (const auto& url : urls) {
    EntryCheck check = type == "regex" ? CheckRegexEntry(url) : CheckExactEntry(url);
    if (check.verdict == EntryVerdict::kInvalid) {
      // OPEN (reference §9.3): the second element is taken to be the reason.
      rejected.push_back(json::array({url, check.reason}));
    } else if (check.verdict == EntryVerdict::kValid) {
      keep.push_back(url);
    }
  }
  if (!rejected.empty()) {
    // Nothing is applied when any entry is rejected (OPEN, reference §3.3; clients resend).
    return HttpResponse::Json(400, Dump({{"statusCode", 400}, {"message", rejected}}));
  }
  *out = Dedup(keep);
  return std::nullopt;
}

namespace {

std::optional<HttpResponse> CheckCaps(const std::vector<std::string>& urls,
                                      const SimulatorLimits& limits) {
  // CE never creates or leaves a list empty (it writes a placeholder URL instead); refusing an
  // empty list is the safer reading, so a client that relies on empty lists fails here first.
  if (urls.empty()) return PolicyError(400, {"data.urls must contain at least one entry"});
  if (urls.size() > limits.max_entries) {
    return PolicyError(400, {"URL list would have " + std::to_string(urls.size()) +
                             " entries; the limit is " + std::to_string(limits.max_entries)});
  }
  size_t bytes = JsonArrayBytes(urls);
  if (bytes > limits.url_list_max_bytes) {
    return PolicyError(
        400, {"URL list would be " + std::to_string(bytes) + " bytes of JSON; the limit is " +
              std::to_string(limits.url_list_max_bytes) + " bytes"});
  }
  return std::nullopt;
}

}  // namespace

TenantSimulator::UrlListState* TenantSimulator::FindList(const std::string& id_text,
                                                         std::optional<HttpResponse>* error) {
  int64_t id = 0;
  bool numeric =
      !id_text.empty() && id_text.size() < 19 &&
      std::all_of(id_text.begin(), id_text.end(), [](unsigned char c) { return std::isdigit(c); });
  if (numeric) id = std::stoll(id_text);
  auto it = numeric ? url_lists_.find(id) : url_lists_.end();
  if (it == url_lists_.end()) {
    *error = PolicyError(404, {"URL list " + id_text + " not found"});
    return nullptr;
  }
  return &it->second;
}

HttpResponse TenantSimulator::ListUrlLists(const HttpRequest& req) {
  // pending=0 reads the deployed configuration (lists never deployed are absent); otherwise
  // the latest staged state, with pending:1 on lists that have undeployed changes.
  bool applied_view = req.Query("pending").value_or("") == "0";
  json out = json::array();
  for (const auto& [id, list] : url_lists_) {
    if (applied_view && !list.applied) continue;
    out.push_back(SelectFields(ListJson(list, applied_view), req.Query("field")));
  }
  return HttpResponse::Json(200, Dump(out));
}

HttpResponse TenantSimulator::GetUrlList(const PathParams& params, const HttpRequest& req) {
  std::optional<HttpResponse> error;
  UrlListState* list = FindList(Param(params, "id"), &error);
  if (!list) return *error;
  return HttpResponse::Json(200, Dump(SelectFields(ListJson(*list, false), req.Query("field"))));
}

std::optional<TenantSimulator::ListBody> TenantSimulator::ValidListBody(
    const HttpRequest& req, int64_t self, std::optional<HttpResponse>* error) {
  auto body = ObjectBody(req, error);
  if (!body) return std::nullopt;
  auto fail = [&](std::string message) -> std::optional<ListBody> {
    *error = PolicyError(400, {std::move(message)});
    return std::nullopt;
  };
  if (!body->contains("name") || !(*body)["name"].is_string()) return fail("name is required");
  ListBody out;
  out.name = (*body)["name"].get<std::string>();
  if (auto problem = ListNameProblem(out.name)) return fail(*problem);
  if (!body->contains("data") || !(*body)["data"].is_object()) return fail("data is required");
  const json& data = (*body)["data"];
  auto urls = UrlsOf(data, error);
  if (!urls) return std::nullopt;
  auto type = TypeOf(data, true, error);
  if (!type) return std::nullopt;
  out.type = *type;
  for (const auto& [id, other] : url_lists_) {
    // Names are the key CE and the operator use (reference §3.6); refuse a second list by name
    // (unless configured not to, see SimulatorOptions::unique_url_list_names).
    if (options_.unique_url_list_names && id != self && !other.deleted && other.name == out.name) {
      return fail("a URL list named " + out.name + " already exists");
    }
  }
  if (auto bad = CheckUrls(*urls, out.type, &out.urls)) {
    *error = std::move(bad);
    return std::nullopt;
  }
  if (auto bad = CheckCaps(out.urls, options_.limits)) {
    *error = std::move(bad);
    return std::nullopt;
  }
  return out;
}

HttpResponse TenantSimulator::CreateUrlList(const HttpRequest& req, const TokenSpec& token) {
  std::optional<HttpResponse> error;
  auto body = ValidListBody(req, /*self=*/0, &error);
  if (!body) return *error;
  UrlListState list;
  list.id = next_list_id_++;
  list.name = std::move(body->name);
  list.type = std::move(body->type);
  list.urls = std::move(body->urls);
  list.pending = true;
  list.modify_type = "Created";
  list.modify_time = NowIso();
  list.modify_by = token.name;
  json created = json::array({ListJson(list, false)});
  url_lists_[list.id] = std::move(list);
  return HttpResponse::Json(201, Dump(created));
}

HttpResponse TenantSimulator::PutUrlList(const PathParams& params, const HttpRequest& req,
                                         const TokenSpec& token) {
  std::optional<HttpResponse> error;
  UrlListState* list = FindList(Param(params, "id"), &error);
  if (!list) return *error;
  if (list->deleted)
    return PolicyError(400, {"URL list " + Param(params, "id") + " is pending deletion"});
  auto body = ValidListBody(req, list->id, &error);
  if (!body) return *error;
  list->name = std::move(body->name);
  list->type = std::move(body->type);
  list->urls = std::move(body->urls);
  list->pending = true;
  if (list->applied) list->modify_type = "Edited";
  list->modify_time = NowIso();
  list->modify_by = token.name;
  return HttpResponse::Json(200, Dump(ListJson(*list, false)));
}

HttpResponse TenantSimulator::PatchUrlList(const PathParams& params, const HttpRequest& req,
                                           const TokenSpec& token) {
  std::string action = Param(params, "action");
  if (action != "append" && action != "replace") {
    // Only append and replace exist (reference §3.1); anything else is an unknown route.
    return HttpResponse::Json(404, Dump({{"statusCode", 404},
                                         {"message", "Cannot PATCH " + req.path},
                                         {"error", "Not Found"}}));
  }
  std::optional<HttpResponse> error;
  UrlListState* list = FindList(Param(params, "id"), &error);
  if (!list) return *error;
  if (list->deleted)
    return PolicyError(400, {"URL list " + Param(params, "id") + " is pending deletion"});
  auto body = ObjectBody(req, &error);
  if (!body) return *error;
  if (!body->contains("data") || !(*body)["data"].is_object()) {
    return PolicyError(400, {"data is required"});
  }
  const json& data = (*body)["data"];
  auto urls = UrlsOf(data, &error);
  if (!urls) return *error;
  auto type = TypeOf(data, false, &error);
  if (!type) return *error;
  std::string new_type = type->empty() ? list->type : *type;
  if (action == "append" && new_type != list->type) {
    return PolicyError(400, {"data.type " + new_type + " does not match the list's type " +
                             list->type + "; use replace or PUT to change it"});
  }
  std::vector<std::string> clean;
  if (auto bad = CheckUrls(*urls, new_type, &clean)) return *bad;
  std::vector<std::string> result;
  if (action == "append") {
    // OPEN (reference §3.6): append is taken to have set semantics that keep insertion order.
    result = list->urls;
    result.insert(result.end(), clean.begin(), clean.end());
    result = Dedup(result);
  } else {
    result = std::move(clean);
  }
  if (auto bad = CheckCaps(result, options_.limits)) return *bad;
  list->urls = std::move(result);
  list->type = new_type;
  list->pending = true;
  if (list->applied) list->modify_type = "Edited";
  list->modify_time = NowIso();
  list->modify_by = token.name;
  return HttpResponse::Json(200, Dump(ListJson(*list, false)));
}

HttpResponse TenantSimulator::DeleteUrlList(const PathParams& params, const TokenSpec& token) {
  std::optional<HttpResponse> error;
  UrlListState* list = FindList(Param(params, "id"), &error);
  if (!list) return *error;
  list->deleted = true;
  list->pending = true;
  list->modify_type = "Deleted";
  list->modify_time = NowIso();
  list->modify_by = token.name;
  return HttpResponse::Json(200, Dump(ListJson(*list, false)));
}

HttpResponse TenantSimulator::Deploy() {
  json deployed = json::array();
  for (auto it = url_lists_.begin(); it != url_lists_.end();) {
    UrlListState& list = it->second;
    if (!list.pending) {
      ++it;
      continue;
    }
    if (list.deleted) {
      it = url_lists_.erase(it);
      continue;
    }
    list.applied = UrlListState::Applied{list.name, list.type, list.urls};
    list.pending = false;
    deployed.push_back(ListJson(list, false));
    ++it;
  }
  return HttpResponse::Json(200, Dump(deployed));
}

// ---------------------------------------------------------------------------------------------
// File-hash lists (v1, reference §4)

HttpResponse TenantSimulator::UpdateFileHashList(const std::map<std::string, std::string>& params) {
  auto name_it = params.find("name");
  auto list_it = params.find("list");
  std::vector<std::string> missing;
  if (name_it == params.end() || name_it->second.empty()) missing.push_back("name not passed");
  if (list_it == params.end() || list_it->second.empty()) missing.push_back("list not passed");
  if (!missing.empty()) return V1Envelope(200, "General Error", missing);
  auto found = file_hash_lists_.find(name_it->second);
  if (found == file_hash_lists_.end()) {
    // The list must exist: the API cannot create one (reference §4).
    return V1Envelope(200, "General Error",
                      {"File hash list " + name_it->second + " does not exist"});
  }
  FileHashListState& state = found->second;
  if (state.pending) {
    return V1Envelope(200, "General Error",
                      {"There is already a pending change for file hash list " + name_it->second});
  }
  std::vector<std::string> hashes;
  std::vector<std::string> invalid;
  const std::string& list = list_it->second;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    std::string h = list.substr(start, comma - start);
    h.erase(0, h.find_first_not_of(" \t"));
    h.erase(h.find_last_not_of(" \t") + 1);
    start = comma + 1;
    if (h.empty()) continue;
    if (!IsFileHash(h)) {
      invalid.push_back("Invalid hash: " + h);
      continue;
    }
    hashes.push_back(Lower(h));
  }
  if (!invalid.empty()) {
    if (invalid.size() > 10) {
      size_t more = invalid.size() - 10;
      invalid.resize(10);
      invalid.push_back("and " + std::to_string(more) + " more invalid hashes");
    }
    return V1Envelope(200, "General Error", invalid);
  }
  hashes = Dedup(hashes);
  if (hashes.empty()) return V1Envelope(200, "General Error", {"list not passed"});
  if (hashes.size() > options_.limits.max_entries) {
    return V1Envelope(
        200, "General Error",
        {"Maximum number of entries is " + std::to_string(options_.limits.max_entries)});
  }
  if (JsonArrayBytes(hashes) > options_.limits.file_hash_list_max_bytes) {
    return V1Envelope(
        200, "General Error",
        {"Maximum size of the list is " +
         std::to_string(options_.limits.file_hash_list_max_bytes / (1024 * 1024)) + "MB"});
  }
  std::set<std::string> current;
  for (const auto& h : state.hashes) current.insert(Lower(h));
  if (current == std::set<std::string>(hashes.begin(), hashes.end())) {
    return V1Envelope(200, "General Error", {kDuplicateHashes});
  }
  // Replace semantics: the new list is the whole list (reference §4). The change takes effect at
  // once: there is no apply step for hash lists (OPEN §9.6; a pending state can be injected
  // through /__sim/filehashlists to exercise the "already a pending change" error).
  state.hashes = std::move(hashes);
  ++state.updates;
  return HttpResponse::Json(
      200, R"({"status":"success","msg":"File Filter Profile updated successfully"})");
}

// ---------------------------------------------------------------------------------------------
// Alert iterator (v2 data export, reference §5.1)

HttpResponse TenantSimulator::IterateAlerts(const PathParams& params, const HttpRequest& req) {
  std::string type = Param(params, "type");
  auto index = req.Query("index");
  auto operation = req.Query("operation");
  if (!index || index->empty()) return IteratorError(400, "index is required");
  if (!operation || operation->empty()) return IteratorError(400, "operation is required");
  auto page = alerts_.Iterate(type, *index, *operation, NowEpoch());
  if (!page.ok()) return IteratorError(400, page.status().message());
  return HttpResponse::Json(200, Dump({{"ok", 1},
                                       {"result", page->result},
                                       {"wait_time", page->wait_time},
                                       {"timestamp_hwm", page->timestamp_hwm}}));
}

// ---------------------------------------------------------------------------------------------
// /__sim/ control plane

json TenantSimulator::UrlListsSnapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  json out = json::array();
  for (const auto& [id, list] : url_lists_) {
    json applied = nullptr;
    if (list.applied) {
      applied = {
          {"name", list.applied->name}, {"type", list.applied->type}, {"urls", list.applied->urls}};
    }
    out.push_back({{"id", id},
                   {"name", list.name},
                   {"type", list.type},
                   {"urls", list.urls},
                   {"applied", applied},
                   {"pending", list.pending},
                   {"deleted", list.deleted},
                   {"modifyType", list.modify_type},
                   {"modifyBy", list.modify_by},
                   {"sizeBytes", JsonArrayBytes(list.urls)}});
  }
  return {{"urlLists", out}};
}

json TenantSimulator::FileHashListsSnapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  json out = json::array();
  for (const auto& [name, list] : file_hash_lists_) {
    out.push_back({{"name", name},
                   {"hashes", list.hashes},
                   {"pending", list.pending},
                   {"updates", list.updates},
                   {"sizeBytes", JsonArrayBytes(list.hashes)}});
  }
  return {{"fileHashLists", out}};
}

Status TenantSimulator::CreateFileHashList(const std::string& name,
                                           const std::vector<std::string>& hashes, bool pending) {
  if (name.empty()) return InvalidArgumentError("name must not be empty");
  for (const auto& h : hashes) {
    if (!IsFileHash(h)) return InvalidArgumentError("not an md5 or sha256: " + h);
  }
  std::lock_guard<std::mutex> lock(mu_);
  FileHashListState& state = file_hash_lists_[name];
  state.hashes = hashes;
  state.pending = pending;
  return Status::Ok();
}

size_t TenantSimulator::SeedAlerts(const std::string& type, const std::vector<json>& alerts) {
  std::lock_guard<std::mutex> lock(mu_);
  return alerts_.Add(type, alerts, NowEpoch());
}

size_t TenantSimulator::GenerateAlerts(const std::string& type, size_t count, int64_t start,
                                       int64_t interval) {
  std::lock_guard<std::mutex> lock(mu_);
  return alerts_.Generate(type, count, start, interval);
}

void TenantSimulator::AddFault(Fault fault) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.push_back(std::move(fault));
}

void TenantSimulator::ClearFaults() {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.clear();
}

void TenantSimulator::Log(LogEntry entry) {
  std::lock_guard<std::mutex> lock(mu_);
  entry.seq = next_log_seq_++;
  log_.push_back(std::move(entry));
  if (log_.size() > kMaxLogEntries) log_.pop_front();
}

void TenantSimulator::ClearRequestLog() {
  std::lock_guard<std::mutex> lock(mu_);
  log_.clear();
}

json TenantSimulator::RequestLog() const {
  std::lock_guard<std::mutex> lock(mu_);
  json requests = json::array();
  json endpoints = json::object();
  for (const auto& e : log_) {
    requests.push_back({{"seq", e.seq},
                        {"time", e.time},
                        {"wall", e.wall},
                        {"method", e.method},
                        {"path", e.path},
                        {"endpoint", e.endpoint},
                        {"status", e.status},
                        {"requestBytes", e.request_bytes},
                        {"responseBytes", e.response_bytes},
                        {"fault", e.fault},
                        {"userAgent", e.user_agent},
                        {"operation", e.operation}});
    json& ep = endpoints[e.endpoint];
    if (ep.is_null()) {
      ep = {
          {"requests", 0}, {"requestBytes", 0}, {"responseBytes", 0}, {"statuses", json::object()}};
    }
    ep["requests"] = ep["requests"].get<size_t>() + 1;
    ep["requestBytes"] = ep["requestBytes"].get<size_t>() + e.request_bytes;
    ep["responseBytes"] = ep["responseBytes"].get<size_t>() + e.response_bytes;
    std::string code = std::to_string(e.status);
    ep["statuses"][code] = ep["statuses"].value(code, 0) + 1;
  }
  return {{"requests", requests}, {"endpoints", endpoints}, {"total", log_.size()}};
}

}  // namespace cte::tenantsim
