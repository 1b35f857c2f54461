// Children of a prometheus-cpp family whose label values are known only at run time (an HTTP
// status, a tenant), cached: prometheus-cpp's Family::Add builds a std::map of labels and hashes it
// under the family's lock on every call, which a hot path (every Kubernetes API request) should
// not pay. Here a repeat lookup is one shared-lock map search that allocates nothing; the first
// one per label set adds the child. Children are never removed, so references stay valid.
#pragma once

#include <algorithm>
#include <functional>
#include <initializer_list>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "operator/metrics/registry.h"

namespace cte::metrics {

template <typename T>
class ChildCache {
 public:
  // `label_names` in the order Get() takes values. `args` go to every new child (a histogram's
  // bucket bounds).
  template <typename... Args>
  ChildCache(Family<T>& family, std::vector<std::string> label_names, Args... args)
      : family_(family),
        names_(std::move(label_names)),
        make_([&family, args...](const prometheus::Labels& labels) -> T& {
          return family.Add(labels, args...);
        }) {}
  ChildCache(const ChildCache&) = delete;
  ChildCache& operator=(const ChildCache&) = delete;

  // The child for these label values, added at its zero value on first use. Thread-safe.
  T& Get(std::initializer_list<std::string_view> values) {
    if (values.size() != names_.size()) {
      internal::Fatal("got " + std::to_string(values.size()) + " label values, want " +
                      std::to_string(names_.size()));
    }
    {
      std::shared_lock<std::shared_mutex> lock(mu_);
      auto it = children_.find(values);
      if (it != children_.end()) return *it->second;
    }
    std::unique_lock<std::shared_mutex> lock(mu_);
    auto it = children_.find(values);
    if (it != children_.end()) return *it->second;
    prometheus::Labels labels;
    size_t i = 0;
    for (std::string_view v : values) labels.emplace(names_[i++], std::string(v));
    T& child = make_(labels);
    children_.emplace(std::vector<std::string>(values.begin(), values.end()), &child);
    return child;
  }

 private:
  // Orders label-value tuples; transparent, so a lookup with string_views allocates nothing.
  struct ValuesLess {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return std::lexicographical_compare(
          a.begin(), a.end(), b.begin(), b.end(),
          [](std::string_view x, std::string_view y) { return x < y; });
    }
  };

  Family<T>& family_;
  const std::vector<std::string> names_;
  const std::function<T&(const prometheus::Labels&)> make_;
  std::shared_mutex mu_;
  std::map<std::vector<std::string>, T*, ValuesLess> children_;
};

}  // namespace cte::metrics
