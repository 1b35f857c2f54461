#include "operator/metrics/registry.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <tuple>

#include "operator/metrics/text_format.h"

namespace cte::metrics {

namespace {

// Collectors are our own code but may build samples in any order; put them in the same canonical
// order as families (labels by name, samples by labels) so every scrape is byte-identical.
void Canonicalize(FamilySnapshot& f) {
  auto by_name = [](const Label& a, const Label& b) { return a.name < b.name; };
  for (Sample& s : f.samples) std::stable_sort(s.labels.begin(), s.labels.end(), by_name);
  std::stable_sort(f.samples.begin(), f.samples.end(), [](const Sample& a, const Sample& b) {
    return std::lexicographical_compare(a.labels.begin(), a.labels.end(), b.labels.begin(),
                                        b.labels.end(), [](const Label& x, const Label& y) {
                                          return std::tie(x.name, x.value) <
                                                 std::tie(y.name, y.value);
                                        });
  });
}

}  // namespace

void Registry::Validate(const std::string& name, MetricType type,
                        const std::vector<std::string>& label_names) {
  if (!internal::IsValidMetricName(name)) internal::Fatal("invalid metric name \"" + name + "\"");
  if (type == MetricType::kCounter && !name.ends_with("_total")) {
    // promtool's linter (and every Prometheus naming guide) expects it; enforce at registration.
    internal::Fatal("counter " + name + " must be named *_total");
  }
  std::set<std::string> seen;
  for (const std::string& l : label_names) {
    if (!internal::IsValidLabelName(l)) {
      internal::Fatal(name + ": invalid label name \"" + l + "\"");
    }
    if (type == MetricType::kHistogram && l == "le") {
      internal::Fatal(name + ": a histogram cannot have an \"le\" label");
    }
    if (!seen.insert(l).second) internal::Fatal(name + ": duplicate label name \"" + l + "\"");
  }
}

FamilyBase* Registry::Find(const std::string& name, MetricType type, const std::string& help,
                           const std::vector<std::string>& label_names) const {
  auto it = families_.find(name);
  if (it == families_.end()) return nullptr;
  const FamilyBase& f = *it->second;
  if (f.type() != type || f.help() != help || f.label_names() != label_names) {
    internal::Fatal("metric " + name +
                    " is already registered with a different type, help or labels");
  }
  return it->second.get();
}

Family<Counter>& Registry::AddCounter(const std::string& name, const std::string& help,
                                      const std::vector<std::string>& label_names) {
  Validate(name, MetricType::kCounter, label_names);
  std::lock_guard<std::mutex> lock(mu_);
  if (FamilyBase* f = Find(name, MetricType::kCounter, help, label_names)) {
    return static_cast<Family<Counter>&>(*f);
  }
  auto family = std::make_unique<Family<Counter>>(name, help, label_names,
                                                  [] { return std::make_unique<Counter>(); });
  Family<Counter>& ref = *family;
  families_.emplace(name, std::move(family));
  return ref;
}

Family<Gauge>& Registry::AddGauge(const std::string& name, const std::string& help,
                                  const std::vector<std::string>& label_names) {
  Validate(name, MetricType::kGauge, label_names);
  std::lock_guard<std::mutex> lock(mu_);
  if (FamilyBase* f = Find(name, MetricType::kGauge, help, label_names)) {
    return static_cast<Family<Gauge>&>(*f);
  }
  auto family = std::make_unique<Family<Gauge>>(name, help, label_names,
                                                [] { return std::make_unique<Gauge>(); });
  Family<Gauge>& ref = *family;
  families_.emplace(name, std::move(family));
  return ref;
}

Family<Histogram>& Registry::AddHistogram(const std::string& name, const std::string& help,
                                          const std::vector<std::string>& label_names,
                                          std::vector<double> bounds) {
  Validate(name, MetricType::kHistogram, label_names);
  if (!bounds.empty() && std::isinf(bounds.back()) && bounds.back() > 0) bounds.pop_back();
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && !(bounds[i - 1] < bounds[i]))) {
      internal::Fatal(name + ": histogram bounds must be finite and strictly increasing");
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (FamilyBase* f = Find(name, MetricType::kHistogram, help, label_names)) {
    if (histogram_bounds_[name] != bounds) {
      internal::Fatal("histogram " + name + " is already registered with different buckets");
    }
    return static_cast<Family<Histogram>&>(*f);
  }
  auto shared_bounds = std::make_shared<const std::vector<double>>(bounds);
  auto family = std::make_unique<Family<Histogram>>(name, help, label_names, [shared_bounds] {
    return std::make_unique<Histogram>(shared_bounds);
  });
  Family<Histogram>& ref = *family;
  families_.emplace(name, std::move(family));
  histogram_bounds_.emplace(name, std::move(bounds));
  return ref;
}

void Registry::AddCollector(std::unique_ptr<Collector> collector) {
  std::lock_guard<std::mutex> lock(mu_);
  collectors_.push_back(std::move(collector));
}

std::vector<FamilySnapshot> Registry::Collect() const {
  std::vector<FamilySnapshot> out;
  std::vector<FamilySnapshot> collected;
  {
    // Families and collectors are only ever added, never removed, so holding the lock while
    // collecting is cheap and keeps the set stable; children have their own locks.
    std::lock_guard<std::mutex> lock(mu_);
    out.reserve(families_.size());
    for (const auto& [name, family] : families_) out.push_back(family->Snapshot());
    for (const auto& c : collectors_) c->Collect(collected);
  }
  std::set<std::string> names;
  for (const FamilySnapshot& f : out) names.insert(f.name);
  for (FamilySnapshot& f : collected) {
    if (!names.insert(f.name).second) continue;
    Canonicalize(f);
    out.push_back(std::move(f));
  }
  std::erase_if(out, [](const FamilySnapshot& f) { return f.samples.empty(); });
  std::stable_sort(out.begin(), out.end(), [](const FamilySnapshot& a, const FamilySnapshot& b) {
    return a.name < b.name;
  });
  return out;
}

std::string Registry::Render() const { return RenderText(Collect()); }

}  // namespace cte::metrics
