// The aging sweep (ARCHITECTURE §1 step 2): every sweep interval (one minute by default; CE's is
// 12 hours) it marks active indicators whose expiresAt has passed inactive, and, when a purge age
// is set, deletes indicators that have been inactive for longer than that. Both go through the
// store as one transaction, so subscribers hear about every source that changed.
//
// Runs on its own thread and waits on the injected Clock, so tests drive it with
// SimulatedClock::Advance().
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>

#include "operator/core/clock.h"
#include "operator/core/log.h"
#include "operator/store/indicator_store.h"

namespace cte::store {

struct AgingOptions {
  Duration sweep_interval = std::chrono::minutes(1);
  // Delete rows inactive for longer than this; zero keeps inactive rows forever.
  Duration purge_after{0};
};

struct SweepResult {
  int64_t expired = 0;
  int64_t purged = 0;
};

class AgingSweeper {
 public:
  // `store` and `clock` must outlive the sweeper.
  AgingSweeper(IndicatorStore& store, Clock& clock, AgingOptions options,
               Logger log = NullLogger());
  ~AgingSweeper();
  AgingSweeper(const AgingSweeper&) = delete;
  AgingSweeper& operator=(const AgingSweeper&) = delete;

  // Starts the sweep thread (first sweep one interval from now). Idempotent.
  void Start();
  // Stops and joins the thread; a sweep in progress finishes first. Idempotent.
  void Stop();

  // One sweep at the clock's current time. Thread-safe; the loop calls this.
  StatusOr<SweepResult> SweepOnce();

  // Sweeps completed by the loop (successful or not); lets tests wait for one.
  uint64_t sweeps() const { return sweeps_.load(); }

 private:
  void Loop();

  IndicatorStore& store_;
  Clock& clock_;
  AgingOptions options_;
  Logger log_;
  std::mutex start_mu_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> sweeps_{0};
  std::thread thread_;
};

}  // namespace cte::store
