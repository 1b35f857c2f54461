#include "operator/netskope/responses.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "operator/core/json_util.h"

namespace cte::netskope {
namespace {

using nlohmann::json;

constexpr size_t kMaxSummary = 300;
constexpr std::string_view kDuplicateHashes = "Duplicate request, no change in file hashes";

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool Contains(const std::string& haystack, std::string_view needle) {
  return Lower(haystack).find(Lower(std::string(needle))) != std::string::npos;
}

// A scalar as text: numbers keep every digit (ids beyond 2^53 stay exact).
std::string Text(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_number_unsigned()) return std::to_string(j.get<uint64_t>());
  if (j.is_number_integer()) return std::to_string(j.get<int64_t>());
  if (j.is_number_float() || j.is_boolean()) return j.dump();
  return "";
}

std::string Field(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() ? std::string() : Text(*it);
}

std::string Truncate(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  if (s.size() > kMaxSummary) s = s.substr(0, kMaxSummary) + "...";
  return s;
}

std::string JoinMessages(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (!v.is_array()) return v.is_null() ? "" : v.dump();
  std::string out;
  for (const auto& item : v) {
    std::string part =
        item.is_array() && !item.empty() ? JoinMessages(item[0]) : JoinMessages(item);
    if (item.is_array() && item.size() > 1) part += " (" + JoinMessages(item[1]) + ")";
    out += (out.empty() ? "" : "; ") + part;
  }
  return out;
}

StatusOr<UrlList> UrlListFromJson(const json& j) {
  if (!j.is_object()) return InternalError("URL list answer is not a JSON object");
  UrlList list;
  if (auto it = j.find("id"); it != j.end()) {
    if (it->is_number_integer()) {
      list.id = it->get<int64_t>();
    } else if (it->is_string() && !it->get<std::string>().empty()) {
      list.id = std::strtoll(it->get<std::string>().c_str(), nullptr, 10);
    } else {
      return InternalError("URL list id is not an integer");
    }
  }
  list.name = Field(j, "name");
  if (auto data = j.find("data"); data != j.end() && data->is_object()) {
    list.has_data = true;
    if (auto urls = data->find("urls"); urls != data->end() && urls->is_array()) {
      for (const auto& u : *urls) {
        if (u.is_string()) list.urls.push_back(u.get<std::string>());
      }
    }
    auto type = ParseUrlListType(Field(*data, "type"));
    if (type.ok()) list.type = *type;
    if (auto v = data->find("json_version"); v != data->end() && v->is_number_integer()) {
      list.json_version = v->get<int>();
    }
  }
  list.modify_by = Field(j, "modify_by");
  list.modify_time = Field(j, "modify_time");
  list.modify_type = Field(j, "modify_type");
  if (auto p = j.find("pending"); p != j.end()) {
    list.pending = (p->is_number() && p->get<double>() != 0) || (p->is_boolean() && p->get<bool>());
  }
  return list;
}

StatusOr<json> Parse(std::string_view body) {
  auto j = ParseJson(body);
  if (!j.ok()) return InternalError("tenant answer is not JSON: " + j.status().message());
  return j;
}

}  // namespace

StatusOr<UrlList> ParseUrlList(std::string_view body) {
  auto j = Parse(body);
  if (!j.ok()) return j.status();
  return UrlListFromJson(*j);
}

StatusOr<std::vector<UrlList>> ParseUrlLists(std::string_view body) {
  auto j = Parse(body);
  if (!j.ok()) return j.status();
  if (!j->is_array()) return InternalError("URL list answer is not a JSON array");
  std::vector<UrlList> out;
  for (const auto& item : *j) {
    auto list = UrlListFromJson(item);
    if (!list.ok()) return list.status();
    out.push_back(std::move(*list));
  }
  return out;
}

StatusOr<UrlList> ParseCreatedUrlList(std::string_view body) {
  auto j = Parse(body);
  if (!j.ok()) return j.status();
  if (j->is_array()) {
    if (j->empty()) return InternalError("create answered an empty array");
    return UrlListFromJson((*j)[0]);
  }
  return UrlListFromJson(*j);
}

std::vector<RejectedUrl> ParseRejectedUrls(std::string_view body) {
  std::vector<RejectedUrl> out;
  auto j = ParseJson(body);
  if (!j.ok() || !j->is_object()) return out;
  auto message = j->find("message");
  if (message == j->end() || !message->is_array()) return out;
  for (const auto& item : *message) {
    // Items are [url, reason]; SO and CE read item[0] only (the reason is OPEN, §9.3).
    if (!item.is_array() || item.empty() || !item[0].is_string()) continue;
    out.push_back({item[0].get<std::string>(), item.size() > 1 ? Text(item[1]) : ""});
  }
  return out;
}

StatusOr<FileHashListResult> ParseFileHashListAnswer(const http::ClientResponse& response) {
  auto j = ParseJson(response.body);
  bool envelope = j.ok() && j->is_object() && j->contains("status");
  if (envelope && (*j)["status"] == "error") {
    std::string code = Field(*j, "errorCode");
    std::string errors = JoinMessages(j->value("errors", json()));
    if (errors.empty()) errors = JoinMessages(j->value("message", json()));
    if (Contains(errors, kDuplicateHashes)) return FileHashListResult{true};
    std::string msg = Truncate("updateFileHashList: " + (code.empty() ? "" : code + ": ") + errors);
    if (Contains(code, "Authorization") || Contains(errors, "token")) {
      return Status(StatusCode::kUnauthenticated, msg);
    }
    if (response.status == 429 || Contains(errors, "rate limit")) {
      Status s(StatusCode::kResourceExhausted, msg);
      if (auto ra = RetryAfterSeconds(response)) s.WithRetryAfter(*ra);
      return s;
    }
    if (Contains(errors, "pending")) return Status(StatusCode::kUnavailable, msg);
    if (Contains(errors, "does not exist") || Contains(errors, "not found")) {
      return Status(StatusCode::kNotFound, msg);
    }
    if (response.status >= 500) return Status(StatusCode::kUnavailable, msg);
    return Status(StatusCode::kInvalidArgument, msg);
  }
  if (response.status < 200 || response.status >= 300) {
    return ClassifyHttpError(Api::kV1, response);
  }
  if (!envelope || (*j)["status"] != "success") {
    return InternalError("updateFileHashList: unexpected answer: " + Truncate(response.body));
  }
  return FileHashListResult{false};
}

Alert ParseAlert(const json& a) {
  Alert out;
  if (!a.is_object()) return out;
  out.raw = a;
  out.id = Field(a, "_id");
  if (auto ts = a.find("timestamp"); ts != a.end()) {
    if (ts->is_number()) {
      out.timestamp = static_cast<int64_t>(ts->get<double>());
    } else if (ts->is_string()) {
      out.timestamp = std::strtoll(ts->get<std::string>().c_str(), nullptr, 10);
    }
  }
  out.alert_type = Field(a, "alert_type");
  out.alert_name = Field(a, "alert_name");
  out.severity = Field(a, "severity");
  out.object = Field(a, "object");
  out.file_type = Field(a, "file_type");
  out.md5 = Field(a, "md5");
  out.sha256 = Field(a, "sha256");
  out.local_md5 = Field(a, "local_md5");
  out.local_sha256 = Field(a, "local_sha256");
  out.local_sha1 = Field(a, "local_sha1");
  out.malware_name = Field(a, "malware_name");
  out.malware_type = Field(a, "malware_type");
  out.malware_id = Field(a, "malware_id");
  out.malware_severity = Field(a, "malware_severity");
  out.url = Field(a, "url");
  if (auto cats = a.find("malsite_category"); cats != a.end()) {
    if (cats->is_array()) {
      for (const auto& c : *cats) out.malsite_category.push_back(Text(c));
    } else if (cats->is_string()) {
      out.malsite_category.push_back(cats->get<std::string>());
    }
  }
  out.malsite_country = Field(a, "malsite_country");
  out.user = Field(a, "user");
  out.app = Field(a, "app");
  out.hostname = Field(a, "hostname");
  out.srcip = Field(a, "srcip");
  out.dstip = Field(a, "dstip");
  out.incident_id = Field(a, "incident_id");
  out.transaction_id = Field(a, "transaction_id");
  return out;
}

StatusOr<AlertPage> ParseAlertPage(std::string_view body) {
  if (body.empty()) return UnavailableError("alert iterator: empty answer");
  auto j = ParseJson(body);
  if (!j.ok() || !j->is_object())
    return UnavailableError("alert iterator: answer is not a JSON object");
  auto ok = j->find("ok");
  if (ok == j->end() || !ok->is_number() || ok->get<double>() != 1) {
    return UnavailableError("alert iterator: ok != 1: " + Truncate(ErrorSummary(body)));
  }
  AlertPage page;
  if (auto result = j->find("result"); result != j->end()) {
    if (!result->is_array()) return UnavailableError("alert iterator: result is not an array");
    page.alerts.reserve(result->size());
    for (const auto& a : *result) page.alerts.push_back(ParseAlert(a));
  }
  if (auto w = j->find("wait_time"); w != j->end() && w->is_number()) {
    page.wait_time = static_cast<int64_t>(w->get<double>());
  }
  if (auto h = j->find("timestamp_hwm"); h != j->end() && h->is_number()) {
    page.timestamp_hwm = static_cast<int64_t>(h->get<double>());
  }
  return page;
}

std::string ErrorSummary(std::string_view body) {
  auto j = ParseJson(body);
  if (!j.ok() || !j->is_object()) return Truncate(std::string(body));
  for (const char* key : {"message", "errors", "detail", "error"}) {
    if (auto it = j->find(key); it != j->end()) {
      std::string m = JoinMessages(*it);
      if (!m.empty()) return Truncate(m);
    }
  }
  return Truncate(std::string(body));
}

Status ClassifyHttpError(Api api, const http::ClientResponse& response) {
  int code = response.status;
  std::string msg = "HTTP " + std::to_string(code) + ": " + ErrorSummary(response.body);
  if (code == 400) return Status(StatusCode::kInvalidArgument, msg);
  if (code == 401) return Status(StatusCode::kUnauthenticated, msg);
  if (code == 403) {
    return Status(api == Api::kV1 ? StatusCode::kUnauthenticated : StatusCode::kPermissionDenied,
                  msg);
  }
  if (code == 404) return Status(StatusCode::kNotFound, msg);
  if (code == 409) return Status(StatusCode::kConflict, msg);
  if (code == 429) {
    Status s(StatusCode::kResourceExhausted, msg);
    if (auto ra = RetryAfterSeconds(response)) s.WithRetryAfter(*ra);
    return s;
  }
  if (code >= 500) return Status(StatusCode::kUnavailable, msg);
  if (code >= 300 && code < 400) {
    return Status(StatusCode::kFailedPrecondition,
                  msg + " (a redirect usually means a wrong tenant URL)");
  }
  if (code >= 400) return Status(StatusCode::kInvalidArgument, msg);
  return Status::Ok();
}

Status CheckV2Body(std::string_view body) {
  auto j = ParseJson(body);
  if (j.ok() && j->is_object() && j->contains("status") && (*j)["status"] == "error") {
    return InternalError("tenant answered status:error: " + ErrorSummary(body));
  }
  return Status::Ok();
}

namespace {

std::optional<double> NumberHeader(const http::ClientResponse& response, std::string_view name) {
  std::string v = response.Header(name);
  if (v.empty()) return std::nullopt;
  char* end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  while (end && *end == ' ') ++end;
  if (end == v.c_str() || (end && *end != '\0') || d < 0) return std::nullopt;
  return d;
}

}  // namespace

std::optional<double> RetryAfterSeconds(const http::ClientResponse& response) {
  return NumberHeader(response, "Retry-After");
}

std::optional<int64_t> RateLimitRemaining(const http::ClientResponse& response) {
  auto v = NumberHeader(response, "RateLimit-Remaining");
  if (!v) return std::nullopt;
  return static_cast<int64_t>(*v);
}

std::optional<double> RateLimitResetSeconds(const http::ClientResponse& response) {
  return NumberHeader(response, "RateLimit-Reset");
}

}  // namespace cte::netskope
