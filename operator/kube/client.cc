#include "operator/kube/client.h"

#include "operator/core/backoff.h"
#include "operator/core/json_util.h"
#include "operator/kube/errors.h"

namespace cte::kube {

KubeClient::KubeClient(KubeConfig config, http::HttpTransport& transport, Clock& clock,
                       Random& random, metrics::RestClientMetrics* metrics, ClientOptions options)
    : config_(std::move(config)),
      transport_(transport),
      clock_(clock),
      random_(random),
      metrics_(metrics),
      options_(std::move(options)) {
  size_t scheme = config_.server.find("://");
  host_ = scheme == std::string::npos ? config_.server : config_.server.substr(scheme + 3);
}

http::ClientRequest KubeClient::Build(const KubeRequest& request, Duration timeout) const {
  http::ClientRequest out;
  out.method = request.method;
  out.url = config_.server + request.Target();
  out.headers["Accept"] = request.accept;
  out.headers["User-Agent"] = options_.user_agent;
  if (!request.content_type.empty()) out.headers["Content-Type"] = request.content_type;
  if (config_.token) {
    SecretString token = config_.token->Token();
    if (!token.empty()) out.headers["Authorization"] = "Bearer " + token.Reveal();
  }
  out.body = request.body;
  out.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
  return out;
}

void KubeClient::Observe(int code, const std::string& method) const {
  if (metrics_) metrics_->Observe(code, method, host_);
}

StatusOr<nlohmann::json> KubeClient::Do(const KubeRequest& request) {
  return Send(request, options_.max_retries, options_.request_timeout);
}

StatusOr<nlohmann::json> KubeClient::DoOnce(const KubeRequest& request, Duration timeout) {
  return Send(request, 0, timeout > Duration::zero() ? timeout : options_.request_timeout);
}

StatusOr<nlohmann::json> KubeClient::Send(const KubeRequest& request, int max_retries,
                                          Duration timeout) {
  Backoff backoff({std::chrono::milliseconds(200), std::chrono::seconds(5), 2.0, 0.2}, random_);
  for (int attempt = 0;; ++attempt) {
    auto response = transport_.Send(Build(request, timeout));
    Status error;
    bool retry = false;
    if (!response.ok()) {
      Observe(metrics::RestClientMetrics::kNoResponse, request.method);
      error = response.status();
      // The request may have been applied before the connection broke.
      retry = request.Idempotent();
    } else {
      Observe(response->status, request.method);
      const int code = response->status;
      if (code >= 200 && code < 300) {
        if (response->body.empty()) return nlohmann::json::object();
        // Depth-limited: a deeply nested answer must not exhaust the stack.
        auto parsed = ParseJson(response->body);
        if (!parsed.ok()) {
          return InternalError("API server answered " + request.method + " " + request.path +
                               " with a body that is not JSON: " + parsed.status().message());
        }
        return std::move(parsed).value();
      }
      error = StatusFromResponse(code, response->body, response->Header("Retry-After"));
      if (code == 422 && request.guarded) {
        // A failed precondition (a JSON patch `test`): someone changed the object since we read
        // it. Like a 409, the answer is to re-read and try again, not to give up.
        Status conflict = ConflictError(error.message());
        error = conflict;
      }
      const bool throttled = code == 429 || code == 503;
      const bool server_error = code == 500 || code == 502 || code == 503 || code == 504;
      // A 429 or a 503 with Retry-After says the server did not process the request, so even a
      // POST may go again; any other 5xx may have been applied, so only idempotent requests are
      // repeated (a blind POST retry writes duplicate Events).
      retry = (throttled && error.retry_after_seconds()) ||
              ((throttled || server_error) && request.Idempotent());
    }
    if (!retry || attempt >= max_retries) return error;
    Duration wait = backoff.Next();
    if (auto ra = error.retry_after_seconds()) {
      wait = std::min<Duration>(
          std::chrono::duration_cast<Duration>(std::chrono::duration<double>(*ra)),
          options_.max_retry_after);
    }
    clock_.SleepFor(wait);
  }
}

Status KubeClient::Watch(const KubeRequest& request, http::CancelToken& cancel,
                         const std::function<bool(const WatchEvent&)>& on_event,
                         Duration silence_timeout) {
  int status_code = 0;
  std::string error_body, retry_after, pending;
  Status parse_error;
  Status s = transport_.Stream(
      Build(request, silence_timeout), cancel,
      [&](const http::ClientResponse& head) {
        status_code = head.status;
        retry_after = head.Header("Retry-After");
        Observe(head.status, "GET");
      },
      [&](std::string_view data) {
        if (status_code != 200) {
          error_body.append(data);
          return error_body.size() < 1 << 20;
        }
        pending.append(data);
        size_t start = 0, nl;
        while ((nl = pending.find('\n', start)) != std::string::npos) {
          std::string_view line(pending.data() + start, nl - start);
          start = nl + 1;
          if (line.empty()) continue;
          auto parsed = ParseJson(line);
          if (!parsed.ok() || !parsed->is_object() || !parsed->contains("type")) {
            parse_error = InternalError("watch sent a line that is not an event");
            return false;
          }
          WatchEvent ev{parsed->value("type", ""),
                        parsed->value("object", nlohmann::json::object())};
          if (!on_event(ev)) return false;
        }
        pending.erase(0, start);
        return true;
      });
  if (!s.ok()) {
    if (status_code == 0) Observe(metrics::RestClientMetrics::kNoResponse, "GET");
    return s;
  }
  if (status_code != 0 && status_code != 200)
    return StatusFromResponse(status_code, error_body, retry_after);
  if (!parse_error.ok()) return parse_error;
  return Status::Ok();
}

}  // namespace cte::kube
