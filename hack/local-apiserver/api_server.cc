#include "hack/local-apiserver/api_server.h"

#include <re2/re2.h>

#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "hack/local-apiserver/protobuf_decode.h"
#include "hack/local-apiserver/schema.h"
#include "hack/local-apiserver/selectors.h"
#include "hack/local-apiserver/table.h"
#include "operator/core/base64.h"
#include "operator/core/json_util.h"
#include "operator/core/time_format.h"

namespace cte::apiserver {
namespace {

using nlohmann::json;

constexpr const char* kAdminPrefix = "/__local";

std::string Now() { return FormatRfc3339(std::chrono::system_clock::now()); }

std::string RandomString(size_t n, std::string_view alphabet) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<size_t> dist(0, alphabet.size() - 1);
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(alphabet[dist(rng)]);
  return s;
}

std::string NewUid() {
  std::string h = RandomString(32, "0123456789abcdef");
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-4" + h.substr(13, 3) + "-a" + h.substr(17, 3) +
         "-" + h.substr(20, 12);
}

// A metav1.Status error body.
json StatusBody(int code, const std::string& reason, const std::string& message,
                json details = json()) {
  json s = {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", json::object()},
            {"status", "Failure"}, {"message", message}, {"reason", reason},
            {"code", code}};
  if (!details.is_null()) s["details"] = details;
  return s;
}

void SendStatus(http::ResponseWriter& w, int code, const std::string& reason,
                const std::string& message, json details = json()) {
  w.Send(http::HttpResponse::Json(code, StatusBody(code, reason, message, details).dump()));
}

json Details(const ResourceType& t, const std::string& name) {
  json d = {{"name", name}, {"kind", t.plural}};
  if (!t.group.empty()) d["group"] = t.group;
  return d;
}

json NotFound(const ResourceType& t, const std::string& name) {
  return StatusBody(404, "NotFound", t.QualifiedResource() + " \"" + name + "\" not found",
                    Details(t, name));
}

json Invalid(const ResourceType& t, const std::string& name, const std::vector<FieldError>& errs) {
  std::string msg = t.QualifiedKind() + " \"" + name + "\" is invalid: ";
  if (errs.size() == 1) {
    msg += errs[0].message;
  } else {
    msg += "[";
    for (size_t i = 0; i < errs.size(); ++i) msg += (i ? ", " : "") + errs[i].message;
    msg += "]";
  }
  json causes = json::array();
  for (const auto& e : errs) {
    std::string detail = e.message.substr(std::min(e.message.size(), e.field.size() + 2));
    causes.push_back({{"reason", e.reason}, {"message", detail}, {"field", e.field}});
  }
  json d = {{"name", name}, {"kind", t.kind}, {"causes", causes}};
  if (!t.group.empty()) d["group"] = t.group;
  return StatusBody(422, "Invalid", msg, d);
}

bool IsDns1123Subdomain(const std::string& s) {
  // RE2: linear time whatever the input (std::regex backtracks, recursively, on long names).
  static const re2::RE2 re("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  return !s.empty() && s.size() <= 253 && re2::RE2::FullMatch(s, re);
}

bool WantsTable(const http::HttpRequest& req) {
  return req.Header("Accept").find("as=Table") != std::string::npos;
}

// Metadata-only reads (controller-runtime's metadata informers):
// Accept: application/json;as=PartialObjectMetadata[List];g=meta.k8s.io;v=v1
bool WantsMetadata(const http::HttpRequest& req) {
  return req.Header("Accept").find("as=PartialObjectMetadata") != std::string::npos;
}

json PartialObjectMetadata(const json& obj) {
  return {{"kind", "PartialObjectMetadata"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", obj.value("metadata", json::object())}};
}

// A boolean query parameter as kube-apiserver reads it (Go's strconv.ParseBool): clients spell
// them differently (kubectl "true", the Python client "True", some "1"). Absent or unreadable:
// false.
bool QueryBool(const http::HttpRequest& req, std::string_view name) {
  static const std::set<std::string, std::less<>> kTrue = {"1", "t", "T", "TRUE", "true", "True"};
  auto v = req.Query(name);
  return v && kTrue.count(*v) > 0;
}

// Removes "$"-prefixed strategic-merge directives so the rest can be applied as a merge patch.
void StripDirectives(json& patch) {
  if (patch.is_object()) {
    for (auto it = patch.begin(); it != patch.end();) {
      if (!it.key().empty() && it.key()[0] == '$') {
        it = patch.erase(it);
      } else {
        StripDirectives(it.value());
        ++it;
      }
    }
  } else if (patch.is_array()) {
    for (auto& item : patch) StripDirectives(item);
  }
}

// The part of an object whose change bumps metadata.generation: everything but metadata and
// status.
json SpecPart(const json& obj) {
  json copy = obj;
  copy.erase("metadata");
  copy.erase("status");
  return copy;
}

}  // namespace

struct ApiServer::ResourceRequest {
  const http::HttpRequest* http = nullptr;
  ResourceTypePtr type;
  std::string ns;  // empty for cluster-scoped or all-namespace requests
  std::string name;
  std::string subresource;
  bool dry_run = false;
};

ApiServer::ApiServer(ApiServerOptions options) : options_(options), store_(options.history_limit) {
  // kube-apiserver's request body limit (--max-request-bytes' default): 3 MiB.
  http::RouteOptions limits;
  limits.max_body_bytes = 3 << 20;
  http_.Route(
      "*", "/{rest...}",
      [this](const http::HttpRequest& req, const http::PathParams&, http::ResponseWriter& w) {
        Handle(req, w);
      },
      limits);
  // Namespaces every cluster starts with.
  auto lock = store_.Lock();
  for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    json obj = {{"apiVersion", "v1"},
                {"kind", "Namespace"},
                {"metadata",
                 {{"name", ns},
                  {"uid", NewUid()},
                  {"creationTimestamp", Now()},
                  {"labels", {{"kubernetes.io/metadata.name", ns}}}}},
                {"spec", {{"finalizers", {"kubernetes"}}}},
                {"status", {{"phase", "Active"}}}};
    store_.Put(registry_.Find("", "v1", "namespaces")->Id(), obj, "ADDED");
  }
}

ApiServer::~ApiServer() { Stop(); }

Status ApiServer::Start(const std::string& host, int port) { return http_.Start(host, port); }

void ApiServer::Stop() {
  stopping_ = true;
  store_.NotifyAll();
  http_.Stop();
}

std::string ApiServer::url() const { return "http://127.0.0.1:" + std::to_string(port()); }

Status ApiServer::WriteKubeconfig(const std::string& path) const {
  std::ofstream out(path);
  if (!out) return UnavailableError("cannot write kubeconfig " + path);
  out << "apiVersion: v1\nkind: Config\nclusters:\n- name: local\n  cluster:\n    server: " << url()
      << "\ncontexts:\n- name: local\n  context:\n    cluster: local\n    user: local\n"
         "    namespace: default\ncurrent-context: local\nusers:\n- name: local\n  user: {}\n";
  return out ? Status::Ok() : UnavailableError("cannot write kubeconfig " + path);
}

// ---------------------------------------------------------------------------------------------
// Routing

void ApiServer::Handle(const http::HttpRequest& req, http::ResponseWriter& w) {
  if (req.path.rfind(kAdminPrefix, 0) == 0) return HandleAdmin(req, w);

  {
    std::lock_guard<std::mutex> lock(faults_mu_);
    ++request_counts_[req.method + " " + req.path];
  }
  if (ApplyFault(req, w)) return;

  const std::string& p = req.path;
  if (p == "/version" || p == "/version/") {
    w.Send(http::HttpResponse::Json(200,
                                    json{{"major", "1"},
                                         {"minor", "32"},
                                         {"gitVersion", "v1.32.0-cte-local"},
                                         {"gitCommit", "0000000000000000000000000000000000000000"},
                                         {"gitTreeState", "clean"},
                                         {"buildDate", "2026-01-01T00:00:00Z"},
                                         {"goVersion", "n/a"},
                                         {"compiler", "c++"},
                                         {"platform", "linux/amd64"}}
                                        .dump()));
    return;
  }
  if (p == "/healthz" || p == "/readyz" || p == "/livez") {
    w.Send(http::HttpResponse::Text(200, "ok"));
    return;
  }
  if (p.rfind("/openapi/v3", 0) == 0) return ServeOpenApi(req, w);
  if (p == "/openapi/v2") {
    // kubectl reads v2 only as protobuf and only when v3 lacks what it needs; we serve v3 fully.
    SendStatus(w, 404, "NotFound", "the server could not find the requested resource");
    return;
  }

  // Split into segments.
  std::vector<std::string> s;
  {
    std::stringstream ss(p);
    std::string seg;
    while (std::getline(ss, seg, '/')) {
      if (!seg.empty()) s.push_back(seg);
    }
  }
  std::string group, version;
  size_t i = 0;
  if (!s.empty() && s[0] == "api") {
    if (s.size() == 1) return ServeDiscovery(req, w);
    version = s[1];
    i = 2;
  } else if (!s.empty() && s[0] == "apis") {
    if (s.size() <= 3) return ServeDiscovery(req, w);
    group = s[1];
    version = s[2];
    i = 3;
  } else {
    SendStatus(w, 404, "NotFound", "the server could not find the requested resource");
    return;
  }
  if (i == s.size()) return ServeDiscovery(req, w);

  ResourceRequest r;
  r.http = &req;
  std::vector<std::string> rest(s.begin() + static_cast<long>(i), s.end());
  std::string plural;
  if (rest[0] == "namespaces" && rest.size() >= 3 &&
      !(rest.size() == 3 && (rest[2] == "status" || rest[2] == "finalize"))) {
    r.ns = rest[1];
    plural = rest[2];
    if (rest.size() > 3) r.name = rest[3];
    if (rest.size() > 4) r.subresource = rest[4];
  } else {
    plural = rest[0];
    if (rest.size() > 1) r.name = rest[1];
    if (rest.size() > 2) r.subresource = rest[2];
  }
  r.type = registry_.Find(group, version, plural);
  if (!r.type) {
    SendStatus(w, 404, "NotFound", "the server could not find the requested resource");
    return;
  }
  if (!r.type->namespaced && !r.ns.empty()) {
    SendStatus(w, 404, "NotFound", "the server could not find the requested resource");
    return;
  }
  if (!r.subresource.empty() && !(r.subresource == "status" && r.type->has_status)) {
    SendStatus(w, 404, "NotFound", "the server could not find the requested resource");
    return;
  }
  if (auto dry = req.Query("dryRun"); dry && *dry == "All") r.dry_run = true;

  const std::string& m = req.method;
  if (r.name.empty()) {
    if (m == "GET") {
      if (QueryBool(req, "watch")) return Watch(r, w);
      return List(r, w);
    }
    if (m == "POST") return Create(r, w);
    if (m == "DELETE") return DeleteCollection(r, w);
  } else {
    if (m == "GET") return Get(r, w);
    if (m == "PUT") return Update(r, w);
    if (m == "PATCH") return Patch(r, w);
    if (m == "DELETE" && r.subresource.empty()) return Delete(r, w);
  }
  SendStatus(w, 405, "MethodNotAllowed",
             "the server does not allow this method on the requested resource");
}

// ---------------------------------------------------------------------------------------------
// Fault injection and request log: POST /__local/faults with a JSON body, GET /__local/requests.

void ApiServer::HandleAdmin(const http::HttpRequest& req, http::ResponseWriter& w) {
  if (req.path == std::string(kAdminPrefix) + "/requests" && req.method == "GET") {
    std::lock_guard<std::mutex> lock(faults_mu_);
    w.Send(http::HttpResponse::Json(200, json(request_counts_).dump()));
    return;
  }
  if (req.path != std::string(kAdminPrefix) + "/faults" || req.method != "POST") {
    SendStatus(w, 404, "NotFound", "unknown admin endpoint " + req.path);
    return;
  }
  auto body = ParseJson(req.body);
  if (!body.ok() || !body->is_object()) {
    SendStatus(w, 400, "BadRequest", "body must be a JSON object with an \"action\"");
    return;
  }
  std::string action = body->value("action", "");
  if (action == "closeWatches") {
    ++watch_close_generation_;
    store_.NotifyAll();
  } else if (action == "silenceWatches") {
    ++watch_silence_generation_;
    store_.NotifyAll();
  } else if (action == "compact") {
    auto lock = store_.Lock();
    store_.Compact();
  } else if (action == "respond") {
    Fault f;
    f.path_prefix = body->value("pathPrefix", "");
    f.method = body->value("method", "");
    f.code = body->value("code", 500);
    f.remaining = body->value("count", 1);
    f.retry_after_seconds = body->value("retryAfterSeconds", 1.0);
    if (f.path_prefix.empty() ||
        (f.code != 409 && f.code != 429 && f.code != 500 && f.code != 503)) {
      SendStatus(w, 400, "BadRequest", "respond needs pathPrefix and code 409, 429, 500 or 503");
      return;
    }
    std::lock_guard<std::mutex> lock(faults_mu_);
    faults_.push_back(f);
  } else if (action == "delay") {
    Fault f;
    f.path_prefix = body->value("pathPrefix", "");
    f.method = body->value("method", "");
    f.remaining = body->value("count", 1);
    f.delay_ms = body->value("delayMs", 0);
    if (f.path_prefix.empty() || f.delay_ms <= 0 || f.delay_ms > 600'000) {
      SendStatus(w, 400, "BadRequest", "delay needs pathPrefix and delayMs from 1 to 600000");
      return;
    }
    std::lock_guard<std::mutex> lock(faults_mu_);
    faults_.push_back(f);
  } else if (action == "clear") {
    std::lock_guard<std::mutex> lock(faults_mu_);
    faults_.clear();
    request_counts_.clear();
  } else {
    SendStatus(w, 400, "BadRequest",
               "unknown action \"" + action +
                   "\"; use closeWatches, silenceWatches, compact, respond, delay or clear");
    return;
  }
  w.Send(http::HttpResponse::Json(200, R"({"ok":true})"));
}

bool ApiServer::ApplyFault(const http::HttpRequest& req, http::ResponseWriter& w) {
  Fault f;
  {
    std::lock_guard<std::mutex> lock(faults_mu_);
    auto it = std::find_if(faults_.begin(), faults_.end(), [&](const Fault& x) {
      return req.path.rfind(x.path_prefix, 0) == 0 && (x.method.empty() || x.method == req.method);
    });
    if (it == faults_.end()) return false;
    f = *it;
    if (--it->remaining <= 0) faults_.erase(it);
  }
  if (f.delay_ms > 0) {
    // A slow server: the request is still served (and applied) after the wait, even when the
    // client has given up on it meanwhile, as a real overloaded API server would.
    std::this_thread::sleep_for(std::chrono::milliseconds(f.delay_ms));
    return false;
  }
  switch (f.code) {
    case 409:
      SendStatus(w, 409, "Conflict",
                 "Operation cannot be fulfilled: the object has been modified; please apply your "
                 "changes to the latest version and try again (injected)");
      break;
    case 429: {
      int secs = std::max(1, static_cast<int>(f.retry_after_seconds + 0.999));
      json body = StatusBody(429, "TooManyRequests",
                             "the server has received too many requests "
                             "and has asked us to try again later (injected)",
                             json{{"retryAfterSeconds", secs}});
      auto resp = http::HttpResponse::Json(429, body.dump());
      resp.headers["Retry-After"] = std::to_string(secs);
      w.Send(resp);
      break;
    }
    case 503:
      SendStatus(w, 503, "ServiceUnavailable",
                 "the server is currently unable to handle the request (injected)");
      break;
    default:
      SendStatus(w, 500, "InternalError",
                 "an error on the server (\"injected\") has prevented the request from succeeding");
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Discovery

json ApiServer::ResourceList(const std::string& group, const std::string& version) const {
  json resources = json::array();
  for (const auto& t : registry_.All()) {
    if (t->group != group || t->version != version) continue;
    json r = {
        {"name", t->plural},
        {"singularName", t->singular},
        {"namespaced", t->namespaced},
        {"kind", t->kind},
        {"verbs",
         {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}}};
    if (!t->short_names.empty()) r["shortNames"] = t->short_names;
    if (!t->categories.empty()) r["categories"] = t->categories;
    resources.push_back(r);
    if (t->has_status) {
      resources.push_back({{"name", t->plural + "/status"},
                           {"singularName", ""},
                           {"namespaced", t->namespaced},
                           {"kind", t->kind},
                           {"verbs", {"get", "patch", "update"}}});
    }
  }
  return {{"kind", "APIResourceList"},
          {"apiVersion", "v1"},
          {"groupVersion", group.empty() ? version : group + "/" + version},
          {"resources", resources}};
}

void ApiServer::ServeDiscovery(const http::HttpRequest& req, http::ResponseWriter& w) {
  std::vector<std::string> s;
  {
    std::stringstream ss(req.path);
    std::string seg;
    while (std::getline(ss, seg, '/')) {
      if (!seg.empty()) s.push_back(seg);
    }
  }
  auto groups = registry_.Groups();
  if (s.size() == 1 && s[0] == "api") {
    json addr = json::array(
        {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", "127.0.0.1:" + std::to_string(port())}}});
    w.Send(http::HttpResponse::Json(
        200,
        json{{"kind", "APIVersions"}, {"versions", {"v1"}}, {"serverAddressByClientCIDRs", addr}}
            .dump()));
    return;
  }
  if (s.size() == 2 && s[0] == "api") {
    if (s[1] != "v1")
      return SendStatus(w, 404, "NotFound", "the server could not find the requested resource");
    w.Send(http::HttpResponse::Json(200, ResourceList("", "v1").dump()));
    return;
  }
  auto group_json = [](const std::string& name, const std::vector<std::string>& versions) {
    json vs = json::array();
    for (const auto& v : versions) vs.push_back({{"groupVersion", name + "/" + v}, {"version", v}});
    return json{{"name", name}, {"versions", vs}, {"preferredVersion", vs[0]}};
  };
  if (s.size() == 1) {  // /apis
    json list = json::array();
    for (const auto& [g, versions] : groups) {
      if (!g.empty()) list.push_back(group_json(g, versions));
    }
    w.Send(http::HttpResponse::Json(
        200, json{{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", list}}.dump()));
    return;
  }
  auto it = groups.find(s[1]);
  if (s[1].empty() || it == groups.end()) {
    return SendStatus(w, 404, "NotFound", "the server could not find the requested resource");
  }
  if (s.size() == 2) {
    json g = group_json(s[1], it->second);
    g["kind"] = "APIGroup";
    g["apiVersion"] = "v1";
    w.Send(http::HttpResponse::Json(200, g.dump()));
    return;
  }
  if (std::find(it->second.begin(), it->second.end(), s[2]) == it->second.end()) {
    return SendStatus(w, 404, "NotFound", "the server could not find the requested resource");
  }
  w.Send(http::HttpResponse::Json(200, ResourceList(s[1], s[2]).dump()));
}

// ---------------------------------------------------------------------------------------------
// Reads

void ApiServer::SendObject(const ResourceRequest& r, http::ResponseWriter& w, int code,
                           const json& obj, const std::vector<std::string>& warnings) {
  json body = obj;
  if (WantsMetadata(*r.http) && obj.value("kind", "") != "Status")
    body = PartialObjectMetadata(obj);
  if (WantsTable(*r.http) && obj.value("kind", "") != "Status") {
    body = {{"kind", "Table"},
            {"apiVersion", "meta.k8s.io/v1"},
            {"metadata", {{"resourceVersion", obj["metadata"].value("resourceVersion", "")}}},
            {"columnDefinitions", TableColumns(*r.type)},
            {"rows", json::array({TableRow(*r.type, obj,
                                           r.http->Query("includeObject").value_or("Metadata"),
                                           std::chrono::system_clock::now())})}};
  }
  auto resp = http::HttpResponse::Json(code, body.dump());
  std::string warning_header;
  for (const auto& warning : warnings) {
    warning_header +=
        (warning_header.empty() ? "" : ", ") + std::string("299 - \"") + warning + "\"";
  }
  if (!warning_header.empty()) resp.headers["Warning"] = warning_header;
  w.Send(resp);
}

void ApiServer::Get(const ResourceRequest& r, http::ResponseWriter& w) {
  json obj;
  {
    auto lock = store_.Lock();
    const json* found = store_.Get(r.type->Id(), r.ns, r.name);
    if (!found) {
      w.Send(http::HttpResponse::Json(404, NotFound(*r.type, r.name).dump()));
      return;
    }
    obj = *found;
  }
  SendObject(r, w, 200, obj);
}

void ApiServer::List(const ResourceRequest& r, http::ResponseWriter& w) {
  const auto& req = *r.http;
  auto labels = LabelSelector::Parse(req.Query("labelSelector").value_or(""));
  if (!labels.ok()) return SendStatus(w, 400, "BadRequest", labels.status().message());
  auto fields = FieldSelector::Parse(req.Query("fieldSelector").value_or(""));
  if (!fields.ok()) return SendStatus(w, 400, "BadRequest", fields.status().message());
  size_t limit = 0;
  if (auto l = req.Query("limit"); l && !l->empty()) limit = std::strtoull(l->c_str(), nullptr, 10);
  // The continue token is the base64 of the last key returned; the list resumes after it.
  std::string after;
  if (auto c = req.Query("continue"); c && !c->empty()) {
    after = *c;
  }

  json items = json::array();
  std::string rv, next;
  {
    auto lock = store_.Lock();
    rv = std::to_string(store_.CurrentRv());
    std::optional<std::string> ns;
    if (r.type->namespaced && !r.ns.empty()) ns = r.ns;
    for (const json* obj : store_.List(r.type->Id(), ns)) {
      const auto& md = (*obj)["metadata"];
      std::string key = md.value("namespace", "") + "/" + md.value("name", "");
      if (!after.empty() && key <= after) continue;
      if (!labels->Matches(md.value("labels", json::object())) || !fields->Matches(*obj)) continue;
      if (limit > 0 && items.size() == limit) {
        next = std::string(items.back()["metadata"].value("namespace", "")) + "/" +
               items.back()["metadata"].value("name", "");
        break;
      }
      items.push_back(*obj);
    }
  }
  json meta = {{"resourceVersion", rv}};
  if (!next.empty()) meta["continue"] = next;
  json body;
  if (WantsTable(req)) {
    json rows = json::array();
    auto now = std::chrono::system_clock::now();
    std::string include = req.Query("includeObject").value_or("Metadata");
    for (const auto& item : items) rows.push_back(TableRow(*r.type, item, include, now));
    body = {{"kind", "Table"},
            {"apiVersion", "meta.k8s.io/v1"},
            {"metadata", meta},
            {"columnDefinitions", TableColumns(*r.type)},
            {"rows", rows}};
  } else if (WantsMetadata(req)) {
    for (auto& item : items) item = PartialObjectMetadata(item);
    body = {{"kind", "PartialObjectMetadataList"},
            {"apiVersion", "meta.k8s.io/v1"},
            {"metadata", meta},
            {"items", items}};
  } else {
    body = {{"kind", r.type->list_kind},
            {"apiVersion", r.type->ApiVersion()},
            {"metadata", meta},
            {"items", items}};
  }
  w.Send(http::HttpResponse::Json(200, body.dump()));
}

void ApiServer::Watch(const ResourceRequest& r, http::ResponseWriter& w) {
  const auto& req = *r.http;
  auto labels = LabelSelector::Parse(req.Query("labelSelector").value_or(""));
  if (!labels.ok()) return SendStatus(w, 400, "BadRequest", labels.status().message());
  auto fields = FieldSelector::Parse(req.Query("fieldSelector").value_or(""));
  if (!fields.ok()) return SendStatus(w, 400, "BadRequest", fields.status().message());
  bool bookmarks = QueryBool(req, "allowWatchBookmarks");
  bool table = WantsTable(req);
  bool metadata_only = WantsMetadata(req);
  std::string include = req.Query("includeObject").value_or("Metadata");
  auto timeout = std::chrono::seconds(1800);
  if (auto t = req.Query("timeoutSeconds"); t && !t->empty()) {
    // Clamped to a day: a huge value must not overflow `now + timeout` below.
    long long seconds = std::strtoll(t->c_str(), nullptr, 10);
    if (seconds > 0) timeout = std::chrono::seconds(std::min<long long>(seconds, 86400));
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const uint64_t close_gen = watch_close_generation_;
  const uint64_t silence_gen = watch_silence_generation_;
  const std::string rv_param = req.Query("resourceVersion").value_or("");
  const std::string type_id = r.type->Id();
  bool first_table = true;

  auto matches = [&](const json& obj) {
    const auto& md = obj["metadata"];
    if (r.type->namespaced && !r.ns.empty() && md.value("namespace", "") != r.ns) return false;
    return labels->Matches(md.value("labels", json::object())) && fields->Matches(obj);
  };
  auto encode = [&](const std::string& type, const json& obj) {
    json payload = obj;
    if (metadata_only && type != "ERROR") payload = PartialObjectMetadata(obj);
    if (table && type != "BOOKMARK" && type != "ERROR") {
      payload = {
          {"kind", "Table"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", {{"resourceVersion", obj["metadata"].value("resourceVersion", "")}}},
          {"columnDefinitions", first_table ? TableColumns(*r.type) : json::array()},
          {"rows",
           json::array({TableRow(*r.type, obj, include, std::chrono::system_clock::now())})}};
      first_table = false;
    }
    return json{{"type", type}, {"object", payload}}.dump() + "\n";
  };
  auto gone = [&](uint64_t asked, uint64_t oldest) {
    return encode("ERROR", StatusBody(410, "Expired",
                                      "too old resource version: " + std::to_string(asked) + " (" +
                                          std::to_string(oldest) + ")"));
  };

  std::vector<std::string> initial;
  uint64_t last = 0;
  bool expired = false;
  {
    auto lock = store_.Lock();
    if (rv_param.empty() || rv_param == "0") {
      std::optional<std::string> ns;
      if (r.type->namespaced && !r.ns.empty()) ns = r.ns;
      for (const json* obj : store_.List(type_id, ns)) {
        if (matches(*obj)) initial.push_back(encode("ADDED", *obj));
      }
      last = store_.CurrentRv();
    } else {
      last = std::strtoull(rv_param.c_str(), nullptr, 10);
      if (last < store_.CompactedRv()) {
        initial.push_back(gone(last, store_.CompactedRv()));
        expired = true;
      }
    }
  }
  http::Headers headers;
  headers["Content-Type"] = "application/json";
  if (!w.StartStream(200, headers)) return;
  for (const auto& line : initial) {
    if (!w.WriteChunk(line)) return;
  }
  if (expired) return;

  auto next_bookmark = std::chrono::steady_clock::now() + options_.bookmark_interval;
  while (!stopping_) {
    if (watch_close_generation_ != close_gen) {
      w.Abort();
      return;
    }
    if (w.Closed()) return;
    bool silenced = watch_silence_generation_ != silence_gen;
    std::vector<std::string> out;
    {
      auto lock = store_.Lock();
      if (!silenced) {
        if (last < store_.CompactedRv()) {
          out.push_back(gone(last, store_.CompactedRv()));
          expired = true;
        } else {
          for (const auto& e : store_.EventsAfter(last, type_id)) {
            if (matches(e.object)) out.push_back(encode(e.event, e.object));
          }
          last = store_.CurrentRv();
        }
      }
      if (out.empty() && !expired) {
        auto now = std::chrono::steady_clock::now();
        if (now >= deadline) break;
        if (bookmarks && !silenced && now >= next_bookmark) {
          out.push_back(
              encode("BOOKMARK", {{"kind", r.type->kind},
                                  {"apiVersion", r.type->ApiVersion()},
                                  {"metadata", {{"resourceVersion", std::to_string(last)}}}}));
          next_bookmark = now + options_.bookmark_interval;
        } else {
          // Wake at least every 200 ms to notice a closed peer or an injected fault.
          auto wake = std::min({deadline, next_bookmark, now + std::chrono::milliseconds(200)});
          store_.WaitForChange(lock, silenced ? UINT64_MAX : last, wake);
          continue;
        }
      }
    }
    // All pending events in one chunk: one syscall instead of one per event.
    std::string batch;
    for (const auto& line : out) batch += line;
    if (!w.WriteChunk(batch)) return;
    if (expired) return;
  }
}

// ---------------------------------------------------------------------------------------------
// Writes

namespace {

// The metav1.Time and metav1.MicroTime fields of the built-in kinds the operator writes. Clients
// spell timestamps in several ways (Python's isoformat() writes "+00:00", some send nanoseconds);
// kube-apiserver decodes them into time values and always writes them back in one form, so a
// client that compares what it wrote with what it reads back sees the server's spelling.
struct TimeField {
  const char* kind;
  const char* group;
  const char* pointer;
  TimePrecision precision;
};
constexpr TimeField kTimeFields[] = {
    {"Lease", "coordination.k8s.io", "/spec/acquireTime", TimePrecision::kMicros},
    {"Lease", "coordination.k8s.io", "/spec/renewTime", TimePrecision::kMicros},
    {"Event", "events.k8s.io", "/eventTime", TimePrecision::kMicros},
    {"Event", "events.k8s.io", "/series/lastObservedTime", TimePrecision::kMicros},
    {"Event", "events.k8s.io", "/deprecatedFirstTimestamp", TimePrecision::kSeconds},
    {"Event", "events.k8s.io", "/deprecatedLastTimestamp", TimePrecision::kSeconds},
    {"Event", "", "/eventTime", TimePrecision::kMicros},
    {"Event", "", "/series/lastObservedTime", TimePrecision::kMicros},
    {"Event", "", "/firstTimestamp", TimePrecision::kSeconds},
    {"Event", "", "/lastTimestamp", TimePrecision::kSeconds},
};

}  // namespace

Status ApiServer::NormalizeTimes(const ResourceType& t, json& object) {
  for (const auto& f : kTimeFields) {
    if (t.kind != f.kind || t.group != f.group) continue;
    json::json_pointer ptr(f.pointer);
    if (!object.contains(ptr) || object[ptr].is_null()) continue;
    const json& value = object[ptr];
    auto parsed = value.is_string() ? ParseRfc3339(value.get<std::string>()) : std::nullopt;
    if (!parsed) {
      return InvalidArgumentError(std::string(t.kind) + " in version \"" + t.version +
                                  "\" cannot be handled as a " + t.kind + ": parsing time " +
                                  value.dump() + " as RFC 3339 failed (field " +
                                  std::string(f.pointer + 1) + ")");
    }
    object[ptr] = FormatRfc3339(*parsed, f.precision);
  }
  return Status::Ok();
}

ApiServer::WriteResult ApiServer::CommitWrite(const ResourceRequest& r, const json* existing,
                                              json next, const std::string& manager,
                                              const std::string& operation) {
  const ResourceType& t = *r.type;
  const auto& req = *r.http;
  auto fail = [](int code, json body) { return WriteResult{code, std::move(body), {}}; };
  if (!next.is_object()) {
    return fail(400,
                StatusBody(400, "BadRequest", "the body of the request was not a JSON object"));
  }
  std::string body_kind = next.value("kind", "");
  std::string body_api = next.value("apiVersion", "");
  if ((!body_kind.empty() && body_kind != t.kind) ||
      (!body_api.empty() && body_api != t.ApiVersion())) {
    return fail(400, StatusBody(400, "BadRequest",
                                "the API version in the data (" + body_api +
                                    ") does not match the "
                                    "expected API version (" +
                                    t.ApiVersion() + ")"));
  }
  next["kind"] = t.kind;
  next["apiVersion"] = t.ApiVersion();
  if (!next.contains("metadata") || !next["metadata"].is_object())
    next["metadata"] = json::object();
  if (Status s = NormalizeTimes(t, next); !s.ok()) {
    return fail(400, StatusBody(400, "BadRequest", s.message()));
  }
  json& md = next["metadata"];

  // Namespace: from the URL; the body may repeat it but not contradict it.
  if (t.namespaced) {
    std::string body_ns = md.value("namespace", "");
    if (!body_ns.empty() && body_ns != r.ns) {
      return fail(400,
                  StatusBody(400, "BadRequest",
                             "the namespace of the provided object does not match the namespace "
                             "sent on the request"));
    }
    md["namespace"] = r.ns;
  } else {
    md.erase("namespace");
  }

  std::vector<std::string> warnings;
  const bool is_status_write = r.subresource == "status";
  if (existing) {
    const json& old_md = (*existing)["metadata"];
    std::string name = md.value("name", "");
    if (name != old_md["name"]) {
      return fail(400, StatusBody(400, "BadRequest",
                                  "the name of the object (" + name +
                                      ") does not match the name on the URL (" +
                                      old_md["name"].get<std::string>() + ")"));
    }
    std::string rv = md.value("resourceVersion", "");
    // Custom resources, unlike some built-ins, refuse an unconditional update.
    if (rv.empty() && t.custom && req.method == "PUT") {
      return fail(422, Invalid(t, name,
                               {{"FieldValueInvalid", "metadata.resourceVersion",
                                 "metadata.resourceVersion: Invalid value: 0x0: must be specified "
                                 "for an update"}}));
    }
    if (!rv.empty() && rv != old_md.value("resourceVersion", "")) {
      return fail(409, StatusBody(409, "Conflict",
                                  "Operation cannot be fulfilled on " + t.QualifiedResource() +
                                      " \"" + name +
                                      "\": the object has been modified; please apply your "
                                      "changes to the latest version and try again",
                                  Details(t, name)));
    }
    std::string uid = md.value("uid", "");
    if (!uid.empty() && uid != old_md.value("uid", "")) {
      return fail(409, StatusBody(409, "Conflict",
                                  "Precondition failed: UID in precondition: " + uid +
                                      ", UID in object meta: " + old_md.value("uid", "")));
    }
    if (t.has_status) {
      if (is_status_write) {
        // /status changes only status; metadata and spec stay as stored.
        json merged = *existing;
        if (next.contains("status")) {
          merged["status"] = next["status"];
        } else {
          merged.erase("status");
        }
        next = merged;
      } else if (existing->contains("status")) {
        next["status"] = (*existing)["status"];
      } else {
        next.erase("status");
      }
    }
    json& nmd = next["metadata"];
    for (const char* k : {"uid", "creationTimestamp", "deletionTimestamp",
                          "deletionGracePeriodSeconds", "generation", "namespace"}) {
      if (old_md.contains(k)) {
        nmd[k] = old_md[k];
      } else {
        nmd.erase(k);
      }
    }
    if (old_md.contains("managedFields")) nmd["managedFields"] = old_md["managedFields"];
    if (old_md.contains("deletionTimestamp")) {
      // A terminating object accepts no new finalizers.
      json old_f = old_md.value("finalizers", json::array());
      for (const auto& f : nmd.value("finalizers", json::array())) {
        if (std::find(old_f.begin(), old_f.end(), f) == old_f.end()) {
          return fail(422, Invalid(t, name,
                                   {{"FieldValueForbidden", "metadata.finalizers",
                                     "metadata.finalizers: Forbidden: no new finalizers can "
                                     "be added if the object is being deleted, found new "
                                     "finalizers []string{" +
                                         f.dump() + "}"}}));
        }
      }
    }
  } else {
    if (!md.contains("name") || md["name"].get<std::string>().empty()) {
      std::string prefix = md.value("generateName", "");
      if (prefix.empty()) {
        return fail(422,
                    Invalid(t, "",
                            {{"FieldValueRequired", "metadata.name",
                              "metadata.name: Required value: name or generateName is required"}}));
      }
      md["name"] = prefix + RandomString(5, "bcdfghjklmnpqrstvwxz2456789");
    }
    md["uid"] = NewUid();
    md["creationTimestamp"] = Now();
    if (t.custom || t.has_status) md["generation"] = 1;
    md.erase("deletionTimestamp");
    md.erase("deletionGracePeriodSeconds");
    md.erase("resourceVersion");
    md.erase("managedFields");
    if (t.has_status && t.custom) next.erase("status");
  }
  // Re-read through `next`: the status branch above reassigned it, so `md` may dangle.
  std::string name = next["metadata"].value("name", "");
  if (!IsDns1123Subdomain(name)) {
    return fail(
        422,
        Invalid(t, name,
                {{"FieldValueInvalid", "metadata.name",
                  "metadata.name: Invalid value: \"" + name +
                      "\": a lowercase RFC 1123 subdomain must consist of lower "
                      "case alphanumeric characters, '-' or '.', and must start "
                      "and end with an alphanumeric character (e.g. "
                      "'example.com', regex used for validation is "
                      "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"}}));
  }
  if (t.namespaced && !existing &&
      !store_.Get(registry_.Find("", "v1", "namespaces")->Id(), "", r.ns)) {
    return fail(404, StatusBody(404, "NotFound", "namespaces \"" + r.ns + "\" not found",
                                json{{"name", r.ns}, {"kind", "namespaces"}}));
  }

  // Kind-specific normalisation.
  if (t.kind == "Secret" && t.group.empty()) {
    if (next.contains("stringData") && next["stringData"].is_object()) {
      for (const auto& [k, v] : next["stringData"].items()) {
        next["data"][k] = Base64Encode(v.is_string() ? v.get<std::string>() : v.dump());
      }
    }
    next.erase("stringData");
    if (!next.contains("type")) next["type"] = "Opaque";
  }
  if (t.kind == "Namespace" && t.group.empty() && !next.contains("status")) {
    next["status"] = {{"phase", "Active"}};
  }

  // Schema: prune, strict field validation, default, validate.
  if (!t.schema.is_null()) {
    std::vector<std::string> unknown;
    PruneUnknownFields(next, t.schema, unknown);
    std::string mode = req.Query("fieldValidation").value_or("Warn");
    if (!unknown.empty()) {
      if (mode == "Strict") {
        std::string msg = t.kind + " in version \"" + t.version + "\" cannot be handled as a " +
                          t.kind + ": strict decoding error: ";
        for (size_t i = 0; i < unknown.size(); ++i) {
          msg += (i ? ", " : "") + std::string("unknown field \"") + unknown[i] + "\"";
        }
        return fail(400, StatusBody(400, "BadRequest", msg));
      }
      if (mode != "Ignore") {
        for (const auto& u : unknown) warnings.push_back("unknown field \"" + u + "\"");
      }
    }
    ApplyDefaults(next, t.schema);
    auto errs = ValidateAgainstSchema(next, t.schema);
    if (!errs.empty()) return fail(422, Invalid(t, name, errs));
  }
  if (t.kind == "CustomResourceDefinition") {
    if (Status s = ValidateCrd(next); !s.ok()) {
      std::string field = s.message().substr(0, s.message().find(':'));
      return fail(422, Invalid(t, name, {{"FieldValueInvalid", field, s.message()}}));
    }
    const auto& names = next["spec"]["names"];
    json stored = json::array();
    for (const auto& v : next["spec"]["versions"]) {
      if (v.value("storage", false)) stored.push_back(v["name"]);
    }
    next["status"] = {{"acceptedNames", names},
                      {"storedVersions", stored},
                      {"conditions",
                       {{{"type", "NamesAccepted"},
                         {"status", "True"},
                         {"reason", "NoConflicts"},
                         {"message", "no conflicts found"},
                         {"lastTransitionTime", Now()}},
                        {{"type", "Established"},
                         {"status", "True"},
                         {"reason", "InitialNamesAccepted"},
                         {"message", "the initial names have been accepted"},
                         {"lastTransitionTime", Now()}}}}};
    if (existing && existing->contains("status")) {
      // Keep the original transition times: the names were accepted when first registered.
      next["status"]["conditions"] = (*existing)["status"]["conditions"];
    }
  }

  // Generation and no-op detection.
  if (existing) {
    if (t.custom || t.has_status) {
      int64_t gen = (*existing)["metadata"].value("generation", 1);
      if (SpecPart(next) != SpecPart(*existing)) ++gen;
      next["metadata"]["generation"] = gen;
    }
    json a = next, b = *existing;
    a["metadata"].erase("resourceVersion");
    b["metadata"].erase("resourceVersion");
    a["metadata"].erase("managedFields");
    b["metadata"].erase("managedFields");
    if (a == b) return {200, *existing, warnings};
  }

  // Field manager bookkeeping (entries only; per-field ownership is not tracked).
  if (!manager.empty()) {
    json& mf = next["metadata"]["managedFields"];
    if (!mf.is_array()) mf = json::array();
    json kept = json::array();
    for (const auto& e : mf) {
      if (!(e.value("manager", "") == manager && e.value("operation", "") == operation &&
            e.value("subresource", "") == r.subresource)) {
        kept.push_back(e);
      }
    }
    mf = kept;
    json entry = {{"manager", manager}, {"operation", operation},   {"apiVersion", t.ApiVersion()},
                  {"time", Now()},      {"fieldsType", "FieldsV1"}, {"fieldsV1", json::object()}};
    if (!r.subresource.empty()) entry["subresource"] = r.subresource;
    mf.push_back(entry);
  }

  if (r.dry_run) return {existing ? 200 : 201, next, warnings};

  // A terminating object whose last finalizer was removed goes away now.
  if (existing && next["metadata"].contains("deletionTimestamp") &&
      next["metadata"].value("finalizers", json::array()).empty()) {
    json removed = store_.Remove(t.Id(), r.ns, name);
    return {200, removed, warnings};
  }
  if (t.kind == "CustomResourceDefinition") {
    if (Status s = registry_.RegisterCrd(next); !s.ok()) {
      return fail(422, Invalid(t, name, {{"FieldValueInvalid", "spec", s.message()}}));
    }
  }
  json stored = store_.Put(t.Id(), next, existing ? "MODIFIED" : "ADDED");
  return {existing ? 200 : 201, stored, warnings};
}

static std::string FieldManager(const http::HttpRequest& req, const std::string& fallback) {
  std::string m = req.Query("fieldManager").value_or("");
  if (!m.empty()) return m;
  std::string ua = req.Header("User-Agent");
  ua = ua.substr(0, ua.find('/'));
  return ua.empty() ? fallback : ua;
}

void ApiServer::Create(const ResourceRequest& r, http::ResponseWriter& w) {
  std::string ct = r.http->Header("Content-Type");
  json body;
  if (ct.find("protobuf") != std::string::npos) {
    auto decoded = DecodeKubernetesProtobuf(r.http->body);
    if (!decoded.ok())
      return SendStatus(w, 415, "UnsupportedMediaType", decoded.status().message());
    body = *decoded;
  } else if (ct.find("yaml") != std::string::npos) {
    auto docs = ParseYamlDocuments(r.http->body);
    if (!docs.ok() || docs->size() != 1)
      return SendStatus(w, 400, "BadRequest", "the body must be one YAML document");
    body = (*docs)[0];
  } else {
    auto parsed = ParseJson(r.http->body);
    if (!parsed.ok()) return SendStatus(w, 400, "BadRequest", parsed.status().message());
    body = *parsed;
  }
  WriteResult result;
  {
    auto lock = store_.Lock();
    std::string name =
        body.is_object() ? body.value("/metadata/name"_json_pointer, std::string()) : "";
    if (!name.empty() && store_.Get(r.type->Id(), r.ns, name)) {
      result = {409, StatusBody(409, "AlreadyExists",
                                r.type->QualifiedResource() + " \"" + name + "\" already exists",
                                Details(*r.type, name))};
    } else {
      result = CommitWrite(r, nullptr, body, FieldManager(*r.http, "unknown"), "Update");
    }
  }
  if (result.body.value("kind", "") == "Status") {
    w.Send(http::HttpResponse::Json(result.code, result.body.dump()));
  } else {
    SendObject(r, w, result.code, result.body, result.warnings);
  }
}

void ApiServer::Update(const ResourceRequest& r, http::ResponseWriter& w) {
  auto parsed = ParseJson(r.http->body);
  if (!parsed.ok()) return SendStatus(w, 400, "BadRequest", parsed.status().message());
  WriteResult result;
  {
    auto lock = store_.Lock();
    const json* existing = store_.Get(r.type->Id(), r.ns, r.name);
    if (!existing) {
      result = {404, NotFound(*r.type, r.name)};
    } else {
      json copy = *existing;
      result = CommitWrite(r, &copy, *parsed, FieldManager(*r.http, "unknown"), "Update");
    }
  }
  if (result.body.value("kind", "") == "Status") {
    w.Send(http::HttpResponse::Json(result.code, result.body.dump()));
  } else {
    SendObject(r, w, result.code, result.body, result.warnings);
  }
}

void ApiServer::Patch(const ResourceRequest& r, http::ResponseWriter& w) {
  const auto& req = *r.http;
  std::string ct = req.Header("Content-Type");
  ct = ct.substr(0, ct.find(';'));
  const bool apply = ct == "application/apply-patch+yaml";
  json patch;
  if (apply) {
    auto docs = ParseYamlDocuments(req.body);
    if (!docs.ok() || docs->size() != 1) {
      return SendStatus(
          w, 400, "BadRequest",
          docs.ok() ? "apply patch must be a single object" : docs.status().message());
    }
    patch = (*docs)[0];
    if (req.Query("fieldManager").value_or("").empty()) {
      return SendStatus(
          w, 422, "Invalid",
          "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is "
          "required for apply patch");
    }
  } else {
    auto parsed = ParseJson(req.body);
    if (!parsed.ok()) return SendStatus(w, 400, "BadRequest", parsed.status().message());
    patch = *parsed;
  }
  WriteResult result;
  {
    auto lock = store_.Lock();
    const json* existing = store_.Get(r.type->Id(), r.ns, r.name);
    if (!existing) {
      if (apply && r.subresource.empty()) {
        if (patch.is_object()) {
          patch["metadata"]["name"] = r.name;
        }
        result = CommitWrite(r, nullptr, patch, req.Query("fieldManager").value_or(""), "Apply");
      } else {
        result = {404, NotFound(*r.type, r.name)};
      }
    } else {
      json current = *existing;
      json next = current;
      std::string error;
      try {
        if (ct == "application/json-patch+json") {
          if (!patch.is_array()) {
            error = "json patch must be an array of operations";
          } else {
            next = current.patch(patch);
          }
        } else if (ct == "application/merge-patch+json" ||
                   ct == "application/strategic-merge-patch+json" || apply) {
          if (!patch.is_object()) {
            error = "patch must be a JSON object";
          } else {
            StripDirectives(patch);
            // A resourceVersion in the patch is a precondition, checked by CommitWrite.
            next.merge_patch(patch);
            if (!(patch.contains("metadata") && patch["metadata"].contains("resourceVersion"))) {
              next["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"];
            }
          }
        } else {
          result = {415, StatusBody(415, "UnsupportedMediaType",
                                    "the body of the request was in an unknown format - accepted "
                                    "media types include: application/json-patch+json, "
                                    "application/merge-patch+json, application/apply-patch+yaml")};
        }
      } catch (const json::exception& e) {
        // A failed `test` operation or a bad path.
        result = {422, StatusBody(422, "Invalid",
                                  std::string("the server rejected our request due "
                                              "to an error in our request: ") +
                                      e.what())};
      }
      if (!error.empty()) result = {400, StatusBody(400, "BadRequest", error)};
      if (result.body.is_null()) {
        result = CommitWrite(r, &current, next, FieldManager(req, "unknown"),
                             apply ? "Apply" : "Update");
      }
    }
  }
  if (result.body.value("kind", "") == "Status") {
    w.Send(http::HttpResponse::Json(result.code, result.body.dump()));
  } else {
    SendObject(r, w, result.code == 201 ? 201 : 200, result.body, result.warnings);
  }
}

ApiServer::WriteResult ApiServer::DeleteLocked(const ResourceRequest& r, const json& existing,
                                               const json& options) {
  const ResourceType& t = *r.type;
  const json& md = existing["metadata"];
  std::string name = md["name"];
  if (options.contains("preconditions")) {
    const json& pre = options["preconditions"];
    if (pre.contains("uid") && pre["uid"].is_string() && pre["uid"] != md.value("uid", "")) {
      return {409, StatusBody(409, "Conflict",
                              "Precondition failed: UID in precondition: " +
                                  pre["uid"].get<std::string>() +
                                  ", UID in object meta: " + md.value("uid", ""))};
    }
    if (pre.contains("resourceVersion") && pre["resourceVersion"].is_string() &&
        pre["resourceVersion"] != md.value("resourceVersion", "")) {
      return {409, StatusBody(
                       409, "Conflict",
                       "Operation cannot be fulfilled on " + t.QualifiedResource() + " \"" + name +
                           "\": the object has been modified; please apply your changes to the "
                           "latest version and try again")};
    }
  }
  if (r.dry_run) return {200, existing};
  if (!md.value("finalizers", json::array()).empty()) {
    if (md.contains("deletionTimestamp")) return {200, existing};
    json next = existing;
    next["metadata"]["deletionTimestamp"] = Now();
    next["metadata"]["deletionGracePeriodSeconds"] = 0;
    return {200, store_.Put(t.Id(), next, "MODIFIED")};
  }
  if (t.kind == "CustomResourceDefinition") {
    for (const auto& removed : registry_.UnregisterCrd(name)) RemoveCrdObjects(removed);
  }
  if (t.kind == "Namespace" && t.group.empty()) {
    // Namespace content goes with it (finalizers on content are honoured by marking it deleted).
    for (const auto& type : registry_.All()) {
      if (!type->namespaced) continue;
      std::vector<json> objs;
      for (const json* o : store_.List(type->Id(), name)) objs.push_back(*o);
      for (const auto& o : objs) {
        if (o["metadata"].value("finalizers", json::array()).empty()) {
          store_.Remove(type->Id(), name, o["metadata"]["name"]);
        } else if (!o["metadata"].contains("deletionTimestamp")) {
          json next = o;
          next["metadata"]["deletionTimestamp"] = Now();
          store_.Put(type->Id(), next, "MODIFIED");
        }
      }
    }
  }
  return {200, store_.Remove(t.Id(), r.ns, name)};
}

void ApiServer::RemoveCrdObjects(const ResourceTypePtr& type) {
  std::vector<json> objs;
  for (const json* o : store_.List(type->Id(), std::nullopt)) objs.push_back(*o);
  for (const auto& o : objs) {
    store_.Remove(type->Id(), o["metadata"].value("namespace", ""), o["metadata"]["name"]);
  }
}

void ApiServer::Delete(const ResourceRequest& r, http::ResponseWriter& w) {
  json options = json::object();
  if (!r.http->body.empty()) {
    auto parsed = ParseJson(r.http->body);
    if (!parsed.ok()) return SendStatus(w, 400, "BadRequest", parsed.status().message());
    options = *parsed;
  }
  WriteResult result;
  {
    auto lock = store_.Lock();
    const json* existing = store_.Get(r.type->Id(), r.ns, r.name);
    if (!existing) {
      result = {404, NotFound(*r.type, r.name)};
    } else {
      json copy = *existing;
      result = DeleteLocked(r, copy, options);
    }
  }
  if (result.body.value("kind", "") == "Status") {
    w.Send(http::HttpResponse::Json(result.code, result.body.dump()));
  } else {
    SendObject(r, w, result.code, result.body);
  }
}

void ApiServer::DeleteCollection(const ResourceRequest& r, http::ResponseWriter& w) {
  auto labels = LabelSelector::Parse(r.http->Query("labelSelector").value_or(""));
  if (!labels.ok()) return SendStatus(w, 400, "BadRequest", labels.status().message());
  auto fields = FieldSelector::Parse(r.http->Query("fieldSelector").value_or(""));
  if (!fields.ok()) return SendStatus(w, 400, "BadRequest", fields.status().message());
  json items = json::array();
  {
    auto lock = store_.Lock();
    std::optional<std::string> ns;
    if (r.type->namespaced && !r.ns.empty()) ns = r.ns;
    std::vector<json> objs;
    for (const json* o : store_.List(r.type->Id(), ns)) {
      if (labels->Matches((*o)["metadata"].value("labels", json::object())) &&
          fields->Matches(*o)) {
        objs.push_back(*o);
      }
    }
    for (const auto& o : objs) {
      ResourceRequest one = r;
      one.ns = o["metadata"].value("namespace", "");
      one.name = o["metadata"]["name"];
      auto res = DeleteLocked(one, o, json::object());
      if (res.code == 200) items.push_back(res.body);
    }
  }
  w.Send(http::HttpResponse::Json(200, json{{"kind", r.type->list_kind},
                                            {"apiVersion", r.type->ApiVersion()},
                                            {"metadata", json::object()},
                                            {"items", items}}
                                           .dump()));
}

}  // namespace cte::apiserver
