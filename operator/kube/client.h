// Sends KubeRequests to the API server: adds auth, classifies errors, retries 429/5xx a bounded
// number of times honouring Retry-After, and parses watch streams into events.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "operator/core/clock.h"
#include "operator/core/log.h"
#include "operator/core/random.h"
#include "operator/core/status.h"
#include "operator/http/http_transport.h"
#include "operator/kube/config.h"
#include "operator/kube/request.h"
#include "operator/metrics/runtime_metrics.h"

namespace cte::kube {

struct WatchEvent {
  std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK, ERROR
  nlohmann::json object;
};

struct ClientOptions {
  int max_retries = 5;                                  // extra attempts on 429/5xx
  Duration request_timeout = std::chrono::seconds(30);  // per attempt
  Duration max_retry_after = std::chrono::seconds(30);  // cap on a server-requested wait
  std::string user_agent = "cte-operator";
};

class KubeClient {
 public:
  // `transport`, `clock`, `random` and `observer` must outlive the client.
  KubeClient(KubeConfig config, http::HttpTransport& transport, Clock& clock, Random& random,
             metrics::RestClientMetrics* metrics = nullptr, ClientOptions options = {});

  // Sends a request and returns the parsed JSON body of a 2xx answer, or a classified error.
  // Thread-safe.
  StatusOr<nlohmann::json> Do(const KubeRequest& request);
  // One attempt, no retries: for callers with their own deadline, such as lease renewal, where a
  // retry loop inside one attempt could outlast the renew deadline.
  StatusOr<nlohmann::json> DoOnce(const KubeRequest& request, Duration timeout = Duration::zero());

  // Opens a watch and calls `on_event` for each event until the server ends the stream (Ok), the
  // stream fails, `on_event` returns false, or `cancel` is cancelled (Ok). A non-200 answer is a
  // classified error (410 is kGone). `silence_timeout` bounds the wait between bytes at the
  // transport level; the informer's watchdog is the primary dead-connection detector.
  Status Watch(const KubeRequest& request, http::CancelToken& cancel,
               const std::function<bool(const WatchEvent&)>& on_event,
               Duration silence_timeout = std::chrono::seconds(0));

  const KubeConfig& config() const { return config_; }

 private:
  StatusOr<nlohmann::json> Send(const KubeRequest& request, int max_retries, Duration timeout);
  http::ClientRequest Build(const KubeRequest& request, Duration timeout) const;
  void Observe(int code, const std::string& method) const;

  KubeConfig config_;
  http::HttpTransport& transport_;
  Clock& clock_;
  Random& random_;
  metrics::RestClientMetrics* metrics_;
  ClientOptions options_;
  std::string host_;
};

}  // namespace cte::kube
