#include "operator/kube/work_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

namespace cte::kube {
namespace {

class WorkQueueTest : public ::testing::Test {
 protected:
  SimulatedClock clock_;
  FixedRandom random_{0.5};  // jitter factor exactly 1
  WorkQueue queue_{clock_, random_};
};

TEST_F(WorkQueueTest, DuplicateAddsCollapseIntoOneItem) {
  queue_.Add("a");
  queue_.Add("a");
  queue_.Add("b");
  EXPECT_EQ(queue_.Len(), 2u);
  EXPECT_EQ(*queue_.Get(), "a");
  EXPECT_EQ(*queue_.Get(), "b");
}

TEST_F(WorkQueueTest, KeyIsNeverProcessedByTwoWorkersAtOnce) {
  queue_.Add("a");
  auto first = queue_.Get();
  queue_.Add("a");              // re-added while processing
  EXPECT_EQ(queue_.Len(), 0u);  // held back until Done
  queue_.Done(*first);
  EXPECT_EQ(queue_.Len(), 1u);
  EXPECT_EQ(*queue_.Get(), "a");
}

TEST_F(WorkQueueTest, ConcurrentWorkersNeverOverlapOnOneKey) {
  std::atomic<int> in_flight{0}, max_in_flight{0}, processed{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      while (auto key = queue_.Get()) {
        int now = ++in_flight;
        int seen = max_in_flight.load();
        while (now > seen && !max_in_flight.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::yield();
        --in_flight;
        ++processed;
        queue_.Done(*key);
      }
    });
  }
  for (int i = 0; i < 2000; ++i) queue_.Add("same");
  queue_.ShutDown();
  for (auto& t : workers) t.join();
  EXPECT_EQ(max_in_flight.load(), 1);
  EXPECT_GE(processed.load(), 1);
}

TEST_F(WorkQueueTest, UserEditsOvertakeTheInitialListFlood) {
  for (int i = 0; i < 3; ++i) queue_.Add("initial-" + std::to_string(i), Priority::kLow);
  queue_.Add("edited", Priority::kNormal);
  queue_.Add("initial-2", Priority::kNormal);  // an edit of a queued object moves it up
  EXPECT_EQ(*queue_.Get(), "edited");
  EXPECT_EQ(*queue_.Get(), "initial-2");
  EXPECT_EQ(*queue_.Get(), "initial-0");
  EXPECT_EQ(*queue_.Get(), "initial-1");
}

TEST_F(WorkQueueTest, AddAfterWaitsOnTheClock) {
  queue_.AddAfter("later", std::chrono::seconds(10));
  EXPECT_EQ(queue_.Len(), 0u);
  clock_.Advance(std::chrono::seconds(9));
  EXPECT_EQ(queue_.Len(), 0u);
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_EQ(queue_.Len(), 1u);
}

TEST_F(WorkQueueTest, RateLimitedAddsBackOffExponentiallyUntilForgotten) {
  // Defaults: 1 s doubling to 5 min.
  const int64_t expected[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300};
  for (int64_t secs : expected) {
    queue_.AddRateLimited("k");
    clock_.Advance(std::chrono::seconds(secs) - std::chrono::milliseconds(1));
    EXPECT_EQ(queue_.Len(), 0u) << "too early at " << secs << "s";
    clock_.Advance(std::chrono::milliseconds(1));
    ASSERT_EQ(queue_.Len(), 1u) << "not queued after " << secs << "s";
    queue_.Done(*queue_.Get());
  }
  EXPECT_EQ(queue_.NumRequeues("k"), 11);
  queue_.Forget("k");
  EXPECT_EQ(queue_.NumRequeues("k"), 0);
  queue_.AddRateLimited("k");
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_EQ(queue_.Len(), 1u);
}

TEST_F(WorkQueueTest, AddAfterKeepsOneWaitingEntryPerKeyTheEarliest) {
  queue_.AddAfter("k", std::chrono::seconds(10));
  queue_.AddAfter("k", std::chrono::seconds(30));  // later: covered by the 10 s entry
  queue_.AddAfter("k", std::chrono::seconds(5));   // earlier: replaces it
  EXPECT_EQ(queue_.NumWaiting(), 1u);
  EXPECT_EQ(clock_.pending_timers(), 1u);
  clock_.Advance(std::chrono::seconds(5));
  ASSERT_EQ(queue_.Len(), 1u);
  queue_.Done(*queue_.Get());
  // Nothing else comes: neither the 10 s nor the 30 s request left a timer behind.
  clock_.Advance(std::chrono::seconds(60));
  EXPECT_EQ(queue_.Len(), 0u);
  EXPECT_EQ(clock_.pending_timers(), 0u);
}

TEST_F(WorkQueueTest, RepeatedRequeueAfterNeverMultipliesTimers) {
  for (int i = 0; i < 1000; ++i) queue_.AddAfter("k", std::chrono::minutes(10));
  EXPECT_EQ(clock_.pending_timers(), 1u);
  clock_.Advance(std::chrono::minutes(10));
  EXPECT_EQ(queue_.Len(), 1u);
}

TEST_F(WorkQueueTest, RetryAfterIsAFloorAndTheBackoffStillAdvances) {
  // The server keeps asking for 3 s; the key's own backoff (1, 2, 4, 8 s) wins once it is longer,
  // and it advances on every retry either way.
  const int64_t expected[] = {3, 3, 4, 8};
  for (int64_t secs : expected) {
    queue_.AddRateLimited("k", std::chrono::seconds(3));
    clock_.Advance(std::chrono::seconds(secs) - std::chrono::milliseconds(1));
    EXPECT_EQ(queue_.Len(), 0u) << "too early at " << secs << "s";
    clock_.Advance(std::chrono::milliseconds(1));
    ASSERT_EQ(queue_.Len(), 1u) << "not queued after " << secs << "s";
    queue_.Done(*queue_.Get());
  }
  EXPECT_EQ(queue_.NumRequeues("k"), 4);
}

TEST(WorkQueueJitterTest, JitterSpreadsRetriesWithinBounds) {
  SimulatedClock clock;
  FixedRandom high(0.999);  // factor ~1.1
  WorkQueue q(clock, high);
  q.AddRateLimited("k");
  clock.Advance(std::chrono::milliseconds(1050));
  EXPECT_EQ(q.Len(), 0u);
  clock.Advance(std::chrono::milliseconds(60));
  EXPECT_EQ(q.Len(), 1u);
}

TEST_F(WorkQueueTest, ShutDownDrainsQueuedItemsThenStops) {
  queue_.Add("a");
  queue_.Add("b");
  queue_.ShutDown();
  queue_.Add("c");  // ignored
  EXPECT_EQ(*queue_.Get(), "a");
  EXPECT_EQ(*queue_.Get(), "b");
  EXPECT_FALSE(queue_.Get().has_value());
}

TEST_F(WorkQueueTest, InProgressSecondsTracksTheLongestWorker) {
  queue_.Add("a");
  queue_.Add("b");
  auto a = queue_.Get();
  clock_.Advance(std::chrono::seconds(3));
  auto b = queue_.Get();
  clock_.Advance(std::chrono::seconds(1));
  auto [sum, longest] = queue_.InProgressSeconds();
  EXPECT_DOUBLE_EQ(longest, 4.0);
  EXPECT_DOUBLE_EQ(sum, 5.0);
  queue_.Done(*a);
  queue_.Done(*b);
}

}  // namespace
}  // namespace cte::kube
