// Tests operator/metrics/controller_runtime_metrics.cc: controller-runtime's names, help, labels
// and buckets, the series created at registration, and what each facade call records, read back
// from the prometheus-cpp registry underneath.
#include "operator/metrics/controller_runtime_metrics.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace cte::metrics {
namespace {

using std::chrono::milliseconds;

using Label = prometheus::ClientMetric::Label;

// The value of the sample of `family` whose labels are exactly `labels` (sorted by name).
std::optional<double> Value(const Registry& r, const std::string& family,
                            const std::vector<Label>& labels = {}) {
  for (const prometheus::MetricFamily& f : r.Collect()) {
    if (f.name != family) continue;
    for (const prometheus::ClientMetric& m : f.metric) {
      if (m.label != labels) continue;
      return f.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
    }
  }
  return std::nullopt;
}

struct HistogramValue {
  std::vector<uint64_t> cumulative_counts;  // one per bound, then +Inf
  double sum = 0;
  uint64_t count() const { return cumulative_counts.empty() ? 0 : cumulative_counts.back(); }
};

std::optional<HistogramValue> Hist(const Registry& r, const std::string& family,
                                   const std::vector<Label>& labels) {
  for (const prometheus::MetricFamily& f : r.Collect()) {
    if (f.name != family) continue;
    for (const prometheus::ClientMetric& m : f.metric) {
      if (m.label != labels) continue;
      HistogramValue out;
      out.sum = m.histogram.sample_sum;
      for (const auto& b : m.histogram.bucket) out.cumulative_counts.push_back(b.cumulative_count);
      return out;
    }
  }
  return std::nullopt;
}

// The `le` values of the first histogram series of `family` in the rendered text.
std::vector<std::string> LeValues(const std::string& text, const std::string& family) {
  std::vector<std::string> out;
  std::string prefix = family + "_bucket{";
  size_t pos = 0;
  while ((pos = text.find(prefix, pos)) != std::string::npos) {
    size_t le = text.find("le=\"", pos) + 4;
    out.push_back(text.substr(le, text.find('"', le) - le));
    if (out.back() == "+Inf") break;
    pos = le;
  }
  return out;
}

TEST(ControllerRuntimeMetricsTest, RegisteringAControllerCreatesEverySeriesAtZero) {
  Registry r;
  ControllerRuntimeMetrics m(r);
  m.Controller("sharingconfiguration", 3);
  const Label c{"controller", "sharingconfiguration"};
  for (const char* result : {"success", "error", "requeue", "requeue_after"}) {
    EXPECT_EQ(Value(r, "controller_runtime_reconcile_total", {c, {"result", result}}), 0) << result;
  }
  for (const char* name :
       {"controller_runtime_reconcile_errors_total",
        "controller_runtime_terminal_reconcile_errors_total",
        "controller_runtime_reconcile_panics_total", "controller_runtime_reconcile_timeouts_total",
        "controller_runtime_active_workers"}) {
    EXPECT_EQ(Value(r, name, {c}), 0) << name;
  }
  EXPECT_EQ(Value(r, "controller_runtime_max_concurrent_reconciles", {c}), 3);
  std::string text = r.Render();
  EXPECT_NE(text.find("controller_runtime_reconcile_total{controller=\"sharingconfiguration\","
                      "result=\"requeue_after\"} 0\n"),
            std::string::npos)
      << text;
}

TEST(ControllerRuntimeMetricsTest, NamesHelpAndTypesAreControllerRuntimes) {
  Registry r;
  ControllerRuntimeMetrics m(r);
  m.Controller("c", 1);
  m.Workqueue("c");
  m.RestClient().Observe(200, "GET", "10.0.0.1:443");
  m.Leader("cte-operator-lock");
  std::string text = r.Render();
  const char* lines[] = {
      "# HELP controller_runtime_reconcile_total Total number of reconciliations per controller\n"
      "# TYPE controller_runtime_reconcile_total counter\n",
      "# HELP controller_runtime_reconcile_errors_total Total number of reconciliation errors per "
      "controller\n# TYPE controller_runtime_reconcile_errors_total counter\n",
      "# HELP controller_runtime_terminal_reconcile_errors_total Total number of terminal "
      "reconciliation errors per controller\n"
      "# TYPE controller_runtime_terminal_reconcile_errors_total counter\n",
      "# HELP controller_runtime_reconcile_panics_total Total number of reconciliation panics per "
      "controller\n# TYPE controller_runtime_reconcile_panics_total counter\n",
      "# HELP controller_runtime_reconcile_timeouts_total Total number of reconciliation timeouts "
      "per controller\n# TYPE controller_runtime_reconcile_timeouts_total counter\n",
      "# HELP controller_runtime_reconcile_time_seconds Length of time per reconciliation per "
      "controller\n# TYPE controller_runtime_reconcile_time_seconds histogram\n",
      "# HELP controller_runtime_max_concurrent_reconciles Maximum number of concurrent reconciles "
      "per controller\n# TYPE controller_runtime_max_concurrent_reconciles gauge\n",
      "# HELP controller_runtime_active_workers Number of currently used workers per controller\n"
      "# TYPE controller_runtime_active_workers gauge\n",
      "# HELP workqueue_depth Current depth of workqueue by workqueue and priority\n"
      "# TYPE workqueue_depth gauge\n"
      "workqueue_depth{controller=\"c\",name=\"c\",priority=\"0\"} 0\n",
      "# HELP workqueue_adds_total Total number of adds handled by workqueue\n"
      "# TYPE workqueue_adds_total counter\n"
      "workqueue_adds_total{controller=\"c\",name=\"c\"} 0\n",
      "# HELP workqueue_queue_duration_seconds How long in seconds an item stays in workqueue "
      "before being requested\n# TYPE workqueue_queue_duration_seconds histogram\n",
      "# HELP workqueue_work_duration_seconds How long in seconds processing an item from "
      "workqueue takes.\n# TYPE workqueue_work_duration_seconds histogram\n",
      "# HELP workqueue_unfinished_work_seconds How many seconds of work has been done that is in "
      "progress and hasn't been observed by work_duration. Large values indicate stuck threads. "
      "One can deduce the number of stuck threads by observing the rate at which this "
      "increases.\n# TYPE workqueue_unfinished_work_seconds gauge\n"
      "workqueue_unfinished_work_seconds{controller=\"c\",name=\"c\"} 0\n",
      "# HELP workqueue_longest_running_processor_seconds How many seconds has the longest "
      "running processor for workqueue been running.\n"
      "# TYPE workqueue_longest_running_processor_seconds gauge\n"
      "workqueue_longest_running_processor_seconds{controller=\"c\",name=\"c\"} 0\n",
      "# HELP workqueue_retries_total Total number of retries handled by workqueue\n"
      "# TYPE workqueue_retries_total counter\n"
      "workqueue_retries_total{controller=\"c\",name=\"c\"} 0\n",
      "# HELP rest_client_requests_total Number of HTTP requests, partitioned by status code, "
      "method, and host.\n# TYPE rest_client_requests_total counter\n"
      "rest_client_requests_total{code=\"200\",host=\"10.0.0.1:443\",method=\"GET\"} 1\n",
      "# HELP leader_election_master_status Gauge of if the reporting system is master of the "
      "relevant lease, 0 indicates backup, 1 indicates master. 'name' is the string used to "
      "identify the lease. Please make sure to group by name.\n"
      "# TYPE leader_election_master_status gauge\n"
      "leader_election_master_status{name=\"cte-operator-lock\"} 0\n",
  };
  for (const char* want : lines) EXPECT_NE(text.find(want), std::string::npos) << want;
}

TEST(ControllerRuntimeMetricsTest, BucketsAreControllerRuntimes) {
  Registry r;
  ControllerRuntimeMetrics m(r);
  m.Controller("c", 1);
  m.Workqueue("c");
  std::string text = r.Render();
  EXPECT_EQ(
      LeValues(text, "controller_runtime_reconcile_time_seconds"),
      (std::vector<std::string>{
          "0.005", "0.01", "0.025", "0.05", "0.1", "0.15", "0.2", "0.25", "0.3", "0.35", "0.4",
          "0.45",  "0.5",  "0.6",   "0.7",  "0.8", "0.9",  "1",   "1.25", "1.5", "1.75", "2",
          "2.5",   "3",    "3.5",   "4",    "4.5", "5",    "6",   "7",    "8",   "9",    "10",
          "15",    "20",   "25",    "30",   "40",  "50",   "60",  "+Inf"}));
  const std::vector<std::string> exponential = {"1e-08",
                                                "1e-07",
                                                "1e-06",
                                                "9.999999999999999e-06",
                                                "9.999999999999999e-05",
                                                "0.001",
                                                "0.01",
                                                "0.1",
                                                "1",
                                                "10",
                                                "100",
                                                "1000",
                                                "+Inf"};
  EXPECT_EQ(LeValues(text, "workqueue_queue_duration_seconds"), exponential);
  EXPECT_EQ(LeValues(text, "workqueue_work_duration_seconds"), exponential);
}

struct ResultCase {
  ReconcileResult result;
  const char* result_label;
  double errors;
  double terminal;
};

TEST(ControllerRuntimeMetricsTest, ReconcileFinishedCountsEachResultLikeControllerRuntime) {
  const ResultCase cases[] = {
      {ReconcileResult::kSuccess, "success", 0, 0},
      {ReconcileResult::kRequeue, "requeue", 0, 0},
      {ReconcileResult::kRequeueAfter, "requeue_after", 0, 0},
      {ReconcileResult::kError, "error", 1, 0},
      {ReconcileResult::kTerminalError, "error", 1, 1},
  };
  for (const ResultCase& tc : cases) {
    Registry r;
    ControllerRuntimeMetrics m(r);
    ControllerMetrics& c = m.Controller("x", 2);
    const Label ctl{"controller", "x"};
    c.ReconcileStarted();
    EXPECT_EQ(Value(r, "controller_runtime_active_workers", {ctl}), 1);
    c.ReconcileFinished(tc.result, milliseconds(30));
    EXPECT_EQ(Value(r, "controller_runtime_active_workers", {ctl}), 0);
    EXPECT_EQ(Value(r, "controller_runtime_reconcile_total", {ctl, {"result", tc.result_label}}), 1)
        << tc.result_label;
    EXPECT_EQ(Value(r, "controller_runtime_reconcile_errors_total", {ctl}), tc.errors);
    EXPECT_EQ(Value(r, "controller_runtime_terminal_reconcile_errors_total", {ctl}), tc.terminal);
    auto h = Hist(r, "controller_runtime_reconcile_time_seconds", {ctl});
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->count(), 1u);
    EXPECT_DOUBLE_EQ(h->sum, 0.03);
    EXPECT_EQ(h->cumulative_counts[2], 0u);  // le=0.025
    EXPECT_EQ(h->cumulative_counts[3], 1u);  // le=0.05
  }
}

TEST(ControllerRuntimeMetricsTest, PanicsAndTimeoutsAreCountedSeparately) {
  Registry r;
  ControllerRuntimeMetrics m(r);
  ControllerMetrics& c = m.Controller("x", 1);
  c.ReconcileStarted();
  c.ReconcilePanicked();
  c.ReconcileFinished(ReconcileResult::kError, milliseconds(1));
  c.ReconcileStarted();
  c.ReconcileTimedOut();
  c.ReconcileFinished(ReconcileResult::kError, milliseconds(1));
  const Label ctl{"controller", "x"};
  EXPECT_EQ(Value(r, "controller_runtime_reconcile_panics_total", {ctl}), 1);
  EXPECT_EQ(Value(r, "controller_runtime_reconcile_timeouts_total", {ctl}), 1);
  EXPECT_EQ(Value(r, "controller_runtime_reconcile_errors_total", {ctl}), 2);
}

TEST(ControllerRuntimeMetricsTest, AskingTwiceReturnsTheSameFacadeAndUpdatesWorkers) {
  Registry r;
  ControllerRuntimeMetrics m(r);
  ControllerMetrics& a = m.Controller("x", 1);
  ControllerMetrics& b = m.Controller("x", 4);
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(Value(r, "controller_runtime_max_concurrent_reconciles", {{"controller", "x"}}), 4);
  EXPECT_EQ(&m.Workqueue("x"), &m.Workqueue("x"));
  EXPECT_EQ(&m.Leader("l"), &m.Leader("l"));
  EXPECT_EQ(&m.RestClient(), &m.RestClient());
}

TEST(ControllerRuntimeMetricsTest, WorkqueueTracksDepthPerPriorityAndDurations) {
  Registry r;
  ControllerRuntimeMetrics m(r);
  WorkqueueMetrics& q = m.Workqueue("q");
  auto depth = [&](const char* priority) {
    return Value(r, "workqueue_depth",
                 {{"controller", "q"}, {"name", "q"}, {"priority", priority}});
  };
  const std::vector<Label> qq = {{"controller", "q"}, {"name", "q"}};
  q.Add(0);
  q.Add(-100);
  q.Add(-100);
  EXPECT_EQ(depth("0"), 1);
  EXPECT_EQ(depth("-100"), 2);
  q.UpdatePriority(-100, 0);
  EXPECT_EQ(depth("0"), 2);
  EXPECT_EQ(depth("-100"), 1);
  q.Get(0, milliseconds(2));
  q.Done(milliseconds(1500));
  q.Retry();
  q.SetUnfinishedWork({.total = milliseconds(2500), .longest = milliseconds(2000)});
  EXPECT_EQ(depth("0"), 1);
  EXPECT_EQ(Value(r, "workqueue_adds_total", qq), 3);
  EXPECT_EQ(Value(r, "workqueue_retries_total", qq), 1);
  EXPECT_EQ(Value(r, "workqueue_unfinished_work_seconds", qq), 2.5);
  EXPECT_EQ(Value(r, "workqueue_longest_running_processor_seconds", qq), 2);
  EXPECT_DOUBLE_EQ(Hist(r, "workqueue_queue_duration_seconds", qq)->sum, 0.002);
  EXPECT_EQ(Hist(r, "workqueue_work_duration_seconds", qq)->cumulative_counts[8], 0u);  // le=1
  EXPECT_EQ(Hist(r, "workqueue_work_duration_seconds", qq)->cumulative_counts[9], 1u);  // le=10
}

TEST(ControllerRuntimeMetricsTest, DepthPrioritiesBeyondTheLimitShareOneSeries) {
  Registry r;
  ControllerRuntimeMetrics m(r);
  WorkqueueMetrics& q = m.Workqueue("q");
  // Priority 0 already has its series; 24 more fit, the rest overflow.
  for (int p = 1; p <= 30; ++p) q.Add(p);
  auto depth = [&](const std::string& priority) {
    return Value(r, "workqueue_depth",
                 {{"controller", "q"}, {"name", "q"}, {"priority", priority}});
  };
  EXPECT_EQ(depth("24"), 1);
  EXPECT_EQ(depth("25"), std::nullopt);
  EXPECT_EQ(depth("exceeded_cardinality_limit"), 6);
  // A priority seen before the limit keeps its own series; overflowed ones meet on theirs.
  q.Get(24, milliseconds(1));
  q.Get(30, milliseconds(1));
  EXPECT_EQ(depth("24"), 0);
  EXPECT_EQ(depth("exceeded_cardinality_limit"), 5);
}

TEST(ControllerRuntimeMetricsTest, RestClientRecordsCodeMethodHostAndErrors) {
  Registry r;
  ControllerRuntimeMetrics m(r);
  RestClientMetrics& rc = m.RestClient();
  rc.Observe(200, "GET", "127.0.0.1:6443");
  rc.Observe(200, "GET", "127.0.0.1:6443");
  rc.Observe(409, "PUT", "127.0.0.1:6443");
  rc.Observe(RestClientMetrics::kNoResponse, "GET", "127.0.0.1:6443");
  auto count = [&](const char* code, const char* method) {
    return Value(r, "rest_client_requests_total",
                 {{"code", code}, {"host", "127.0.0.1:6443"}, {"method", method}});
  };
  EXPECT_EQ(count("200", "GET"), 2);
  EXPECT_EQ(count("409", "PUT"), 1);
  EXPECT_EQ(count("<error>", "GET"), 1);
}

TEST(ControllerRuntimeMetricsTest, LeaderGaugeStartsStandingByAndFollowsSet) {
  Registry r;
  ControllerRuntimeMetrics m(r);
  LeaderMetrics& l = m.Leader("cte-operator");
  const std::vector<Label> name = {{"name", "cte-operator"}};
  EXPECT_EQ(Value(r, "leader_election_master_status", name), 0);
  l.Set(true);
  EXPECT_EQ(Value(r, "leader_election_master_status", name), 1);
  l.Set(false);
  EXPECT_EQ(Value(r, "leader_election_master_status", name), 0);
}

}  // namespace
}  // namespace cte::metrics
