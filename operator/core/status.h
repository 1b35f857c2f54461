// Errors as values: a small Status / StatusOr<T> modelled on absl/status/status.h.
//
// Every error has a code, and the code alone decides whether the caller may retry it
// (IsRetryable). Adapters that call libraries which throw (cpprestsdk, nlohmann/json, yaml-cpp)
// catch inside the adapter and return one of these instead.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace cte {

enum class StatusCode {
  kOk,
  kInvalidArgument,    // the request or input is malformed; terminal
  kNotFound,           // the named thing does not exist
  kAlreadyExists,      // create of something that exists
  kConflict,           // optimistic-concurrency failure; retry after re-reading
  kGone,               // a resourceVersion too old to serve (watch 410)
  kResourceExhausted,  // rate limited or over a cap; retry after a delay
  kUnauthenticated,    // missing or bad credentials; terminal until config changes
  kPermissionDenied,   // credentials lack a scope; terminal until config changes
  kUnavailable,        // transient transport or server failure; retry
  kDeadlineExceeded,   // timed out; retry
  kFailedPrecondition,
  kInternal,
};

const char* StatusCodeName(StatusCode code);

class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Transient failures that a controller should retry with backoff.
  bool IsRetryable() const;

  // Seconds the server asked us to wait before retrying (Retry-After), when it said so.
  std::optional<double> retry_after_seconds() const { return retry_after_; }
  Status& WithRetryAfter(double seconds) {
    retry_after_ = seconds;
    return *this;
  }

  std::string ToString() const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::optional<double> retry_after_;
};

inline Status InvalidArgumentError(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFoundError(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExistsError(std::string m) {
  return {StatusCode::kAlreadyExists, std::move(m)};
}
inline Status ConflictError(std::string m) { return {StatusCode::kConflict, std::move(m)}; }
inline Status UnavailableError(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status InternalError(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// Holds either a value or a non-OK Status.
template <typename T>
class StatusOr {
 public:
  StatusOr(T value) : v_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  StatusOr(Status status) : v_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }

  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace cte
