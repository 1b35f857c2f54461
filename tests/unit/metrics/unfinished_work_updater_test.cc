// Tests operator/metrics/unfinished_work_updater.cc with a SimulatedClock: the in-flight gauges
// are sampled every period, and never again once stopped.
#include "operator/metrics/unfinished_work_updater.h"

#include <gtest/gtest.h>

#include <vector>

namespace cte::metrics {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Records only what the updater calls.
class RecordingWorkqueueMetrics : public WorkqueueMetrics {
 public:
  void Add(int) override {}
  void UpdatePriority(int, int) override {}
  void Get(int, Duration) override {}
  void Done(Duration) override {}
  void Retry() override {}
  void SetUnfinishedWork(const UnfinishedWork& work) override { updates.push_back(work); }

  std::vector<UnfinishedWork> updates;
};

TEST(UnfinishedWorkUpdaterTest, ComputesSumAndLongestOfInFlightItems) {
  MonoTime now(seconds(100));
  std::vector<MonoTime> started = {now - seconds(3), now - milliseconds(500), now};
  UnfinishedWork w = ComputeUnfinishedWork(now, started);
  EXPECT_EQ(w.total, milliseconds(3500));
  EXPECT_EQ(w.longest, seconds(3));
  EXPECT_EQ(ComputeUnfinishedWork(now, {}).total, Duration(0));
}

TEST(UnfinishedWorkUpdaterTest, SamplesEveryPeriodUntilStopped) {
  SimulatedClock clock;
  RecordingWorkqueueMetrics metrics;
  MonoTime started = clock.Now();
  UnfinishedWorkUpdater updater(clock, metrics, [&] {
    MonoTime in_flight[] = {started};
    return ComputeUnfinishedWork(clock.Now(), in_flight);
  });

  clock.Advance(milliseconds(499));
  EXPECT_TRUE(metrics.updates.empty());
  clock.Advance(milliseconds(1));
  ASSERT_EQ(metrics.updates.size(), 1u);
  EXPECT_EQ(metrics.updates[0].longest, milliseconds(500));
  clock.Advance(milliseconds(1000));
  ASSERT_EQ(metrics.updates.size(), 3u);
  EXPECT_EQ(metrics.updates[2].total, milliseconds(1500));

  updater.Stop();
  EXPECT_EQ(clock.pending_timers(), 0u);
  clock.Advance(seconds(10));
  EXPECT_EQ(metrics.updates.size(), 3u);
}

TEST(UnfinishedWorkUpdaterTest, DestructionCancelsTheTimer) {
  SimulatedClock clock;
  RecordingWorkqueueMetrics metrics;
  {
    UnfinishedWorkUpdater updater(
        clock, metrics, [] { return UnfinishedWork{}; }, seconds(1));
    EXPECT_EQ(clock.pending_timers(), 1u);
  }
  EXPECT_EQ(clock.pending_timers(), 0u);
  clock.Advance(seconds(5));
  EXPECT_TRUE(metrics.updates.empty());
}

}  // namespace
}  // namespace cte::metrics
