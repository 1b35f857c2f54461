// A metric family: one name, help text, type and set of label names, with one child metric per
// distinct combination of label values (client_golang's *Vec). Families are created through the
// Registry, which owns them; callers keep the returned references.
//
//   Family<Counter>& adds = registry.AddCounter("x_adds_total", "Adds.", {"queue"});
//   Counter& c = adds.Labels({"reconcile"});   // created at 0 on first use
//   c.Inc();                                   // lock-free from any thread
//
// Labels() takes a shared lock for the lookup and an exclusive one only to create a child, so hot
// paths should look a child up once and keep the reference: children are never removed, and the
// reference stays valid for the life of the Registry.
#pragma once

#include <algorithm>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "operator/metrics/collector.h"
#include "operator/metrics/counter.h"
#include "operator/metrics/gauge.h"
#include "operator/metrics/histogram.h"

namespace cte::metrics {

namespace internal {

// Misuse of the metrics API (bad name, wrong number of label values, conflicting registration)
// is a programming error with compile-time inputs, so it stops the process with a message, as
// client_golang's MustRegister and WithLabelValues panic. Tests catch it with EXPECT_DEATH.
[[noreturn]] void Fatal(std::string_view message);

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool IsValidMetricName(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, and not starting with "__" (reserved for Prometheus itself).
bool IsValidLabelName(std::string_view name);

// Orders label-value tuples; transparent so a lookup with string_views allocates nothing.
struct LabelValuesLess {
  using is_transparent = void;
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    return std::lexicographical_compare(
        a.begin(), a.end(), b.begin(), b.end(),
        [](std::string_view x, std::string_view y) { return x < y; });
  }
};

template <typename T>
constexpr MetricType TypeOf() {
  if constexpr (std::is_same_v<T, Counter>) {
    return MetricType::kCounter;
  } else if constexpr (std::is_same_v<T, Gauge>) {
    return MetricType::kGauge;
  } else {
    static_assert(std::is_same_v<T, Histogram>, "Family<T> needs Counter, Gauge or Histogram");
    return MetricType::kHistogram;
  }
}

}  // namespace internal

// The type-independent part of a family, which the Registry stores and collects.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, MetricType type,
             std::vector<std::string> label_names);
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  // In the order given at registration (the order Labels() expects values in).
  const std::vector<std::string>& label_names() const { return label_names_; }

  // Current values, samples ordered by their (name-sorted) label pairs.
  FamilySnapshot Snapshot() const;

 protected:
  // Appends one sample per child with `labels` left empty, and the child's label values (in
  // registration order) to `values`, index for index.
  virtual void CollectChildren(std::vector<Sample>& samples,
                               std::vector<std::vector<std::string>>& values) const = 0;
  // Stops the process unless `count` matches the number of label names.
  void CheckArity(size_t count) const;

 private:
  std::string name_;
  std::string help_;
  MetricType type_;
  std::vector<std::string> label_names_;
  // Positions of label_names_ sorted by name: the exposition lists labels in name order.
  std::vector<size_t> sorted_order_;
};

template <typename T>
class Family final : public FamilyBase {
 public:
  using ChildFactory = std::function<std::unique_ptr<T>()>;

  // Use Registry::AddCounter/AddGauge/AddHistogram, which validate the arguments.
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         ChildFactory make_child)
      : FamilyBase(std::move(name), std::move(help), internal::TypeOf<T>(), std::move(label_names)),
        make_child_(std::move(make_child)) {}

  // The child for these label values (in registration order), created at zero on first use.
  // Thread-safe. The reference stays valid as long as the Registry.
  T& Labels(std::initializer_list<std::string_view> values) {
    return Get(std::span<const std::string_view>(values.begin(), values.size()));
  }
  T& Labels(std::span<const std::string> values) { return Get(values); }

 private:
  template <typename Values>
  T& Get(const Values& values) {
    CheckArity(values.size());
    {
      std::shared_lock<std::shared_mutex> lock(mu_);
      auto it = children_.find(values);
      if (it != children_.end()) return *it->second;
    }
    std::unique_lock<std::shared_mutex> lock(mu_);
    auto it = children_.find(values);
    if (it == children_.end()) {
      it = children_.emplace(std::vector<std::string>(values.begin(), values.end()), make_child_())
               .first;
    }
    return *it->second;
  }

  void CollectChildren(std::vector<Sample>& samples,
                       std::vector<std::vector<std::string>>& values) const override {
    std::shared_lock<std::shared_mutex> lock(mu_);
    samples.reserve(children_.size());
    values.reserve(children_.size());
    for (const auto& [key, child] : children_) {
      Sample& s = samples.emplace_back();
      if constexpr (std::is_same_v<T, Histogram>) {
        s.histogram = child->Read();
      } else {
        s.value = child->Value();
      }
      values.push_back(key);
    }
  }

  ChildFactory make_child_;
  mutable std::shared_mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>, internal::LabelValuesLess> children_;
};

}  // namespace cte::metrics
