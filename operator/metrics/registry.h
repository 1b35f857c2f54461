// The process's metrics: prometheus-cpp's Registry and metric families, plus the sources computed
// at scrape time (the process collector), rendered with prometheus-cpp's TextSerializer.
//
// One Registry is created in main.cc (operator_app.cc) and passed by reference to whatever records
// metrics (ControllerRuntimeMetrics, TenantApiMetrics, build info); tests make their own, so
// nothing here is a global. Registration happens at start-up; recording on a child (Increment,
// Set, Observe) and Render may then run concurrently from any thread.
//
// Only prometheus-cpp's core library is used: /metrics is served by our own HTTP server
// (metrics_handler.h), not by prometheus-cpp::pull's second one.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace cte::metrics {

using prometheus::Counter;
using prometheus::Gauge;
using prometheus::Histogram;
template <typename T>
using Family = prometheus::Family<T>;

namespace internal {
// Misuse of the metrics API (a bad name, a counter not named *_total, a help text the exposition
// cannot carry, a name registered twice differently) is a programming error with compile-time
// inputs, so it stops the process with a message, as client_golang's MustRegister panics. Tests
// catch it with EXPECT_DEATH.
[[noreturn]] void Fatal(std::string_view message);
}  // namespace internal

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registers a family, or returns the existing one when the same name was registered with the
  // same type and help, so two components may ask for the same family. Children are added with
  // family.Add({{"label", "value"}, ...}) (histograms also take their bucket bounds); look a child
  // up once and keep the reference (ChildCache does this for label values known only at run
  // time): children are never removed. Thread-safe.
  Family<Counter>& AddCounter(const std::string& name, const std::string& help);
  Family<Gauge>& AddGauge(const std::string& name, const std::string& help);
  Family<Histogram>& AddHistogram(const std::string& name, const std::string& help);

  // Adds a source of families computed at scrape time. Its Collect() runs on the scraping thread,
  // possibly on several at once, and must not call back into this Registry. The Registry owns it.
  void AddCollector(std::unique_ptr<prometheus::Collectable> collector);

  // Every family with at least one sample, sorted by name, samples sorted by their labels, so
  // every scrape of the same state is byte-identical. A name registered here and also produced by
  // a collector appears once (the registered family wins).
  std::vector<prometheus::MetricFamily> Collect() const;

  // Collect() in the text exposition format 0.0.4 (prometheus::TextSerializer).
  std::string Render() const;

 private:
  template <typename T>
  Family<T>& Add(const std::string& name, const std::string& help, const char* type);

  prometheus::Registry families_;
  mutable std::mutex mu_;
  std::map<std::string, std::pair<std::string, std::string>> registered_;  // name -> (type, help)
  std::vector<std::unique_ptr<prometheus::Collectable>> collectors_;
};

// Recording helpers that keep a series meaningful whatever the input: prometheus-cpp adds a NaN
// to a counter (which then stays NaN forever) and a NaN observation to a histogram's sum.
// A counter ignores NaN, infinities and negative values (it never goes down); a histogram ignores
// NaN. An operator must not die, nor lose a series, for a metric.
void AddToCounter(Counter& counter, double value);
void Observe(Histogram& histogram, double value);
// A duration in seconds, the base unit of every *_seconds histogram.
void ObserveSeconds(Histogram& histogram, std::chrono::nanoseconds duration);

}  // namespace cte::metrics
