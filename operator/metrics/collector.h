// The value model every metric source hands to the renderer: a FamilySnapshot is one metric
// family (name, help, type) with its samples at one instant. Families owned by the Registry
// produce snapshots from their atomics; a Collector produces them at scrape time from somewhere
// else (the process collector reads /proc). Keeping one plain model means the text format is
// written in exactly one place (text_format.cc) and tests can compare values without parsing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cte::metrics {

enum class MetricType { kCounter, kGauge, kHistogram };

// The word used on the `# TYPE` line.
const char* MetricTypeName(MetricType type);

struct Label {
  std::string name;
  std::string value;
  friend bool operator==(const Label&, const Label&) = default;
};

// A classic (bucketed) histogram. `bounds` are the finite upper bounds in increasing order;
// `cumulative_counts` has one entry per bound plus a last one for +Inf, which is also the count.
struct HistogramValue {
  std::vector<double> bounds;
  std::vector<uint64_t> cumulative_counts;
  double sum = 0;

  uint64_t count() const { return cumulative_counts.empty() ? 0 : cumulative_counts.back(); }
};

struct Sample {
  // Label pairs sorted by name, as client_golang emits them. Never contains `le`.
  std::vector<Label> labels;
  double value = 0;          // counters and gauges
  HistogramValue histogram;  // histograms
};

struct FamilySnapshot {
  std::string name;
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<Sample> samples;
};

// A source of metric families computed when scraped.
//
// Collect() runs on the scraping thread (an HTTP connection thread), possibly on several at once,
// so implementations must be thread-safe. It must not call back into the Registry. Families it
// returns must not reuse a name registered elsewhere in the same Registry: the Registry keeps the
// first and drops the duplicate so the exposition stays valid.
class Collector {
 public:
  virtual ~Collector() = default;
  virtual void Collect(std::vector<FamilySnapshot>& out) const = 0;
};

}  // namespace cte::metrics
