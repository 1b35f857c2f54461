// A consumer of one data-export iterator index (reference §5.1): it runs operations through a
// TenantClient and waits the wait_time the tenant asked for before the next call (30 s when the
// tenant said nothing, CE's default), on the injected Clock. The checkpoint lives server-side in
// the index; this object only remembers when the next call may go out.
//
// Not thread-safe: one consumer per index (the tenant does not support two).
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>

#include "operator/core/clock.h"
#include "operator/netskope/tenant_client.h"

namespace cte::netskope {

// CE's index name for the incremental pull: "<tenant>_<type>" with spaces removed.
std::string IteratorIndexName(std::string_view tenant, AlertType type);

class AlertIterator {
 public:
  AlertIterator(TenantClient& client, Clock& clock, AlertType type, std::string index);

  // Waits until the previous page's wait_time has passed, then runs `operation`.
  StatusOr<AlertPage> Fetch(const IteratorOperation& operation);
  StatusOr<AlertPage> Next() { return Fetch(IteratorOperation::Next()); }

  // Makes a waiting Fetch return Unavailable, also while the client waits for the tenant's rate
  // limiter or between retries (shutdown, a plugin stopped). Thread-safe.
  void Cancel();

  const std::string& index() const { return index_; }

  static constexpr std::chrono::seconds kDefaultWait{30};

 private:
  TenantClient& client_;
  Clock& clock_;
  AlertType type_;
  std::string index_;
  std::optional<MonoTime> not_before_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace cte::netskope
