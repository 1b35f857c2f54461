#include "operator/kube/manager.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "operator/http/socket_transport.h"
#include "tests/unit/kube/fake_api.h"

namespace cte::kube {
namespace {

// Blocks inside Reconcile until released: a stuck worker.
class BlockingReconciler : public Reconciler {
 public:
  Result Reconcile(const Request&, const ReconcileContext&) override {
    std::unique_lock<std::mutex> lock(mu_);
    entered_ = true;
    cv_.notify_all();
    cv_.wait(lock, [this] { return released_; });
    return Result::Ok();
  }
  void WaitEntered() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return entered_; });
  }
  bool Entered() {
    std::lock_guard<std::mutex> lock(mu_);
    return entered_;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool entered_ = false;
  bool released_ = false;
};

class ManagerProbeTest : public ::testing::Test {
 protected:
  ManagerProbeTest() {
    KubeConfig config;
    config.server = "http://127.0.0.1:1";  // never contacted: nothing here starts informers
    client_ = std::make_unique<KubeClient>(config, *transport_, clock_, random_);
    ManagerOptions options;
    options.stuck_worker_deadline = std::chrono::minutes(5);
    manager_ = std::make_unique<Manager>(*client_, clock_, random_, NullLogger(), nullptr, options);
  }

  SimulatedClock clock_;
  FixedRandom random_;
  std::unique_ptr<http::HttpTransport> transport_ = http::NewSocketTransport();
  std::unique_ptr<KubeClient> client_;
  std::unique_ptr<Manager> manager_;
};

TEST_F(ManagerProbeTest, HealthzFailsWhenAReconcileRunsPastTheDeadline) {
  BlockingReconciler reconciler;
  Controller& c = manager_->AddController("stuck", reconciler);
  c.Start();
  c.queue().Add("ns/a");
  reconciler.WaitEntered();

  auto healthy = manager_->Healthz(false);
  EXPECT_TRUE(healthy.first);
  EXPECT_EQ(healthy.second, "ok");

  clock_.Advance(std::chrono::minutes(5) + std::chrono::seconds(1));
  auto stuck = manager_->Healthz(true);
  EXPECT_FALSE(stuck.first);
  EXPECT_NE(stuck.second.find("[+]ping ok"), std::string::npos) << stuck.second;
  EXPECT_NE(stuck.second.find("[-]workers failed: stuck has a reconcile running past the deadline"),
            std::string::npos)
      << stuck.second;
  EXPECT_NE(stuck.second.find("healthz check failed"), std::string::npos);

  reconciler.Release();
  std::thread stopper([&] { c.Stop(std::chrono::seconds(10)); });
  stopper.join();
  EXPECT_TRUE(manager_->Healthz(false).first);
}

TEST_F(ManagerProbeTest, ReadyzWaitsForEveryInformerToSync) {
  manager_->InformerFor({"cte.netskope.io", "v1alpha1", "netskopetenants", true, "NetskopeTenant"});
  auto ready = manager_->Readyz(true);
  EXPECT_FALSE(ready.first);
  EXPECT_NE(
      ready.second.find("[-]informer-sync failed: netskopetenants.cte.netskope.io not synced"),
      std::string::npos)
      << ready.second;
  EXPECT_NE(ready.second.find("readyz check failed"), std::string::npos);
}

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

bool WaitUntil(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return done();
}

const GroupVersionResource kThings{"test.example.com", "v1", "things", true, "Thing"};

// A leader-elected manager with one controller over one kind, against the fake API, on a
// simulated clock that the test moves.
class ManagerLifecycleTest : public ::testing::Test {
 protected:
  ManagerLifecycleTest() {
    KubeConfig config;
    config.server = "http://fake";
    client_ = std::make_unique<KubeClient>(config, api_, clock_, random_);
    options_.leader_elect = true;
    options_.leader_election = {"ns", "lease", "me"};
    options_.drain_budget = seconds(25);
    options_.cache_sync_timeout = seconds(60);
    api_.OnSend("/things", [this](const http::ClientRequest&) {
      if (list_delay_ > Duration::zero()) clock_.SleepFor(list_delay_);
      // Forbidden, as a missing RBAC rule answers: the cache can never sync.
      if (list_fails_) return testing::FakeApi::Answer(403, {{"kind", "Status"}});
      return testing::FakeApi::Answer(
          200, {{"kind", "ThingList"},
                {"metadata", {{"resourceVersion", "5"}}},
                {"items", {{{"metadata", {{"name", "a"}, {"namespace", "ns"}}}}}}});
    });
  }
  ~ManagerLifecycleTest() override {
    reconciler_.Release();
    if (manager_) manager_->Stop();
    while (thread_.joinable() && !finished_) Step();
    if (thread_.joinable()) thread_.join();
    // A reconcile left behind by an exhausted drain budget still runs on its detached worker
    // (the process would have exited); let it finish before the manager goes away.
    if (manager_) {
      EXPECT_TRUE(WaitUntil([&] { return manager_->Idle(); }));
    }
  }

  void Start() {
    manager_ =
        std::make_unique<Manager>(*client_, clock_, random_, NullLogger(), nullptr, options_);
    Informer& things = manager_->InformerFor(kThings);
    manager_->AddController("things", reconciler_).For(things);
    if (before_run_) before_run_(*manager_);
    thread_ = std::thread([this] {
      code_ = manager_->Run();
      finished_ = true;
    });
    ASSERT_TRUE(WaitUntil([&] { return clock_.waiters() >= kParked; }));
  }

  // The threads that wait on the clock: the manager's, the elector's and the informer's (in a
  // watch, a list, or a backoff). Reconcile workers wait on their queue instead.
  static constexpr int kParked = 3;

  // One step of simulated time, taken once those threads are all waiting and none is past its
  // deadline (a thread woken by the previous step has run into its next wait).
  void Step(Duration step = milliseconds(100)) {
    auto settled = [&] {
      return (clock_.waiters() >= kParked && clock_.due_waiters() == 0) || finished_;
    };
    EXPECT_TRUE(WaitUntil(settled));
    clock_.Advance(step);
    EXPECT_TRUE(WaitUntil(settled));
  }
  // Moves time on until `done` (which may also come true in real time, from work that needs no
  // more simulated time) or until `limit` of simulated time has passed.
  bool StepUntil(const std::function<bool()>& done, Duration limit) {
    MonoTime start = clock_.Now();
    while (!done() && clock_.Now() - start < limit) Step();
    return WaitUntil(done);
  }
  void StepFor(Duration d) {
    MonoTime start = clock_.Now();
    while (clock_.Now() - start < d) Step();
  }
  std::string Holder() { return api_.LeaseSpec().value("holderIdentity", "?"); }

  SimulatedClock clock_;
  FixedRandom random_;
  testing::FakeApi api_{clock_};
  std::unique_ptr<KubeClient> client_;
  ManagerOptions options_;
  BlockingReconciler reconciler_;
  std::unique_ptr<Manager> manager_;
  std::thread thread_;
  std::atomic<bool> finished_{false};
  std::atomic<int> code_{-1};
  Duration list_delay_{0};
  bool list_fails_ = false;
  std::function<void(Manager&)> before_run_;
};

TEST_F(ManagerLifecycleTest, StopDrainsInFlightReconcilesBeforeReleasingTheLease) {
  Start();
  StepUntil([&] { return reconciler_.Entered(); }, seconds(10));
  ASSERT_TRUE(reconciler_.Entered());
  ASSERT_EQ(Holder(), "me");

  manager_->Stop();  // SIGTERM while a reconcile is writing
  int writes = api_.LeaseWrites();
  // Longer than the renew deadline: the lease must stay ours and keep being renewed while the
  // reconcile drains, or a standby could start writing next to it.
  StepFor(seconds(12));
  EXPECT_FALSE(finished_);
  EXPECT_EQ(Holder(), "me");
  EXPECT_GE(api_.LeaseWrites(), writes + 5);

  reconciler_.Release();
  StepUntil([&] { return finished_.load(); }, seconds(5));
  ASSERT_TRUE(finished_);
  EXPECT_EQ(code_, 0);
  EXPECT_TRUE(manager_->drained());
  EXPECT_EQ(Holder(), "");  // released only now
}

// Leader-only work that is not a controller (the alert pollers) stops after the drain and while
// the lease is still ours: a successor never runs beside it.
TEST_F(ManagerLifecycleTest, LeaderOnlyWorkStopsBeforeTheLeaseIsReleased) {
  std::vector<std::string> order;
  before_run_ = [&](Manager& m) {
    m.OnStoppedLeading([&] { order.push_back("first registered, holder " + Holder()); });
    m.OnStoppedLeading([&] { order.push_back("second registered, holder " + Holder()); });
  };
  Start();
  StepUntil([&] { return reconciler_.Entered(); }, seconds(10));
  manager_->Stop();
  StepFor(seconds(2));
  EXPECT_TRUE(order.empty());  // the reconcile is still draining
  reconciler_.Release();
  StepUntil([&] { return finished_.load(); }, seconds(5));
  ASSERT_TRUE(finished_);
  EXPECT_EQ(order, (std::vector<std::string>{"second registered, holder me",
                                             "first registered, holder me"}));
  EXPECT_EQ(Holder(), "");
}

TEST_F(ManagerLifecycleTest, AReconcileOutlivingTheDrainBudgetKeepsTheLease) {
  options_.drain_budget = seconds(5);
  Start();
  StepUntil([&] { return reconciler_.Entered(); }, seconds(10));
  manager_->Stop();
  StepUntil([&] { return finished_.load(); }, seconds(8));
  ASSERT_TRUE(finished_);
  EXPECT_FALSE(manager_->drained());
  // Not released: it expires on its own once this process has exited.
  EXPECT_EQ(Holder(), "me");
}

TEST_F(ManagerLifecycleTest, RenewalGoesOnWhileCachesSync) {
  list_delay_ = seconds(30);  // a slow first list: cache sync takes 30 s
  Start();
  StepUntil([&] { return api_.LeaseWrites() >= 1; }, seconds(5));
  int writes = api_.LeaseWrites();
  StepFor(seconds(25));
  EXPECT_FALSE(reconciler_.Entered());  // still syncing
  EXPECT_GE(api_.LeaseWrites(), writes + 10);
  EXPECT_EQ(Holder(), "me");
  StepUntil([&] { return reconciler_.Entered(); }, seconds(10));
  EXPECT_TRUE(reconciler_.Entered());
}

TEST_F(ManagerLifecycleTest, CachesThatFailToSyncExitNonZeroWithoutStartingControllers) {
  list_fails_ = true;
  Start();
  StepUntil([&] { return finished_.load(); }, seconds(90));
  ASSERT_TRUE(finished_);
  EXPECT_EQ(code_, 1);
  EXPECT_FALSE(reconciler_.Entered());
  EXPECT_EQ(Holder(), "");  // nothing was written under it, so the next leader may start now
}

}  // namespace
}  // namespace cte::kube
