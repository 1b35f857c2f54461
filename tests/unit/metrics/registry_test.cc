// Tests operator/metrics/registry.cc and child_cache.h over prometheus-cpp: the exposition of a
// small registry (sorted, so every scrape of one state is byte-identical), registration rules,
// collectors, the NaN guards, cached children, and increments racing scrapes.
#include "operator/metrics/registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include "operator/metrics/buckets.h"
#include "operator/metrics/child_cache.h"

namespace cte::metrics {
namespace {

void FillDemo(Registry& r) {
  auto& requests = r.AddCounter("demo_requests_total", "Requests handled, by path and code.");
  requests.Add({{"path", "/b"}, {"code", "200"}}).Increment();
  AddToCounter(requests.Add({{"path", "/a"}, {"code", "500"}}), 2);
  requests.Add({{"path", "/a \"quoted\"\\ new\nline"}, {"code", "200"}}).Increment();
  r.AddGauge("demo_temperature_celsius", "A gauge.").Add({}).Set(-3.5);
  Histogram& h = r.AddHistogram("demo_latency_seconds", "Latency.")
                     .Add({{"handler", "get"}}, Histogram::BucketBoundaries{0.1, 0.5, 1});
  for (double v : {0.05, 0.1, 0.7, 3.0}) Observe(h, v);
  r.AddGauge("demo_unused", "Never set, so never shown.");
}

constexpr char kDemoGolden[] =
    "# HELP demo_latency_seconds Latency.\n"
    "# TYPE demo_latency_seconds histogram\n"
    "demo_latency_seconds_count{handler=\"get\"} 4\n"
    "demo_latency_seconds_sum{handler=\"get\"} 3.85\n"
    "demo_latency_seconds_bucket{handler=\"get\",le=\"0.1\"} 2\n"
    "demo_latency_seconds_bucket{handler=\"get\",le=\"0.5\"} 2\n"
    "demo_latency_seconds_bucket{handler=\"get\",le=\"1\"} 3\n"
    "demo_latency_seconds_bucket{handler=\"get\",le=\"+Inf\"} 4\n"
    "# HELP demo_requests_total Requests handled, by path and code.\n"
    "# TYPE demo_requests_total counter\n"
    "demo_requests_total{code=\"200\",path=\"/a \\\"quoted\\\"\\\\ new\\nline\"} 1\n"
    "demo_requests_total{code=\"200\",path=\"/b\"} 1\n"
    "demo_requests_total{code=\"500\",path=\"/a\"} 2\n"
    "# HELP demo_temperature_celsius A gauge.\n"
    "# TYPE demo_temperature_celsius gauge\n"
    "demo_temperature_celsius -3.5\n";

TEST(RegistryTest, RendersSortedTextWithEscapedLabelValues) {
  Registry r;
  FillDemo(r);
  EXPECT_EQ(r.Render(), kDemoGolden);
}

TEST(RegistryTest, OutputDoesNotDependOnRegistrationOrCreationOrder) {
  Registry b;
  b.AddGauge("z_last", "Z.").Add({}).Set(1);
  auto& g = b.AddGauge("a_first", "A.");
  for (const char* k : {"3", "1", "2"}) g.Add({{"k", k}, {"j", "x"}}).Set(1);
  std::string rendered = b.Render();
  EXPECT_EQ(rendered, b.Render());
  EXPECT_LT(rendered.find("a_first{j=\"x\",k=\"1\"}"), rendered.find("a_first{j=\"x\",k=\"2\"}"));
  EXPECT_LT(rendered.find("a_first{j=\"x\",k=\"3\"}"), rendered.find("z_last"));
}

TEST(RegistryTest, AskingForTheSameFamilyTwiceReturnsIt) {
  Registry r;
  auto& a = r.AddCounter("x_total", "X.");
  auto& b = r.AddCounter("x_total", "X.");
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(&a.Add({{"k", "v"}}), &b.Add({{"k", "v"}}));
}

TEST(RegistryDeathTest, MisuseStopsTheProcessWithAMessage) {
  Registry r;
  r.AddCounter("ok_total", "OK.");
  EXPECT_DEATH(r.AddCounter("requests", "No _total suffix."), "must be named \\*_total");
  EXPECT_DEATH(r.AddGauge("bad-name", "B."), "invalid metric name");
  EXPECT_DEATH(r.AddGauge("g", "Help with a\nnewline."), "backslash or a newline");
  EXPECT_DEATH(r.AddGauge("g", "Help with a \\ backslash."), "backslash or a newline");
  EXPECT_DEATH(r.AddGauge("ok_total", "OK."), "already registered");
  EXPECT_DEATH(r.AddCounter("ok_total", "Other help."), "already registered");
}

class FixedCollector : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    prometheus::MetricFamily f{"b_collected", "B.", prometheus::MetricType::Gauge, {}};
    prometheus::ClientMetric one;
    one.label = {{"z", "1"}, {"a", "2"}};
    one.gauge.value = 1;
    prometheus::ClientMetric two;
    two.label = {{"z", "0"}, {"a", "1"}};
    two.gauge.value = 2;
    f.metric = {one, two};
    // Same name as a registered family: dropped, the family wins.
    prometheus::MetricFamily dup{"a_family", "dup", prometheus::MetricType::Gauge, {one}};
    return {f, dup};
  }
};

TEST(RegistryTest, CollectorFamiliesAreMergedInOrderAndDuplicatesDropped) {
  Registry r;
  r.AddCollector(std::make_unique<FixedCollector>());
  r.AddGauge("a_family", "A.").Add({}).Set(7);
  r.AddGauge("c_family", "C.").Add({}).Set(8);
  EXPECT_EQ(r.Render(),
            "# HELP a_family A.\n# TYPE a_family gauge\na_family 7\n"
            "# HELP b_collected B.\n# TYPE b_collected gauge\n"
            "b_collected{a=\"1\",z=\"0\"} 2\nb_collected{a=\"2\",z=\"1\"} 1\n"
            "# HELP c_family C.\n# TYPE c_family gauge\nc_family 8\n");
}

TEST(RegistryTest, NaNNeverPoisonsACounterOrAHistogramSum) {
  Registry r;
  Counter& c = r.AddCounter("c_total", "C.").Add({});
  Histogram& h = r.AddHistogram("h_seconds", "H.").Add({}, Histogram::BucketBoundaries{1});
  AddToCounter(c, 2);
  for (double bad : {std::nan(""), -1.0, std::numeric_limits<double>::infinity()}) {
    AddToCounter(c, bad);
  }
  Observe(h, 0.5);
  Observe(h, std::nan(""));
  EXPECT_EQ(c.Value(), 2);
  std::string text = r.Render();
  EXPECT_NE(text.find("h_seconds_sum 0.5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_seconds_count 1\n"), std::string::npos) << text;
}

TEST(ChildCacheTest, RepeatLookupsReturnTheSameChildInLabelOrder) {
  Registry r;
  auto& family = r.AddCounter("lookups_total", "L.");
  ChildCache<Counter> cache(family, {"code", "method"});
  Counter& a = cache.Get({"200", "GET"});
  EXPECT_EQ(&a, &cache.Get({"200", "GET"}));
  EXPECT_NE(&a, &cache.Get({"GET", "200"}));
  // The same child prometheus-cpp has for these labels.
  EXPECT_EQ(&a, &family.Add({{"code", "200"}, {"method", "GET"}}));
  EXPECT_DEATH(cache.Get({"only-one"}), "got 1 label values, want 2");
}

TEST(ChildCacheTest, HistogramChildrenGetTheirBuckets) {
  Registry r;
  ChildCache<Histogram> cache(r.AddHistogram("d_seconds", "D."), {"tenant"},
                              Histogram::BucketBoundaries{0.5, 1});
  Observe(cache.Get({"acme"}), 0.7);
  EXPECT_NE(r.Render().find("d_seconds_bucket{tenant=\"acme\",le=\"1\"} 1\n"), std::string::npos);
}

TEST(BucketsTest, ExponentialBucketsMatchGoToTheLastDigit) {
  std::vector<double> b = ExponentialBuckets(10e-9, 10, 12);
  ASSERT_EQ(b.size(), 12u);
  EXPECT_EQ(b[0], 1e-08);
  EXPECT_EQ(b[3], 9.999999999999999e-06);  // Go's float64 repeated multiplication
  EXPECT_EQ(b[11], 1000);
  EXPECT_EQ(LinearBuckets(1, 2, 3), (std::vector<double>{1, 3, 5}));
}

TEST(RegistryTest, ConcurrentIncrementsAreNotLostWhileScraping) {
  Registry r;
  ChildCache<Counter> counters(r.AddCounter("work_total", "W."), {"worker"});
  Histogram& hist = r.AddHistogram("work_seconds", "W.").Add({}, Histogram::BucketBoundaries{0.5});
  Gauge& gauge = r.AddGauge("level", "L.").Add({});
  constexpr int kThreads = 8;
  constexpr int kIterations = 20000;
  std::atomic<bool> done{false};
  std::thread scraper([&] {
    while (!done.load()) r.Render();
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIterations; ++i) {
        // Everyone hits one shared child and also creates/looks up its own.
        counters.Get({"shared"}).Increment();
        counters.Get({std::to_string(t)}).Increment();
        Observe(hist, i % 2 == 0 ? 0.25 : 1.0);
        gauge.Increment();
        gauge.Decrement();
      }
    });
  }
  for (auto& th : threads) th.join();
  done = true;
  scraper.join();
  EXPECT_EQ(counters.Get({"shared"}).Value(), kThreads * kIterations);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(counters.Get({std::to_string(t)}).Value(), kIterations);
  }
  EXPECT_EQ(gauge.Value(), 0);
  std::string text = r.Render();
  EXPECT_NE(text.find("work_seconds_count 160000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("work_seconds_bucket{le=\"0.5\"} 80000\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace cte::metrics
