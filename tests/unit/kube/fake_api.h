// A fake Kubernetes API behind the HttpTransport seam, for runtime unit tests on a simulated
// clock: Leases kept in memory with resourceVersion checks (as kube-apiserver: 409 on a stale
// update, 404 before the first create), scripted answers for everything else, per-method delays
// and failures for Lease requests, and a log of every request.
//
// A delayed request waits on the simulated clock, bounded by the request's own timeout (then it
// fails with DeadlineExceeded, as the socket transport's deadline does). A watch without a script
// answers 200 and stays open until cancelled, like a healthy watch with nothing to say; it waits
// on the clock too, so a test can tell that every thread is parked.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "operator/core/clock.h"
#include "operator/http/http_transport.h"

namespace cte::kube::testing {

class FakeApi : public http::HttpTransport {
 public:
  using SendScript = std::function<http::ClientResponse(const http::ClientRequest&)>;
  using StreamScript = std::function<Status(const http::ClientRequest&, http::CancelToken&,
                                            const std::function<void(const http::ClientResponse&)>&,
                                            const std::function<bool(std::string_view)>&)>;

  explicit FakeApi(Clock& clock) : clock_(clock) {}

  // Requests (other than Leases) whose path contains `fragment` are answered by `script`.
  void OnSend(std::string fragment, SendScript script) {
    std::lock_guard<std::mutex> lock(mu_);
    send_scripts_.emplace_back(std::move(fragment), std::move(script));
  }
  void OnStream(StreamScript script) {
    std::lock_guard<std::mutex> lock(mu_);
    stream_script_ = std::move(script);
  }

  // The next `count` Lease requests with this method wait `delay` before being served.
  void DelayLeases(const std::string& method, Duration delay, int count = 1 << 30) {
    std::lock_guard<std::mutex> lock(mu_);
    lease_delay_[method] = {delay, count};
  }
  // Lease requests with this method answer `code` (0: serve normally again).
  void FailLeases(const std::string& method, int code) {
    std::lock_guard<std::mutex> lock(mu_);
    lease_fail_[method] = code;
  }

  // The stored Lease's spec (null before it is created).
  nlohmann::json LeaseSpec() const {
    std::lock_guard<std::mutex> lock(mu_);
    return lease_.is_null() ? nlohmann::json() : lease_["spec"];
  }
  void SetLeaseSpec(nlohmann::json spec) {
    std::lock_guard<std::mutex> lock(mu_);
    lease_ = {{"apiVersion", "coordination.k8s.io/v1"},
              {"kind", "Lease"},
              {"metadata", {{"name", "lease"}, {"namespace", "ns"}}},
              {"spec", std::move(spec)}};
    lease_["metadata"]["resourceVersion"] = std::to_string(++rv_);
  }
  // Successful Lease writes (create or update) so far.
  int LeaseWrites() const {
    std::lock_guard<std::mutex> lock(mu_);
    return lease_writes_;
  }
  std::vector<std::string> Log() const {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }
  // Ends every open unscripted watch (as a server restart would).
  void CloseWatches() {
    ++watch_epoch_;
    clock_.Notify();
  }

  StatusOr<http::ClientResponse> Send(const http::ClientRequest& request) override {
    const std::string path = PathOf(request.url);
    Duration delay{0};
    int fail = 0;
    SendScript script;
    {
      std::lock_guard<std::mutex> lock(mu_);
      log_.push_back(request.method + " " + path);
      if (IsLease(path)) {
        auto& [d, count] = lease_delay_[request.method];
        if (count > 0) {
          delay = d;
          --count;
        }
        fail = lease_fail_[request.method];
      } else {
        for (const auto& [fragment, s] : send_scripts_) {
          if (path.find(fragment) != std::string::npos) script = s;
        }
      }
    }
    if (delay > Duration::zero()) {
      Duration timeout = request.timeout;
      if (timeout > Duration::zero() && delay >= timeout) {
        clock_.SleepFor(timeout);
        return Status(StatusCode::kDeadlineExceeded, "request timed out");
      }
      clock_.SleepFor(delay);
    }
    if (fail) return Answer(fail, {{"kind", "Status"}, {"code", fail}});
    if (IsLease(path)) return ServeLease(request);
    if (script) return script(request);
    return Answer(404, {{"kind", "Status"}, {"code", 404}, {"reason", "NotFound"}});
  }

  Status Stream(const http::ClientRequest& request, http::CancelToken& cancel,
                const std::function<void(const http::ClientResponse&)>& on_head,
                const std::function<bool(std::string_view)>& on_data) override {
    StreamScript script;
    const int epoch = watch_epoch_;
    {
      std::lock_guard<std::mutex> lock(mu_);
      log_.push_back("WATCH " + PathOf(request.url));
      script = stream_script_;
    }
    if (script) return script(request, cancel, on_head, on_data);
    on_head({200, {}, ""});
    cancel.OnCancel([this] { clock_.Notify(); });
    clock_.WaitFor(std::chrono::hours(24 * 365),
                   [&] { return cancel.cancelled() || watch_epoch_ != epoch; });
    return Status::Ok();
  }

  static http::ClientResponse Answer(int code, const nlohmann::json& body) {
    http::ClientResponse r;
    r.status = code;
    r.body = body.dump();
    return r;
  }

 private:
  static std::string PathOf(const std::string& url) {
    size_t scheme = url.find("://");
    size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    std::string path = slash == std::string::npos ? "/" : url.substr(slash);
    return path.substr(0, path.find('?'));
  }
  static bool IsLease(const std::string& path) { return path.find("/leases") != std::string::npos; }

  http::ClientResponse ServeLease(const http::ClientRequest& request) {
    std::lock_guard<std::mutex> lock(mu_);
    if (request.method == "GET") {
      if (lease_.is_null()) return Answer(404, {{"kind", "Status"}, {"reason", "NotFound"}});
      return Answer(200, lease_);
    }
    auto body = nlohmann::json::parse(request.body, nullptr, false);
    if (request.method == "POST") {
      if (!lease_.is_null()) return Answer(409, {{"kind", "Status"}, {"reason", "AlreadyExists"}});
      lease_ = body;
    } else if (request.method == "PUT") {
      if (lease_.is_null()) return Answer(404, {{"kind", "Status"}, {"reason", "NotFound"}});
      if (body.value("/metadata/resourceVersion"_json_pointer, std::string()) !=
          lease_["metadata"]["resourceVersion"].get<std::string>()) {
        return Answer(409, {{"kind", "Status"}, {"reason", "Conflict"}});
      }
      lease_ = body;
    } else {
      return Answer(405, {{"kind", "Status"}});
    }
    lease_["metadata"]["resourceVersion"] = std::to_string(++rv_);
    ++lease_writes_;
    return Answer(request.method == "POST" ? 201 : 200, lease_);
  }

  Clock& clock_;
  mutable std::mutex mu_;
  std::vector<std::pair<std::string, SendScript>> send_scripts_;
  StreamScript stream_script_;
  std::map<std::string, std::pair<Duration, int>> lease_delay_;
  std::map<std::string, int> lease_fail_;
  nlohmann::json lease_;
  int64_t rv_ = 100;
  int lease_writes_ = 0;
  std::atomic<int> watch_epoch_{0};
  std::vector<std::string> log_;
};

}  // namespace cte::kube::testing
