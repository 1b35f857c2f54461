#include "operator/metrics/unfinished_work_updater.h"

#include <algorithm>
#include <mutex>

namespace cte::metrics {

UnfinishedWork ComputeUnfinishedWork(MonoTime now, std::span<const MonoTime> processing_started) {
  UnfinishedWork out;
  for (MonoTime start : processing_started) {
    Duration age = std::max(Duration(0), Duration(now - start));
    out.total += age;
    out.longest = std::max(out.longest, age);
  }
  return out;
}

struct UnfinishedWorkUpdater::State {
  State(Clock& c, WorkqueueMetrics& m, Sampler s, Duration p)
      : clock(c), metrics(m), sample(std::move(s)), period(p) {}

  Clock& clock;
  WorkqueueMetrics& metrics;
  const Sampler sample;
  const Duration period;

  // Held for a whole tick, so Stop() waits for a running tick and then sees its new timer id.
  // Lock order: this mutex, then the clock's (the clock runs callbacks without its own lock).
  std::mutex mu;
  bool stopped = false;
  TimerId timer = 0;
};

UnfinishedWorkUpdater::UnfinishedWorkUpdater(Clock& clock, WorkqueueMetrics& metrics,
                                             Sampler sample, Duration period)
    : state_(std::make_shared<State>(clock, metrics, std::move(sample), period)) {
  std::lock_guard<std::mutex> lock(state_->mu);
  std::shared_ptr<State> state = state_;
  state_->timer = clock.Schedule(period, [state] { Tick(state); });
}

UnfinishedWorkUpdater::~UnfinishedWorkUpdater() { Stop(); }

void UnfinishedWorkUpdater::Stop() {
  std::lock_guard<std::mutex> lock(state_->mu);
  if (state_->stopped) return;
  state_->stopped = true;
  state_->clock.Cancel(state_->timer);
}

void UnfinishedWorkUpdater::Tick(const std::shared_ptr<State>& state) {
  std::lock_guard<std::mutex> lock(state->mu);
  if (state->stopped) return;
  state->metrics.SetUnfinishedWork(state->sample());
  state->timer = state->clock.Schedule(state->period, [state] { Tick(state); });
}

}  // namespace cte::metrics
