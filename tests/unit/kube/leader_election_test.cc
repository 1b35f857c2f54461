// The elector on a simulated clock against a fake Lease API whose GET and PUT can hang or be slow.
#include "operator/kube/leader_election.h"

#include <gtest/gtest.h>

#include <thread>

#include "tests/unit/kube/fake_api.h"

namespace cte::kube {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

class RecordingLeaderMetrics : public metrics::LeaderMetrics {
 public:
  void Set(bool is_leader) override { leader = is_leader; }
  std::atomic<bool> leader{false};
};

bool WaitUntil(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return done();
}

class LeaderElectionTest : public ::testing::Test {
 protected:
  LeaderElectionTest() {
    KubeConfig config;
    config.server = "http://fake";
    client_ = std::make_unique<KubeClient>(config, api_, clock_, random_);
  }
  ~LeaderElectionTest() override {
    if (elector_) elector_->Stop();
    // Let a thread blocked in a delayed request run out its wait.
    while (thread_.joinable() && !finished_) {
      clock_.Advance(seconds(1));
      std::this_thread::sleep_for(milliseconds(1));
    }
    if (thread_.joinable()) thread_.join();
  }

  void Start(const std::string& identity = "me") {
    LeaderElectionConfig c;
    c.lease_namespace = "ns";
    c.lease_name = "lease";
    c.identity = identity;
    elector_ = std::make_unique<LeaderElector>(*client_, clock_, NullLogger(), c, &metrics_);
    thread_ = std::thread([this] {
      elector_->Run([this] { ++started_; }, [this] { ++lost_; });
      finished_ = true;
    });
  }

  // Moves simulated time forward in small steps, each once the elector thread is blocked on the
  // clock (in its retry wait or in a delayed request), until `done` or `limit` has passed.
  // Returns the simulated time that passed.
  Duration AdvanceUntil(const std::function<bool()>& done, Duration limit,
                        Duration step = milliseconds(100)) {
    MonoTime start = clock_.Now();
    while (!done() && clock_.Now() - start < limit) {
      EXPECT_TRUE(WaitUntil([&] { return clock_.waiters() >= 1 || finished_; }));
      clock_.Advance(step);
      // Let a thread woken by the step run (into its next wait) before judging `done`.
      EXPECT_TRUE(WaitUntil(
          [&] { return (clock_.waiters() >= 1 && clock_.due_waiters() == 0) || finished_; }));
    }
    return clock_.Now() - start;
  }

  SimulatedClock clock_;
  FixedRandom random_;
  testing::FakeApi api_{clock_};
  std::unique_ptr<KubeClient> client_;
  RecordingLeaderMetrics metrics_;
  std::unique_ptr<LeaderElector> elector_;
  std::thread thread_;
  std::atomic<int> started_{0}, lost_{0};
  std::atomic<bool> finished_{false};
};

TEST_F(LeaderElectionTest, StepsDownWithinTheRenewDeadlineWhenLeaseRequestsHang) {
  Start();
  AdvanceUntil([&] { return started_ == 1; }, seconds(5));
  ASSERT_TRUE(elector_->IsLeader());
  ASSERT_TRUE(metrics_.leader);
  // A few healthy renewals, then the API server stops answering lease requests.
  AdvanceUntil([&] { return api_.LeaseWrites() >= 3; }, seconds(10));
  const MonoTime last_renewal_start = clock_.Now() - elector_->SinceLastRenew();
  api_.DelayLeases("GET", std::chrono::hours(1));
  api_.DelayLeases("PUT", std::chrono::hours(1));
  AdvanceUntil([&] { return !elector_->IsLeader(); }, seconds(30));
  EXPECT_FALSE(elector_->IsLeader());
  EXPECT_FALSE(metrics_.leader);
  EXPECT_EQ(lost_, 1);
  // Stepped down no later than the renew deadline (10 s) after the last successful renewal
  // began, although each request would have hung for an hour.
  EXPECT_LE(clock_.Now() - last_renewal_start, seconds(10) + milliseconds(100));
}

TEST_F(LeaderElectionTest, StepsDownAtTheDeadlineWhenEachRequestIsSlowButAnswers) {
  Start();
  AdvanceUntil([&] { return started_ == 1; }, seconds(5));
  const MonoTime acquired = clock_.Now() - elector_->SinceLastRenew();
  // Every lease PUT now fails after 4 s: never an answer that renews.
  api_.DelayLeases("PUT", seconds(4));
  api_.FailLeases("PUT", 500);
  AdvanceUntil([&] { return !elector_->IsLeader(); }, seconds(30));
  EXPECT_EQ(lost_, 1);
  EXPECT_LE(clock_.Now() - acquired, seconds(10) + milliseconds(100));
}

TEST_F(LeaderElectionTest, RivalRecordAgeCountsFromWhenTheReadReturned) {
  // A rival holds the lease and has stopped renewing it. Our first read of it is slow (4.9 s):
  // the record's age must be counted from when that read returned, so the lease is expired for
  // us only 15 s after that (19.9 s), not 15 s after we sent the read.
  api_.SetLeaseSpec({{"holderIdentity", "rival"}, {"leaseDurationSeconds", 15}});
  api_.DelayLeases("GET", milliseconds(4900), 1);
  const MonoTime start = clock_.Now();
  Start();
  AdvanceUntil([&] { return elector_->IsLeader(); }, seconds(40));
  ASSERT_TRUE(elector_->IsLeader());
  EXPECT_GE(clock_.Now() - start, milliseconds(19900));
  EXPECT_EQ(api_.LeaseSpec()["holderIdentity"], "me");
  EXPECT_EQ(api_.LeaseSpec()["leaseTransitions"], 1);
}

TEST_F(LeaderElectionTest, StopKeepsTheLeaseUntilReleaseAndReleaseClearsTheGaugeFirst) {
  Start();
  AdvanceUntil([&] { return started_ == 1; }, seconds(5));
  elector_->Stop();
  AdvanceUntil([&] { return finished_.load(); }, seconds(5));
  thread_.join();
  // Stopped but not released: still the holder, still reporting leadership.
  EXPECT_EQ(api_.LeaseSpec()["holderIdentity"], "me");
  EXPECT_TRUE(elector_->IsLeader());
  EXPECT_TRUE(metrics_.leader);
  elector_->Release();
  EXPECT_EQ(api_.LeaseSpec()["holderIdentity"], "");
  EXPECT_FALSE(metrics_.leader);
  EXPECT_FALSE(elector_->IsLeader());
  EXPECT_EQ(lost_, 0);
}

TEST_F(LeaderElectionTest, AStandbyNeverLeadsWhileTheHolderKeepsRenewing) {
  api_.SetLeaseSpec({{"holderIdentity", "rival"}, {"leaseDurationSeconds", 15}});
  Start();
  // The rival renews every 2 s (its record changes), so it never expires for us.
  for (int i = 0; i < 20; ++i) {
    AdvanceUntil([] { return false; }, seconds(2));
    api_.SetLeaseSpec({{"holderIdentity", "rival"},
                       {"leaseDurationSeconds", 15},
                       {"renewTime", std::to_string(i)}});
  }
  EXPECT_FALSE(elector_->IsLeader());
  EXPECT_EQ(started_, 0);
  EXPECT_FALSE(metrics_.leader);
}

}  // namespace
}  // namespace cte::kube
