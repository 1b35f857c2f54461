// Netskope alert polling for CTEPlugins of type Netskope (ARCHITECTURE §1 step 1): one consumer
// of the tenant's data-export iterator per alert type (malware when the plugin wants hashes,
// malsite when it wants URLs), turning alerts into indicators (alert_mapping.h) in the store.
//
// Per (plugin, alert type):
//   - index names derive from the plugin: "cte_<namespace>_<plugin>_<type>" for the incremental
//     pull and the same with "_historical" for the first-enable backfill;
//   - on first enable, a historical pull over the tenant's initialRangeDays: from
//     enabledAt - days, `next` until the high-water mark passes enabledAt (alerts after it are
//     the incremental pull's); 0 days skips it;
//   - the incremental pull starts at enabledAt (no gap, no overlap to speak of) and then runs
//     `next` forever, pausing pollInterval whenever it has caught up;
//   - every page's indicators and the consumer's checkpoint commit in one store transaction, so
//     a restart resumes exactly: an index in progress is resumed with `resend` (the page the
//     tenant last handed out, which may not have been stored), then `next`; the checkpoint
//     belongs to the tenant host too, so pointing the plugin at another tenant starts afresh
//     (history included) there;
//   - the iterator's wait_time is honoured (AlertIterator) and requests go through the tenant
//     client, whose per-tenant limiter keeps within the tenant's rate limits.
//
// The CTEPlugin reconciler (a later issue) drives polling through the AlertPollers interface;
// NetskopePollers implements it with one thread per consumer, waiting on the injected Clock.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "operator/core/clock.h"
#include "operator/core/log.h"
#include "operator/core/random.h"
#include "operator/netskope/alert_iterator.h"
#include "operator/netskope/tenant_client.h"
#include "operator/store/indicator_store.h"
#include "operator/store/source_policy.h"

namespace cte::sources {

// What the CTEPlugin reconciler knows about one Netskope plugin with polling on.
struct NetskopePollerSpec {
  store::SourceRef plugin;
  std::string tenant_name;  // NetskopeTenant spec.tenantName (comments, checkpoint key)
  bool hashes = true;       // threatDataType Malware or Both
  bool urls = true;         // threatDataType URL or Both
  int initial_range_days = 7;
  Duration poll_interval = std::chrono::minutes(5);
  store::SourcePolicy policy;
  // The tenant's client (shared with everything else that talks to that tenant, so its rate
  // limiter sees every request).
  std::shared_ptr<netskope::TenantClient> client;

  // Same settings and same client object.
  bool SameAs(const NetskopePollerSpec& o) const;
};

struct ConsumerStatus {
  netskope::AlertType type = netskope::AlertType::kMalware;
  std::string phase;  // "historical", "incremental" or "stopped"
  std::optional<WallTime> last_poll;
  std::optional<WallTime> last_success;
  std::string last_error;  // empty after a successful page
  int64_t alerts = 0;      // alerts received since start
  int64_t indicators = 0;  // indicators stored since start
};

// The seam the CTEPlugin reconciler calls. Thread-safe.
class AlertPollers {
 public:
  virtual ~AlertPollers() = default;
  // Starts polling for spec.plugin, or restarts it when the spec changed; a no-op when it runs
  // with the same spec already.
  virtual void Ensure(const NetskopePollerSpec& spec) = 0;
  // Stops polling for a plugin (its progress stays in the store). Blocks until its consumers
  // have stopped (at most one in-flight tenant request).
  virtual void Stop(const store::SourceRef& plugin) = 0;
  // The consumers of a plugin (empty when it is not polled).
  virtual std::vector<ConsumerStatus> Status(const store::SourceRef& plugin) const = 0;
};

// The checkpoint key of a consumer and its index names (exposed for tests and operations). The
// key names the tenant host too: a plugin moved to another tenant pulls that tenant's history
// instead of resuming where the old tenant's stream ended.
std::string PollerCheckpointKey(const store::SourceRef& plugin, const std::string& tenant_host,
                                netskope::AlertType type);
std::string PollerIndexName(const store::SourceRef& plugin, netskope::AlertType type,
                            bool historical);

// One consumer: (plugin, alert type), on its own thread.
class AlertConsumer {
 public:
  AlertConsumer(NetskopePollerSpec spec, netskope::AlertType type, store::IndicatorStore& store,
                Clock& clock, Random& random, Logger log);
  ~AlertConsumer();
  AlertConsumer(const AlertConsumer&) = delete;
  AlertConsumer& operator=(const AlertConsumer&) = delete;

  void Start();
  // Asks the consumer to stop (cancels its waits) without waiting for it.
  void RequestStop();
  // RequestStop(), then waits for its thread.
  void Stop();
  ConsumerStatus status() const;

 private:
  struct Checkpoint;
  void Run();
  Status RunOnce();
  Status Drain(Checkpoint& ckpt, bool historical);
  StatusOr<Checkpoint> LoadCheckpoint();
  bool Wait(Duration d);  // false when stopping

  NetskopePollerSpec spec_;
  netskope::AlertType type_;
  store::IndicatorStore& store_;
  Clock& clock_;
  Random& random_;
  Logger log_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  ConsumerStatus status_;
  netskope::AlertIterator* iterator_ = nullptr;  // the one in use, for Stop() to cancel
};

class NetskopePollers : public AlertPollers {
 public:
  NetskopePollers(store::IndicatorStore& store, Clock& clock, Random& random,
                  Logger log = NullLogger());
  ~NetskopePollers() override;  // stops everything

  void Ensure(const NetskopePollerSpec& spec) override;
  void Stop(const store::SourceRef& plugin) override;
  std::vector<ConsumerStatus> Status(const store::SourceRef& plugin) const override;
  void StopAll();

 private:
  struct Entry {
    NetskopePollerSpec spec;
    std::vector<std::unique_ptr<AlertConsumer>> consumers;
  };

  store::IndicatorStore& store_;
  Clock& clock_;
  Random& random_;
  Logger log_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;  // by plugin key
  // Counts StopAll() calls: an Ensure() that was restarting a plugin when StopAll() ran (between
  // taking the old consumers out and putting the new ones in) does not start the new ones.
  uint64_t stop_all_epoch_ = 0;
};

}  // namespace cte::sources
