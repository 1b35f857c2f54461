#include "operator/kube/controller.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "operator/core/time_format.h"
#include "operator/kube/object_helpers.h"

namespace cte::kube {
namespace {

using nlohmann::json;

bool WaitUntil(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return done();
}

class ScriptedReconciler : public Reconciler {
 public:
  Result Reconcile(const Request& req, const ReconcileContext&) override {
    std::function<Result()> next;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++calls_[req.Key()];
      auto& script = scripts_[req.Key()];
      if (!script.empty()) {
        next = script.front();
        script.erase(script.begin());
      }
    }
    return next ? next() : Result::Ok();
  }
  void Script(const std::string& key, std::vector<std::function<Result()>> steps) {
    std::lock_guard<std::mutex> lock(mu_);
    scripts_[key] = std::move(steps);
  }
  int Calls(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_[key];
  }

 private:
  std::mutex mu_;
  std::map<std::string, int> calls_;
  std::map<std::string, std::vector<std::function<Result()>>> scripts_;
};

class FakeControllerMetrics : public metrics::ControllerMetrics {
 public:
  void ReconcileStarted() override {}
  void ReconcileFinished(metrics::ReconcileResult r, Duration) override {
    std::lock_guard<std::mutex> lock(mu);
    results.push_back(r);
  }
  void ReconcilePanicked() override { ++panics; }
  void ReconcileTimedOut() override {}
  void SetMaxConcurrentReconciles(int n) override { max = n; }
  std::mutex mu;
  std::vector<metrics::ReconcileResult> results;
  std::atomic<int> panics{0};
  int max = 0;
};

class ControllerTest : public ::testing::Test {
 protected:
  void SetUp() override { controller_.Start(); }
  void TearDown() override { controller_.Stop(std::chrono::seconds(5)); }

  RealClock clock_;  // workers block on the real queue; delays below are driven explicitly
  FixedRandom random_;
  ScriptedReconciler reconciler_;
  FakeControllerMetrics metrics_;
  Controller controller_{
      "test",
      reconciler_,
      clock_,
      random_,
      NullLogger(),
      ControllerOptions{2, {std::chrono::milliseconds(20), std::chrono::seconds(1), 2.0, 0}},
      nullptr,
      &metrics_};
};

// The result of a helper's write: success is Ok (not a terminal "error" with an OK status),
// a retryable failure is retried, anything else is terminal; NotFound on a lookup is done.
TEST(ResultTest, FromStatusAndIgnoreNotFoundClassifyByCode) {
  EXPECT_EQ(Result::FromStatus(Status::Ok()).kind(), Result::Kind::kOk);
  EXPECT_EQ(Result::FromStatus(UnavailableError("x")).kind(), Result::Kind::kRetryableError);
  EXPECT_EQ(Result::FromStatus(InvalidArgumentError("x")).kind(), Result::Kind::kTerminalError);
  EXPECT_EQ(Result::IgnoreNotFound(NotFoundError("x")).kind(), Result::Kind::kOk);
  EXPECT_EQ(Result::IgnoreNotFound(InvalidArgumentError("x")).kind(), Result::Kind::kTerminalError);
}

TEST_F(ControllerTest, RetryableErrorsAreRetriedUntilSuccess) {
  reconciler_.Script("ns/a", {[] { return Result::Error(UnavailableError("tenant down")); },
                              [] { return Result::Error(UnavailableError("tenant down")); },
                              [] { return Result::Ok(); }});
  controller_.queue().Add("ns/a");
  ASSERT_TRUE(WaitUntil([&] { return reconciler_.Calls("ns/a") == 3; }));
  ASSERT_TRUE(
      WaitUntil([&] { return controller_.queue().NumRequeues("ns/a") == 0; }));  // forgotten
}

TEST_F(ControllerTest, TerminalErrorIsNotRetriedUntilTheObjectChanges) {
  reconciler_.Script("ns/t", {[] { return Result::Terminal(InvalidArgumentError("bad spec")); }});
  controller_.queue().Add("ns/t");
  ASSERT_TRUE(WaitUntil([&] { return reconciler_.Calls("ns/t") == 1; }));
  // A different key proves the workers are still running and had time to pick up a retry.
  controller_.queue().Add("ns/other");
  ASSERT_TRUE(WaitUntil([&] { return reconciler_.Calls("ns/other") == 1; }));
  EXPECT_EQ(reconciler_.Calls("ns/t"), 1);
  EXPECT_EQ(controller_.queue().NumRequeues("ns/t"), 0);
  controller_.queue().Add("ns/t");  // the object changed
  ASSERT_TRUE(WaitUntil([&] { return reconciler_.Calls("ns/t") == 2; }));
  std::lock_guard<std::mutex> lock(metrics_.mu);
  EXPECT_NE(std::find(metrics_.results.begin(), metrics_.results.end(),
                      metrics::ReconcileResult::kTerminalError),
            metrics_.results.end());
}

TEST_F(ControllerTest, ExceptionIsCaughtCountedAndRetried) {
  reconciler_.Script("ns/p", {[]() -> Result { throw std::runtime_error("boom"); }});
  controller_.queue().Add("ns/p");
  ASSERT_TRUE(WaitUntil([&] { return reconciler_.Calls("ns/p") == 2; }));
  EXPECT_EQ(metrics_.panics.load(), 1);
  EXPECT_EQ(metrics_.max, 2);
}

TEST_F(ControllerTest, RequeueAfterComesBack) {
  reconciler_.Script("ns/r", {[] { return Result::RequeueAfter(std::chrono::milliseconds(30)); }});
  controller_.queue().Add("ns/r");
  ASSERT_TRUE(WaitUntil([&] { return reconciler_.Calls("ns/r") == 2; }));
}

// Controllers on a simulated clock: delays and deadlines happen only when the test moves time.
class SimulatedControllerTest : public ::testing::Test {
 protected:
  // On the simulated clock a drain budget never runs out unless the test moves time: Stop waits
  // until the workers have returned, so none outlives the controller.
  void TearDown() override { controller_.Stop(std::chrono::seconds(5)); }
  SimulatedClock clock_;
  FixedRandom random_;
  ScriptedReconciler reconciler_;
  FakeControllerMetrics metrics_;
  Controller controller_{"sim",   reconciler_,  clock_,
                         random_, NullLogger(), ControllerOptions{1, {}, std::chrono::minutes(5)},
                         nullptr, &metrics_};
};

TEST_F(SimulatedControllerTest, RetryAfterDelaysTheRetryAndTheBackoffStillAdvances) {
  auto throttled = [] {
    Status s(StatusCode::kResourceExhausted, "slow down");
    s.WithRetryAfter(2);
    return Result::Error(s);
  };
  reconciler_.Script("ns/a", {throttled, throttled, [] { return Result::Ok(); }});
  controller_.Start();
  controller_.queue().Add("ns/a");
  ASSERT_TRUE(WaitUntil([&] { return controller_.queue().NumWaiting() == 1; }));
  EXPECT_EQ(controller_.queue().NumRequeues("ns/a"), 1);  // the backoff advanced
  clock_.Advance(std::chrono::milliseconds(1999));
  EXPECT_EQ(reconciler_.Calls("ns/a"), 1);  // the server's 2 s are honoured
  clock_.Advance(std::chrono::milliseconds(1));
  ASSERT_TRUE(WaitUntil([&] { return controller_.queue().NumRequeues("ns/a") == 2; }));
  EXPECT_EQ(reconciler_.Calls("ns/a"), 2);
}

TEST_F(SimulatedControllerTest, AReconcileSeesItsDeadlineAndAnOverrunIsCounted) {
  std::atomic<bool> saw_time_left{false}, saw_done{false};
  class DeadlineReconciler : public Reconciler {
   public:
    DeadlineReconciler(SimulatedClock& clock, std::atomic<bool>& left, std::atomic<bool>& done)
        : clock_(clock), left_(left), done_(done) {}
    Result Reconcile(const Request&, const ReconcileContext& ctx) override {
      left_ = ctx.Remaining() == std::chrono::minutes(5) && !ctx.Done();
      clock_.Advance(std::chrono::minutes(6));  // a tenant call that took too long
      done_ = ctx.Done() && ctx.Remaining() == Duration::zero();
      return Result::Ok();
    }
    SimulatedClock& clock_;
    std::atomic<bool>& left_;
    std::atomic<bool>& done_;
  } deadline_reconciler(clock_, saw_time_left, saw_done);
  std::atomic<int> timeouts{0};
  struct CountingMetrics : FakeControllerMetrics {
    explicit CountingMetrics(std::atomic<int>& t) : t_(t) {}
    void ReconcileTimedOut() override { ++t_; }
    std::atomic<int>& t_;
  } counting(timeouts);
  Controller c("deadline", deadline_reconciler, clock_, random_, NullLogger(),
               ControllerOptions{1, {}, std::chrono::minutes(5)}, nullptr, &counting);
  c.Start();
  c.queue().Add("ns/slow");
  ASSERT_TRUE(WaitUntil([&] { return timeouts == 1; }));
  EXPECT_TRUE(saw_time_left);
  EXPECT_TRUE(saw_done);
  c.Stop(std::chrono::seconds(5));
}

TEST_F(SimulatedControllerTest, StoppingRaisesTheFlagAReconcileSees) {
  std::atomic<bool> entered{false}, release{false}, saw_stop{false};
  class WaitingReconciler : public Reconciler {
   public:
    WaitingReconciler(std::atomic<bool>& e, std::atomic<bool>& r, std::atomic<bool>& s)
        : e_(e), r_(r), s_(s) {}
    Result Reconcile(const Request&, const ReconcileContext& ctx) override {
      e_ = true;
      while (!ctx.Done() && !r_) std::this_thread::yield();
      s_ = ctx.Done();
      return Result::Ok();
    }
    std::atomic<bool>&e_, &r_, &s_;
  } waiting(entered, release, saw_stop);
  Controller c("stop", waiting, clock_, random_, NullLogger());
  c.Start();
  c.queue().Add("ns/a");
  c.queue().Add("ns/b");
  ASSERT_TRUE(WaitUntil([&] { return entered.load(); }));
  c.StopTakingWork();
  ASSERT_TRUE(WaitUntil([&] { return c.Idle(); }));
  EXPECT_TRUE(saw_stop);
  EXPECT_EQ(c.queue().Len(), 0u);  // ns/b was dropped, not reconciled during shutdown
  c.Stop(std::chrono::seconds(5));
}

TEST(PredicateTest, StatusOnlyChangesDoNotTrigger) {
  json base =
      json::parse(R"({"metadata":{"generation":3,"finalizers":["a"]},"spec":{"x":1},"status":{}})");
  json status_only = base;
  status_only["status"]["observedGeneration"] = 3;
  status_only["metadata"]["resourceVersion"] = "9";
  EXPECT_FALSE(DefaultUpdatePredicate(base, status_only));
  json spec = base;
  spec["metadata"]["generation"] = 4;
  EXPECT_TRUE(DefaultUpdatePredicate(base, spec));
  json deleting = base;
  deleting["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  EXPECT_TRUE(DefaultUpdatePredicate(base, deleting));
  json finalizers = base;
  finalizers["metadata"]["finalizers"] = json::array();
  EXPECT_TRUE(DefaultUpdatePredicate(base, finalizers));
  json requested = base;
  requested["metadata"]["annotations"][kReconcileRequestedAtAnnotation] = "now";
  EXPECT_TRUE(DefaultUpdatePredicate(base, requested));
  // Kinds without generation (Secrets): a data change counts.
  json s1 = json::parse(R"({"metadata":{"name":"s"},"data":{"k":"YQ=="}})");
  json s2 = json::parse(R"({"metadata":{"name":"s"},"data":{"k":"Yg=="}})");
  EXPECT_TRUE(DefaultUpdatePredicate(s1, s2));
}

TEST(ConditionTest, TransitionTimeMovesOnlyWhenStatusChanges) {
  json conditions;
  WallTime t1 = WallTime(std::chrono::seconds(1'800'000'000));
  WallTime t2 = t1 + std::chrono::minutes(5);
  EXPECT_TRUE(SetCondition(conditions, {"Ready", "False", "Pending", "waiting", 1}, t1));
  std::string first = conditions[0]["lastTransitionTime"];
  EXPECT_FALSE(SetCondition(conditions, {"Ready", "False", "Pending", "waiting", 1}, t2));
  EXPECT_TRUE(SetCondition(conditions, {"Ready", "False", "Other", "still waiting", 2}, t2));
  EXPECT_EQ(conditions[0]["lastTransitionTime"], first);  // same status: time kept
  EXPECT_TRUE(SetCondition(conditions, {"Ready", "True", "Done", "ok", 2}, t2));
  EXPECT_NE(conditions[0]["lastTransitionTime"], first);
  EXPECT_EQ(conditions[0]["lastTransitionTime"], FormatRfc3339(t2));
  EXPECT_EQ(conditions.size(), 1u);
  // A temporary argument is safe: the result is a copy.
  auto ready = FindCondition(json(conditions), "Ready");
  ASSERT_TRUE(ready.has_value());
  EXPECT_EQ((*ready)["status"], "True");
  EXPECT_FALSE(FindCondition(conditions, "Stalled").has_value());
}

}  // namespace
}  // namespace cte::kube
