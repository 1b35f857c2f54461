// Keeps workqueue_unfinished_work_seconds and workqueue_longest_running_processor_seconds
// current. Those two gauges describe work that has not finished yet, so no Done() call ever
// updates them; client-go samples them every 500 ms from the queue's processing start times, and
// this does the same on the injected Clock (a SimulatedClock drives it in tests).
#pragma once

#include <functional>
#include <memory>
#include <span>

#include "operator/core/clock.h"
#include "operator/metrics/runtime_metrics.h"

namespace cte::metrics {

// Sums and maxes (now - start) over the processing start times of the items in flight: the
// usual body of the sampler a work queue passes to UnfinishedWorkUpdater.
UnfinishedWork ComputeUnfinishedWork(MonoTime now, std::span<const MonoTime> processing_started);

class UnfinishedWorkUpdater {
 public:
  using Sampler = std::function<UnfinishedWork()>;
  static constexpr Duration kDefaultPeriod = std::chrono::milliseconds(500);

  // Every `period`, calls `sample` on the clock's timer thread and passes the result to
  // metrics.SetUnfinishedWork(). `sample` typically takes the queue's lock briefly; it must not
  // block or destroy this updater. `clock` and `metrics` must outlive the updater.
  UnfinishedWorkUpdater(Clock& clock, WorkqueueMetrics& metrics, Sampler sample,
                        Duration period = kDefaultPeriod);
  // Stop()s.
  ~UnfinishedWorkUpdater();
  UnfinishedWorkUpdater(const UnfinishedWorkUpdater&) = delete;
  UnfinishedWorkUpdater& operator=(const UnfinishedWorkUpdater&) = delete;

  // Cancels the timer; once it returns, `sample` is never called again (a tick already running
  // is waited for). Idempotent. Must not be called from inside `sample`, nor while holding a
  // lock that `sample` takes (the queue's own lock, typically): it would wait for that tick.
  void Stop();

 private:
  struct State;
  static void Tick(const std::shared_ptr<State>& state);

  // Shared with the scheduled callback, which may fire after Stop() has cancelled what it could.
  std::shared_ptr<State> state_;
};

}  // namespace cte::metrics
