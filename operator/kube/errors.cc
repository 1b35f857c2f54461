#include "operator/kube/errors.h"

#include <nlohmann/json.hpp>

#include "operator/core/json_util.h"

namespace cte::kube {

std::optional<double> ParseRetryAfter(const std::string& value) {
  if (value.empty()) return std::nullopt;
  char* end = nullptr;
  double secs = std::strtod(value.c_str(), &end);
  if (end == value.c_str() || secs < 0) return std::nullopt;
  return secs;
}

Status StatusFromResponse(int http_status, const std::string& body,
                          const std::string& retry_after) {
  std::string message;
  std::string reason;
  std::optional<double> retry = ParseRetryAfter(retry_after);
  auto parsed_or = ParseJson(body);
  nlohmann::json parsed = parsed_or.ok() ? std::move(parsed_or).value() : nlohmann::json();
  if (parsed.is_object()) {
    message = parsed.value("message", "");
    reason = parsed.value("reason", "");
    if (!retry && parsed.contains("details") && parsed["details"].is_object() &&
        parsed["details"].contains("retryAfterSeconds") &&
        parsed["details"]["retryAfterSeconds"].is_number()) {
      retry = parsed["details"]["retryAfterSeconds"].get<double>();
    }
  }
  if (message.empty()) message = "HTTP " + std::to_string(http_status) + " " + body.substr(0, 200);
  StatusCode code;
  switch (http_status) {
    case 400:
    case 422:
      code = StatusCode::kInvalidArgument;
      break;
    case 401:
      code = StatusCode::kUnauthenticated;
      break;
    case 403:
      code = StatusCode::kPermissionDenied;
      break;
    case 404:
      code = StatusCode::kNotFound;
      break;
    case 409:
      code = reason == "AlreadyExists" ? StatusCode::kAlreadyExists : StatusCode::kConflict;
      break;
    case 410:
      code = StatusCode::kGone;
      break;
    case 429:
      code = StatusCode::kResourceExhausted;
      break;
    case 504:
      code = StatusCode::kDeadlineExceeded;
      break;
    case 502:
    case 503:
      code = StatusCode::kUnavailable;
      break;
    default:
      code = http_status >= 500 ? StatusCode::kInternal : StatusCode::kInvalidArgument;
  }
  Status s(code, message);
  if (retry) s.WithRetryAfter(*retry);
  return s;
}

}  // namespace cte::kube
