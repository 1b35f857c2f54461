// A gauge family computed at scrape time from a callback: for values that live elsewhere (an
// informer's staleness, the store's indicator counts) and would go stale if copied into a gauge
// on every change. With `min_interval` the callback runs at most that often and scrapes in
// between get the last result, so a scrape storm cannot turn into a storm of store queries.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "operator/core/clock.h"

namespace cte::metrics {

struct GaugeSample {
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
};

class GaugeCollector : public prometheus::Collectable {
 public:
  using Source = std::function<std::vector<GaugeSample>()>;

  GaugeCollector(std::string name, std::string help, Source source, Clock& clock,
                 Duration min_interval = Duration::zero());

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::string name_;
  std::string help_;
  Source source_;
  Clock& clock_;
  Duration min_interval_;
  mutable std::mutex mu_;  // one callback at a time; guards the cache
  mutable std::optional<MonoTime> computed_at_;
  mutable std::vector<GaugeSample> cached_;
};

}  // namespace cte::metrics
