// A classic bucketed histogram (Prometheus histogram), one child of a Family<Histogram>, plus
// the bucket-layout helpers client_golang offers.
//
// Observe is lock-free: one atomic increment of the bucket the value falls in and one atomic add
// to the sum. Buckets are stored non-cumulatively and summed at read time, and the count is
// derived from the buckets, so a scrape can never show a +Inf bucket that disagrees with _count
// (which Prometheus would reject). The sum may lag the buckets by an in-flight observation.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "operator/core/clock.h"
#include "operator/metrics/collector.h"

namespace cte::metrics {

class Histogram {
 public:
  // `bounds` are validated by the Family (finite, strictly increasing, no +Inf).
  explicit Histogram(std::shared_ptr<const std::vector<double>> bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // Records one value; NaN lands in the +Inf bucket, as in client_golang.
  void Observe(double v);
  // Records a duration in seconds, the base unit every *_seconds histogram uses.
  void ObserveDuration(Duration d);

  HistogramValue Read() const;

 private:
  std::shared_ptr<const std::vector<double>> bounds_;
  // bounds_->size() + 1 slots; the last one counts values above every bound.
  std::vector<std::atomic<uint64_t>> counts_;
  std::atomic<double> sum_{0};
};

// `count` bounds: start, start*factor, start*factor^2, ... Computed by repeated multiplication,
// exactly as client_golang's ExponentialBuckets, so the `le` values match Go's to the last digit
// (workqueue's 1e-8 x10 series contains le="9.999999999999999e-06", which dashboards see).
std::vector<double> ExponentialBuckets(double start, double factor, int count);

// `count` bounds: start, start+width, ... (client_golang's LinearBuckets).
std::vector<double> LinearBuckets(double start, double width, int count);

}  // namespace cte::metrics
