// A monotonically increasing value (Prometheus counter), one child of a Family<Counter>.
//
// Increments are lock-free: whole-number increments go to an integer atomic (a single fetch_add,
// no compare-and-swap loop), fractional ones to a separate double. The same split client_golang
// uses, because nearly every counter here is bumped by one on a hot path (reconciles, adds).
#pragma once

#include <atomic>
#include <cmath>
#include <cstdint>

namespace cte::metrics {

class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  void Inc() { whole_.fetch_add(1, std::memory_order_relaxed); }

  // Adds `v`. A counter never goes down, so negative and NaN values are ignored rather than
  // corrupting the series (client_golang panics instead; an operator must not die for a metric).
  void Add(double v) {
    if (!(v >= 0)) return;
    double whole = std::floor(v);
    if (whole == v && v < 9e15) {
      whole_.fetch_add(static_cast<uint64_t>(v), std::memory_order_relaxed);
      return;
    }
    fraction_.fetch_add(v, std::memory_order_relaxed);
  }

  double Value() const {
    return static_cast<double>(whole_.load(std::memory_order_relaxed)) +
           fraction_.load(std::memory_order_relaxed);
  }

 private:
  std::atomic<uint64_t> whole_{0};
  std::atomic<double> fraction_{0};
};

}  // namespace cte::metrics
