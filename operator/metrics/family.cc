#include "operator/metrics/family.h"

#include <cstdio>
#include <cstdlib>
#include <numeric>

namespace cte::metrics {

namespace internal {

void Fatal(std::string_view message) {
  std::fprintf(stderr, "cte metrics: %.*s\n", static_cast<int>(message.size()), message.data());
  std::fflush(stderr);
  std::abort();
}

namespace {
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
}  // namespace

bool IsValidMetricName(std::string_view name) {
  if (name.empty() || !(IsAlpha(name[0]) || name[0] == ':')) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return IsAlpha(c) || IsDigit(c) || c == ':'; });
}

bool IsValidLabelName(std::string_view name) {
  if (name.empty() || !IsAlpha(name[0]) || name.starts_with("__")) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return IsAlpha(c) || IsDigit(c); });
}

}  // namespace internal

FamilyBase::FamilyBase(std::string name, std::string help, MetricType type,
                       std::vector<std::string> label_names)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)),
      sorted_order_(label_names_.size()) {
  std::iota(sorted_order_.begin(), sorted_order_.end(), size_t{0});
  std::sort(sorted_order_.begin(), sorted_order_.end(),
            [this](size_t a, size_t b) { return label_names_[a] < label_names_[b]; });
}

void FamilyBase::CheckArity(size_t count) const {
  if (count != label_names_.size()) {
    internal::Fatal(name_ + ": got " + std::to_string(count) + " label values, want " +
                    std::to_string(label_names_.size()));
  }
}

FamilySnapshot FamilyBase::Snapshot() const {
  FamilySnapshot out;
  out.name = name_;
  out.help = help_;
  out.type = type_;
  std::vector<std::vector<std::string>> values;
  CollectChildren(out.samples, values);
  for (size_t i = 0; i < out.samples.size(); ++i) {
    std::vector<Label>& labels = out.samples[i].labels;
    labels.reserve(sorted_order_.size());
    for (size_t pos : sorted_order_) labels.push_back({label_names_[pos], values[i][pos]});
  }
  // The children map is ordered by values in registration order; the exposition orders samples
  // by values in label-name order (client_golang does), so re-sort when the two differ.
  std::stable_sort(out.samples.begin(), out.samples.end(), [](const Sample& a, const Sample& b) {
    return std::lexicographical_compare(
        a.labels.begin(), a.labels.end(), b.labels.begin(), b.labels.end(),
        [](const Label& x, const Label& y) { return x.value < y.value; });
  });
  return out;
}

}  // namespace cte::metrics
