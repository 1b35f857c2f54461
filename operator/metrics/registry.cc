#include "operator/metrics/registry.h"

#include <prometheus/check_names.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>

namespace cte::metrics {

namespace internal {

void Fatal(std::string_view message) {
  std::fprintf(stderr, "cte metrics: %.*s\n", static_cast<int>(message.size()), message.data());
  std::fflush(stderr);
  std::abort();
}

}  // namespace internal

namespace {

bool ByLabels(const prometheus::ClientMetric& a, const prometheus::ClientMetric& b) {
  return a.label < b.label;
}

}  // namespace

Registry::Registry() = default;
Registry::~Registry() = default;

template <typename T>
Family<T>& Registry::Add(const std::string& name, const std::string& help, const char* type) {
  if (!prometheus::CheckMetricName(name)) internal::Fatal("invalid metric name \"" + name + "\"");
  if (std::string_view(type) == "counter" && !name.ends_with("_total")) {
    // promtool's linter (and every Prometheus naming guide) expects it; enforce at registration.
    internal::Fatal("counter " + name + " must be named *_total");
  }
  // prometheus-cpp 1.0's TextSerializer writes HELP unescaped: a newline would end the line.
  if (help.find_first_of("\\\n") != std::string::npos) {
    internal::Fatal(name + ": help text must not contain a backslash or a newline");
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = registered_.emplace(name, std::make_pair(std::string(type), help));
  if (!inserted && it->second != std::make_pair(std::string(type), help)) {
    internal::Fatal("metric " + name + " is already registered with a different type or help");
  }
  try {
    return prometheus::detail::Builder<T>().Name(name).Help(help).Register(families_);
  } catch (const std::exception& e) {
    internal::Fatal("metric " + name + ": " + e.what());
  }
}

Family<Counter>& Registry::AddCounter(const std::string& name, const std::string& help) {
  return Add<Counter>(name, help, "counter");
}

Family<Gauge>& Registry::AddGauge(const std::string& name, const std::string& help) {
  return Add<Gauge>(name, help, "gauge");
}

Family<Histogram>& Registry::AddHistogram(const std::string& name, const std::string& help) {
  return Add<Histogram>(name, help, "histogram");
}

void Registry::AddCollector(std::unique_ptr<prometheus::Collectable> collector) {
  std::lock_guard<std::mutex> lock(mu_);
  collectors_.push_back(std::move(collector));
}

std::vector<prometheus::MetricFamily> Registry::Collect() const {
  std::vector<prometheus::MetricFamily> out = families_.Collect();
  {
    // Collectors are only ever added, never removed; holding the lock keeps the set stable.
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& c : collectors_) {
      std::vector<prometheus::MetricFamily> more = c->Collect();
      out.insert(out.end(), std::make_move_iterator(more.begin()),
                 std::make_move_iterator(more.end()));
    }
  }
  std::erase_if(out, [](const prometheus::MetricFamily& f) { return f.metric.empty(); });
  // Stable, so for a duplicate name the registered family (collected first) is kept.
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.name < b.name; });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const auto& a, const auto& b) { return a.name == b.name; }),
            out.end());
  for (auto& f : out) {
    for (auto& m : f.metric) std::sort(m.label.begin(), m.label.end());
    std::sort(f.metric.begin(), f.metric.end(), ByLabels);
  }
  return out;
}

std::string Registry::Render() const { return prometheus::TextSerializer().Serialize(Collect()); }

void AddToCounter(Counter& counter, double value) {
  if (std::isfinite(value) && value > 0) counter.Increment(value);
}

void Observe(Histogram& histogram, double value) {
  if (!std::isnan(value)) histogram.Observe(value);
}

void ObserveSeconds(Histogram& histogram, std::chrono::nanoseconds duration) {
  Observe(histogram, std::chrono::duration<double>(duration).count());
}

}  // namespace cte::metrics
