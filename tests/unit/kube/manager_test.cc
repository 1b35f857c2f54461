#include "operator/kube/manager.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "operator/http/socket_transport.h"

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

}  // namespace
}  // namespace cte::kube
