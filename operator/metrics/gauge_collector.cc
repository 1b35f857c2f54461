#include "operator/metrics/gauge_collector.h"

namespace cte::metrics {

GaugeCollector::GaugeCollector(std::string name, std::string help, Source source, Clock& clock,
                               Duration min_interval)
    : name_(std::move(name)),
      help_(std::move(help)),
      source_(std::move(source)),
      clock_(clock),
      min_interval_(min_interval) {}

std::vector<prometheus::MetricFamily> GaugeCollector::Collect() const {
  std::vector<GaugeSample> samples;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const MonoTime now = clock_.Now();
    if (!computed_at_ || now - *computed_at_ >= min_interval_) {
      cached_ = source_();
      computed_at_ = now;
    }
    samples = cached_;
  }
  if (samples.empty()) return {};
  prometheus::MetricFamily family;
  family.name = name_;
  family.help = help_;
  family.type = prometheus::MetricType::Gauge;
  for (auto& s : samples) {
    prometheus::ClientMetric m;
    for (auto& [k, v] : s.labels) m.label.push_back({std::move(k), std::move(v)});
    m.gauge.value = s.value;
    family.metric.push_back(std::move(m));
  }
  return {std::move(family)};
}

}  // namespace cte::metrics
