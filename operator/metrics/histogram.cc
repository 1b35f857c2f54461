#include "operator/metrics/histogram.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace cte::metrics {

Histogram::Histogram(std::shared_ptr<const std::vector<double>> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_->size() + 1) {}

void Histogram::Observe(double v) {
  size_t index = bounds_->size();
  if (!std::isnan(v)) {
    // First bound >= v: Prometheus buckets are "less than or equal".
    index = static_cast<size_t>(std::lower_bound(bounds_->begin(), bounds_->end(), v) -
                                bounds_->begin());
  }
  counts_[index].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

void Histogram::ObserveDuration(Duration d) { Observe(std::chrono::duration<double>(d).count()); }

HistogramValue Histogram::Read() const {
  HistogramValue out;
  out.bounds = *bounds_;
  out.cumulative_counts.resize(bounds_->size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_->size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    out.cumulative_counts[i] = running;
  }
  out.sum = sum_.load(std::memory_order_relaxed);
  return out;
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> out;
  out.reserve(static_cast<size_t>(std::max(count, 0)));
  for (int i = 0; i < count; ++i) {
    out.push_back(start);
    start *= factor;
  }
  return out;
}

std::vector<double> LinearBuckets(double start, double width, int count) {
  std::vector<double> out;
  out.reserve(static_cast<size_t>(std::max(count, 0)));
  for (int i = 0; i < count; ++i) {
    out.push_back(start);
    start += width;
  }
  return out;
}

}  // namespace cte::metrics
