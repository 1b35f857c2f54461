// A value that can go up and down (Prometheus gauge), one child of a Family<Gauge>. Lock-free:
// Set is a store, Add a compare-and-swap loop on a double (std::atomic<double>::fetch_add).
#pragma once

#include <atomic>

namespace cte::metrics {

class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  void Inc() { Add(1); }
  void Dec() { Add(-1); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

}  // namespace cte::metrics
