#include "operator/store/aging_sweeper.h"

namespace cte::store {

AgingSweeper::AgingSweeper(IndicatorStore& store, Clock& clock, AgingOptions options, Logger log)
    : store_(store), clock_(clock), options_(options), log_(std::move(log)) {}

AgingSweeper::~AgingSweeper() { Stop(); }

void AgingSweeper::Start() {
  std::lock_guard<std::mutex> lock(start_mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Loop(); });
}

void AgingSweeper::Stop() {
  std::lock_guard<std::mutex> lock(start_mu_);
  if (stopping_.exchange(true) && !thread_.joinable()) return;
  clock_.Notify();
  if (thread_.joinable()) thread_.join();
}

StatusOr<SweepResult> AgingSweeper::SweepOnce() {
  const WallTime now = clock_.WallNow();
  WriteBatch batch;
  batch.Add(ExpireIndicators{now});
  const bool purge = options_.purge_after > Duration::zero();
  if (purge) {
    batch.Add(
        PurgeInactive{now - std::chrono::duration_cast<WallTime::duration>(options_.purge_after)});
  }
  auto result = store_.Commit(std::move(batch));
  if (!result.ok()) return result.status();
  SweepResult out;
  out.expired = result->ops[0].affected;
  if (purge) out.purged = result->ops[1].affected;
  return out;
}

void AgingSweeper::Loop() {
  while (!stopping_) {
    clock_.WaitFor(options_.sweep_interval, [this] { return stopping_.load(); });
    if (stopping_) break;
    auto result = SweepOnce();
    if (!result.ok()) {
      // Transient store trouble: the next sweep catches up (expiry is by timestamp).
      log_.Warn("aging sweep failed", {{"error", result.status().message()}});
    } else if (result->expired > 0 || result->purged > 0) {
      log_.Info("aging sweep", {{"expired", result->expired}, {"purged", result->purged}});
    }
    sweeps_.fetch_add(1);
    clock_.Notify();
  }
}

}  // namespace cte::store
