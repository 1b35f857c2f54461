// The tenant simulator's alert source: Malware and malsite alerts behind the v2 data-export
// iterator (reference §5.1), with one server-side cursor per (alert type, index name).
//
// Alerts are ordered by (timestamp, arrival). Operations: an epoch starts at the first alert with
// timestamp >= epoch and returns the first page; `head` starts at the oldest alert; `tail` jumps
// past the newest and returns nothing; `next` returns the page after the cursor; `resend`
// returns the previous page again without moving. Every operation except `resend` moves the
// cursor. Not thread-safe: the simulator calls it under its own lock.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "operator/core/status.h"

namespace cte::tenantsim {

inline constexpr size_t kMaxIteratorPage = 10000;
// The most alerts one /__sim/alerts call may generate.
inline constexpr size_t kMaxGeneratedAlerts = 1000000;

// A JSON timestamp as the store orders alerts by: an integer as it is (clamped to int64), a float
// truncated when it is finite and within int64 and clamped when it is not (casting it would be
// undefined), anything else (NaN, a string, absent) `fallback`.
int64_t TimestampOf(const nlohmann::json& value, int64_t fallback);

class AlertStore {
 public:
  // `page_size` is capped at 10,000 (the published page size); `wait_seconds` is the wait_time
  // returned once a consumer has caught up.
  AlertStore(size_t page_size, int wait_seconds);

  static bool IsKnownType(const std::string& type) {
    return type == "malware" || type == "malsite";
  }

  // Adds alerts of `type` ("malware" or "malsite"), filling the fields every alert has (_id,
  // timestamp, alert_type, alert_name, severity, acked, incident_id, transaction_id) where
  // missing. Returns how many were added.
  size_t Add(const std::string& type, const std::vector<nlohmann::json>& alerts, int64_t now);
  // Adds `count` complete, realistic alerts, `interval` seconds apart from `start` (timestamps
  // saturate at the ends of int64 rather than overflow).
  size_t Generate(const std::string& type, size_t count, int64_t start, int64_t interval);

  struct Page {
    std::vector<nlohmann::json> result;
    int64_t wait_time = 0;
    int64_t timestamp_hwm = 0;
  };
  // Runs one iterator operation; InvalidArgument for an unknown operation, FailedPrecondition
  // for `next`/`resend` on an index that was never started (the safer reading: a client must
  // start an index with an epoch, head or tail; see docs/tenant-simulator.md).
  StatusOr<Page> Iterate(const std::string& type, const std::string& index,
                         const std::string& operation, int64_t now);

  nlohmann::json Summary() const;
  void Clear();
  void SetPaging(size_t page_size, int wait_seconds);

 private:
  using Key = std::pair<int64_t, uint64_t>;  // (timestamp, arrival sequence)
  struct Cursor {
    Key after;  // everything <= after has been delivered
    bool has_prev = false;
    Key prev_after;  // the previous page was (prev_after, prev_last]
    Key prev_last;
  };

  Page PageFrom(const std::map<Key, nlohmann::json>& alerts, Key after, int64_t now,
                Key* last) const;

  size_t page_size_;
  int wait_seconds_;
  uint64_t next_seq_ = 1;
  std::map<std::string, std::map<Key, nlohmann::json>> alerts_;    // by type
  std::map<std::pair<std::string, std::string>, Cursor> cursors_;  // by (type, index)
};

}  // namespace cte::tenantsim
