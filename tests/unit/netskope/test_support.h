// Test doubles for the tenant client: a scripted HttpTransport that records what was sent (and
// when, on the simulated clock), a recording TenantApiObserver, and RunDriven(), which runs a
// blocking call on a thread and advances a SimulatedClock whenever that call waits on it.
#pragma once

#include <atomic>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "operator/core/clock.h"
#include "operator/http/http_transport.h"
#include "operator/netskope/tenant_api_observer.h"

namespace cte::netskope::testing {

inline http::ClientResponse Answer(int status, std::string body, http::Headers headers = {}) {
  http::ClientResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

class FakeTransport : public http::HttpTransport {
 public:
  explicit FakeTransport(Clock& clock) : clock_(clock) {}

  void Push(StatusOr<http::ClientResponse> answer) {
    std::lock_guard<std::mutex> lock(mu_);
    answers_.push_back(std::move(answer));
  }

  StatusOr<http::ClientResponse> Send(const http::ClientRequest& request) override {
    std::lock_guard<std::mutex> lock(mu_);
    sent_.push_back(request);
    times_.push_back(clock_.Now());
    if (answers_.empty()) return Answer(200, "[]");
    auto a = answers_.front();
    answers_.pop_front();
    return a;
  }

  Status Stream(const http::ClientRequest&, http::CancelToken&,
                const std::function<void(const http::ClientResponse&)>&,
                const std::function<bool(std::string_view)>&) override {
    return InternalError("not used");
  }

  std::vector<http::ClientRequest> sent() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sent_;
  }
  std::vector<MonoTime> times() const {
    std::lock_guard<std::mutex> lock(mu_);
    return times_;
  }

 private:
  Clock& clock_;
  mutable std::mutex mu_;
  std::deque<StatusOr<http::ClientResponse>> answers_;
  std::vector<http::ClientRequest> sent_;
  std::vector<MonoTime> times_;
};

class RecordingObserver : public TenantApiObserver {
 public:
  struct Call {
    std::string tenant, endpoint, code;
  };
  void OnRequest(std::string_view tenant, std::string_view endpoint, std::string_view code,
                 Duration) override {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back({std::string(tenant), std::string(endpoint), std::string(code)});
  }
  void OnThrottled(std::string_view tenant) override {
    std::lock_guard<std::mutex> lock(mu_);
    throttled_.emplace_back(tenant);
  }
  std::vector<Call> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::vector<std::string> throttled() const {
    std::lock_guard<std::mutex> lock(mu_);
    return throttled_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Call> requests_;
  std::vector<std::string> throttled_;
};

// A clock for single-threaded tests of code that waits: WaitFor jumps time forward by the whole
// wait at once (unless the predicate is already true) instead of blocking, so a call that waits
// 5 s returns at once with Now() 5 s later. Exact and free of races with a driver thread; use
// SimulatedClock where another thread must wake the waiter.
class AutoAdvanceClock : public Clock {
 public:
  MonoTime Now() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }
  WallTime WallNow() const override {
    return WallTime(std::chrono::seconds(1'800'000'000)) +
           std::chrono::duration_cast<WallTime::duration>(Now() - MonoTime());
  }
  bool WaitFor(Duration d, const std::function<bool()>& wake) override {
    if (wake()) return true;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (d > Duration::zero()) now_ += d;
      ++waits_;
    }
    return wake();
  }
  void Notify() override {}
  TimerId Schedule(Duration, std::function<void()>) override { return 0; }
  bool Cancel(TimerId) override { return false; }
  int waits() const {
    std::lock_guard<std::mutex> lock(mu_);
    return waits_;
  }

 private:
  mutable std::mutex mu_;
  MonoTime now_{std::chrono::hours(1)};
  int waits_ = 0;
};

}  // namespace cte::netskope::testing
