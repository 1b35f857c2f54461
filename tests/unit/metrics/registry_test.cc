// Tests operator/metrics/registry.cc and family.h: the exact exposition of a small registry,
// determinism, registration rules, and thread-safety of increments.
#include "operator/metrics/registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <thread>
#include <vector>

namespace cte::metrics {
namespace {

void FillDemo(Registry& r) {
  auto& requests =
      r.AddCounter("demo_requests_total", "Requests handled, by path and code.", {"path", "code"});
  requests.Labels({"/b", "200"}).Inc();
  requests.Labels({"/a", "500"}).Add(2);
  requests.Labels({"/a \"quoted\"\\ new\nline", "200"}).Inc();
  r.AddGauge("demo_temperature_celsius", "Help with a backslash \\ and a\nnewline.")
      .Labels({})
      .Set(-3.5);
  Histogram& h = r.AddHistogram("demo_latency_seconds", "Latency.", {"handler"}, {0.1, 0.5, 1})
                     .Labels({"get"});
  for (double v : {0.05, 0.1, 0.7, 3.0}) h.Observe(v);
  r.AddGauge("demo_unused", "Never set, so never shown.", {"x"});
}

constexpr char kDemoGolden[] =
    "# HELP demo_latency_seconds Latency.\n"
    "# TYPE demo_latency_seconds histogram\n"
    "demo_latency_seconds_bucket{handler=\"get\",le=\"0.1\"} 2\n"
    "demo_latency_seconds_bucket{handler=\"get\",le=\"0.5\"} 2\n"
    "demo_latency_seconds_bucket{handler=\"get\",le=\"1\"} 3\n"
    "demo_latency_seconds_bucket{handler=\"get\",le=\"+Inf\"} 4\n"
    "demo_latency_seconds_sum{handler=\"get\"} 3.85\n"
    "demo_latency_seconds_count{handler=\"get\"} 4\n"
    "# HELP demo_requests_total Requests handled, by path and code.\n"
    "# TYPE demo_requests_total counter\n"
    "demo_requests_total{code=\"200\",path=\"/a \\\"quoted\\\"\\\\ new\\nline\"} 1\n"
    "demo_requests_total{code=\"200\",path=\"/b\"} 1\n"
    "demo_requests_total{code=\"500\",path=\"/a\"} 2\n"
    "# HELP demo_temperature_celsius Help with a backslash \\\\ and a\\nnewline.\n"
    "# TYPE demo_temperature_celsius gauge\n"
    "demo_temperature_celsius -3.5\n";

TEST(RegistryTest, RendersTheTextFormatExactly) {
  Registry r;
  FillDemo(r);
  EXPECT_EQ(r.Render(), kDemoGolden);
}

TEST(RegistryTest, OutputDoesNotDependOnRegistrationOrCreationOrder) {
  Registry a;
  FillDemo(a);
  Registry b;
  b.AddGauge("z_last", "Z.").Labels({}).Set(1);
  auto& g = b.AddGauge("a_first", "A.", {"k", "j"});
  g.Labels({"2", "x"}).Set(2);
  g.Labels({"1", "y"}).Set(1);
  FillDemo(b);
  std::string rendered = b.Render();
  EXPECT_EQ(rendered, b.Render());
  EXPECT_EQ(rendered.find("# HELP a_first"), 0u);
  // Labels by name (j before k), samples by those values: j="x" before j="y".
  EXPECT_NE(rendered.find("a_first{j=\"x\",k=\"2\"} 2\na_first{j=\"y\",k=\"1\"} 1\n"),
            std::string::npos)
      << rendered;
  EXPECT_NE(rendered.find(kDemoGolden), std::string::npos);
}

TEST(RegistryTest, HistogramBucketsAreLessOrEqualAndNanGoesToInf) {
  Registry r;
  Histogram& h = r.AddHistogram("h_seconds", "H.", {}, {1, 2}).Labels({});
  h.Observe(1);    // on the bound: first bucket
  h.Observe(1.5);  // second
  h.Observe(std::nan(""));
  HistogramValue v = h.Read();
  EXPECT_EQ(v.cumulative_counts, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(v.count(), 3u);
}

TEST(RegistryTest, InfBoundIsDroppedBecauseItIsAlwaysAdded) {
  Registry r;
  r.AddHistogram("h_seconds", "H.", {}, {1, std::numeric_limits<double>::infinity()})
      .Labels({})
      .Observe(5);
  EXPECT_EQ(r.Render(),
            "# HELP h_seconds H.\n# TYPE h_seconds histogram\n"
            "h_seconds_bucket{le=\"1\"} 0\nh_seconds_bucket{le=\"+Inf\"} 1\n"
            "h_seconds_sum 5\nh_seconds_count 1\n");
}

TEST(RegistryTest, CountersIgnoreNegativeAddsAndKeepFractions) {
  Registry r;
  Counter& c = r.AddCounter("c_total", "C.").Labels({});
  c.Add(1.5);
  c.Add(-10);
  c.Inc();
  EXPECT_DOUBLE_EQ(c.Value(), 2.5);
}

TEST(RegistryTest, IdenticalRegistrationReturnsTheSameFamily) {
  Registry r;
  auto& a = r.AddCounter("x_total", "X.", {"k"});
  auto& b = r.AddCounter("x_total", "X.", {"k"});
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(&a.Labels({"v"}), &b.Labels({"v"}));
  std::vector<std::string> values = {"v"};
  EXPECT_EQ(&a.Labels(values), &a.Labels({"v"}));
}

TEST(RegistryDeathTest, MisuseStopsTheProcessWithAMessage) {
  Registry r;
  auto& fam = r.AddCounter("ok_total", "OK.", {"a", "b"});
  EXPECT_DEATH(r.AddCounter("requests", "No _total suffix."), "must be named \\*_total");
  EXPECT_DEATH(r.AddGauge("bad-name", "B."), "invalid metric name");
  EXPECT_DEATH(r.AddGauge("g", "G.", {"__reserved"}), "invalid label name");
  EXPECT_DEATH(r.AddGauge("g", "G.", {"a", "a"}), "duplicate label name");
  EXPECT_DEATH(r.AddHistogram("h", "H.", {"le"}, {1}), "cannot have an \"le\" label");
  EXPECT_DEATH(r.AddHistogram("h", "H.", {}, {2, 1}), "strictly increasing");
  EXPECT_DEATH(r.AddGauge("ok_total", "OK."), "already registered");
  EXPECT_DEATH(fam.Labels({"only-one"}), "got 1 label values, want 2");
}

class FixedCollector : public Collector {
 public:
  void Collect(std::vector<FamilySnapshot>& out) const override {
    FamilySnapshot f{
        .name = "b_collected", .help = "B.", .type = MetricType::kGauge, .samples = {}};
    f.samples.push_back(Sample{.labels = {{"z", "1"}, {"a", "2"}}, .value = 1, .histogram = {}});
    f.samples.push_back(Sample{.labels = {{"z", "0"}, {"a", "1"}}, .value = 2, .histogram = {}});
    out.push_back(f);
    // Same name as a registered family: dropped, the family wins.
    out.push_back({.name = "a_family", .help = "dup", .type = MetricType::kGauge, .samples = {{}}});
  }
};

TEST(RegistryTest, CollectorFamiliesAreMergedInOrderAndDuplicatesDropped) {
  Registry r;
  r.AddCollector(std::make_unique<FixedCollector>());
  r.AddGauge("a_family", "A.").Labels({}).Set(7);
  r.AddGauge("c_family", "C.").Labels({}).Set(8);
  EXPECT_EQ(r.Render(),
            "# HELP a_family A.\n# TYPE a_family gauge\na_family 7\n"
            "# HELP b_collected B.\n# TYPE b_collected gauge\n"
            "b_collected{a=\"1\",z=\"0\"} 2\nb_collected{a=\"2\",z=\"1\"} 1\n"
            "# HELP c_family C.\n# TYPE c_family gauge\nc_family 8\n");
}

TEST(RegistryTest, ConcurrentIncrementsAreNeitherLostNorTorn) {
  Registry r;
  auto& counters = r.AddCounter("work_total", "W.", {"worker"});
  Histogram& hist = r.AddHistogram("work_seconds", "W.", {}, {0.5}).Labels({});
  Gauge& gauge = r.AddGauge("level", "L.").Labels({});
  constexpr int kThreads = 8;
  constexpr int kIterations = 20000;
  std::atomic<bool> done{false};

  // A scraper renders throughout; in every scrape the +Inf bucket must equal _count, or
  // Prometheus would reject the histogram.
  std::atomic<int> inconsistent_scrapes{0};
  auto value_after = [](const std::string& text, const std::string& prefix) {
    size_t at = text.find(prefix);
    return at == std::string::npos
               ? std::string()
               : text.substr(at + prefix.size(), text.find('\n', at) - at - prefix.size());
  };
  std::thread scraper([&] {
    while (!done.load()) {
      std::string text = r.Render();
      if (value_after(text, "work_seconds_bucket{le=\"+Inf\"} ") !=
          value_after(text, "work_seconds_count ")) {
        ++inconsistent_scrapes;
      }
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIterations; ++i) {
        // Everyone hits one shared child and also creates/looks up its own.
        counters.Labels({"shared"}).Inc();
        counters.Labels({std::to_string(t)}).Inc();
        hist.Observe(i % 2 == 0 ? 0.25 : 1.0);
        gauge.Inc();
        gauge.Dec();
      }
    });
  }
  for (auto& th : threads) th.join();
  done = true;
  scraper.join();

  EXPECT_EQ(counters.Labels({"shared"}).Value(), kThreads * kIterations);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(counters.Labels({std::to_string(t)}).Value(), kIterations);
  }
  HistogramValue v = hist.Read();
  EXPECT_EQ(v.count(), static_cast<uint64_t>(kThreads * kIterations));
  EXPECT_EQ(v.cumulative_counts[0], static_cast<uint64_t>(kThreads * kIterations / 2));
  EXPECT_DOUBLE_EQ(v.sum, kThreads * kIterations / 2 * 1.25);
  EXPECT_EQ(gauge.Value(), 0);
  EXPECT_EQ(inconsistent_scrapes.load(), 0);
}

}  // namespace
}  // namespace cte::metrics
