// The Registry owns every metric family of the process and renders them for /metrics.
//
// One Registry is created in main.cc and passed by reference to whatever records metrics
// (ControllerRuntimeMetrics, the process collector, domain metrics); tests make their own, so
// nothing here is a global. Registration normally happens at start-up; recording (Inc, Set,
// Observe on a child) and Render may then run concurrently from any thread.
//
// Output is deterministic: families in name order, samples in label order, buckets ascending.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "operator/metrics/collector.h"
#include "operator/metrics/family.h"

namespace cte::metrics {

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registers a family, or returns the existing one when a family of the same name, type, help,
  // label names (and buckets) exists already, so two components may ask for the same family.
  // Stops the process on an invalid metric or label name, a counter whose name does not end in
  // `_total`, a histogram with an `le` label or with bounds that are not finite and strictly
  // increasing, or a name already registered differently. Thread-safe.
  Family<Counter>& AddCounter(const std::string& name, const std::string& help,
                              const std::vector<std::string>& label_names = {});
  Family<Gauge>& AddGauge(const std::string& name, const std::string& help,
                          const std::vector<std::string>& label_names = {});
  // `bounds` are the finite upper bounds; +Inf is always added (and dropped from `bounds` if
  // given, as client_golang does).
  Family<Histogram>& AddHistogram(const std::string& name, const std::string& help,
                                  const std::vector<std::string>& label_names,
                                  std::vector<double> bounds);

  // Adds a source of families computed at scrape time. The Registry owns it.
  void AddCollector(std::unique_ptr<Collector> collector);

  // Every family with at least one sample, sorted by name; for a name registered both as a
  // family and by a collector, the family wins. Thread-safe.
  std::vector<FamilySnapshot> Collect() const;

  // Collect() in the text exposition format 0.0.4.
  std::string Render() const;

 private:
  FamilyBase* Find(const std::string& name, MetricType type, const std::string& help,
                   const std::vector<std::string>& label_names) const;
  static void Validate(const std::string& name, MetricType type,
                       const std::vector<std::string>& label_names);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<FamilyBase>> families_;
  std::map<std::string, std::vector<double>> histogram_bounds_;
  std::vector<std::unique_ptr<Collector>> collectors_;
};

}  // namespace cte::metrics
