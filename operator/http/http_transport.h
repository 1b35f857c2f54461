// The one client-side HTTP seam. The Kubernetes client and the Netskope tenant client build
// requests as values and hand them to an HttpTransport; tests pass a fake. The production
// implementation (cpprest_transport.h) is the only place cpprestsdk is used on the client side, so
// its heavy headers stay out of everything else.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "operator/core/status.h"
#include "operator/http/http_types.h"

namespace cte::http {

struct ClientRequest {
  ClientRequest() = default;
  // Positional construction, as in {"GET", url, {}, "", std::chrono::seconds(5)}, for the fields
  // callers set most; `repeatable` is set by name. Method and URL are both required, so a lone
  // string never turns into a request by accident.
  ClientRequest(std::string method, std::string url, Headers headers = {}, std::string body = {},
                std::chrono::milliseconds timeout = std::chrono::seconds(30))
      : method(std::move(method)),
        url(std::move(url)),
        headers(std::move(headers)),
        body(std::move(body)),
        timeout(timeout) {}

  std::string method = "GET";
  std::string url;  // absolute: scheme://host:port/path?query (already percent-encoded)
  Headers headers;
  std::string body;
  // Whole-request deadline for Send; for Stream, the longest silence tolerated between bytes
  // (zero: no limit; the caller's watchdog decides).
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  // Whether the request may reach the server twice. A pooled keep-alive connection that breaks
  // before any answer is ambiguous (the server most likely closed it while idle, but may have
  // acted on the request), and the transport may resend the request on a new connection: the
  // socket transport does for repeatable requests, cpprestsdk does for every request. Unset:
  // repeatable by method (GET, HEAD, PUT, DELETE, OPTIONS), and either transport may use a
  // pooled connection. Explicitly false: never over a pooled connection, so neither transport
  // ever sends it twice (a GET that moves server-side state, like an iterator's `next`).
  std::optional<bool> repeatable;
};

inline bool IsRepeatable(const ClientRequest& request) {
  if (request.repeatable) return *request.repeatable;
  const std::string& m = request.method;
  return m == "GET" || m == "HEAD" || m == "PUT" || m == "DELETE" || m == "OPTIONS";
}

struct ClientResponse {
  int status = 0;
  Headers headers;
  std::string body;

  std::string Header(std::string_view name) const {
    auto it = headers.find(std::string(name));
    return it == headers.end() ? std::string() : it->second;
  }
};

// Lets a caller stop a Stream from another thread (watch restart, shutdown).
//
// The transport registers a hook that breaks its connection. A hook runs under the token's lock,
// and replacing or clearing it (OnCancel) takes that lock too: once OnCancel(nullptr) returns, the
// old hook is not running and never runs again, so the transport may free what it refers to. A
// cancel racing with the end of a stream is therefore safe. Hooks must be short and must not call
// back into the token.
class CancelToken {
 public:
  void Cancel() {
    cancelled_ = true;
    std::lock_guard<std::mutex> lock(mu_);
    if (hook_) hook_();
  }
  bool cancelled() const { return cancelled_; }
  // Called by the transport: runs `hook` on Cancel() (at once if already cancelled). Waits for a
  // hook that is running to return.
  void OnCancel(std::function<void()> hook) {
    std::lock_guard<std::mutex> lock(mu_);
    hook_ = std::move(hook);
    if (cancelled_ && hook_) hook_();
  }

 private:
  std::atomic<bool> cancelled_{false};
  std::mutex mu_;
  std::function<void()> hook_;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;

  // Sends one request and reads the whole response. Thread-safe; blocks the calling thread.
  // Transport failures (refused, reset, TLS) are Unavailable; a timeout is DeadlineExceeded. Any
  // HTTP status, including 4xx/5xx, is a successful ClientResponse for the caller to classify.
  virtual StatusOr<ClientResponse> Send(const ClientRequest& request) = 0;

  // Sends a request and delivers the response body in pieces as they arrive (watches). `on_head`
  // gets the status and headers first; `on_data` gets each piece and returns false to stop.
  // Returns when the server ends the body (Ok), on a transport error, or after cancel.Cancel()
  // (Ok). Both callbacks run on the calling thread, never concurrently, and may not re-enter the
  // transport for the same request.
  virtual Status Stream(const ClientRequest& request, CancelToken& cancel,
                        const std::function<void(const ClientResponse& head)>& on_head,
                        const std::function<bool(std::string_view data)>& on_data) = 0;
};

}  // namespace cte::http
