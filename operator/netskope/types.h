// Value types of the Netskope tenant API as the operator sees them: URL lists, the result of a
// list write, file-hash list updates, and alert-iterator pages (reference/netskope-api.md §3–§5).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/core/status.h"

namespace cte::netskope {

enum class UrlListType { kExact, kRegex };
std::string_view UrlListTypeName(UrlListType type);  // "exact" / "regex"
StatusOr<UrlListType> ParseUrlListType(std::string_view text);

// One v2 URL list. Fields the request did not select (`field=`) keep their defaults.
struct UrlList {
  int64_t id = 0;
  std::string name;
  std::vector<std::string> urls;
  UrlListType type = UrlListType::kExact;
  bool has_data = false;  // the answer carried `data` (urls and type)
  int json_version = 0;   // data.json_version (always 2 on a live tenant)
  std::string modify_by;
  std::string modify_time;  // as sent: ISO-8601 with milliseconds and Z on a live tenant
  std::string modify_type;  // Created, Edited or Deleted
  bool pending = false;     // has changes that a deploy has not applied yet
};

// An entry the tenant refused in a 400 answer (reference §3.3).
struct RejectedUrl {
  std::string url;
  std::string reason;  // the item's second element; OPEN in the reference, may be empty
  friend bool operator==(const RejectedUrl&, const RejectedUrl&) = default;
};

// The outcome of a URL-list write that carries URLs (create, update, append, replace).
struct UrlListWriteResult {
  // The list as the tenant returned it; nullopt when nothing was sent because every entry was
  // rejected (see `rejected`).
  std::optional<UrlList> list;
  // Entries the tenant refused and the client dropped before retrying once; the caller should
  // mark them invalid and not push them again.
  std::vector<RejectedUrl> rejected;
};

// The outcome of updateFileHashList.
struct FileHashListResult {
  // True when the tenant answered "Duplicate request, no change in file hashes": the list
  // already held exactly these hashes. Counted as success, as CE does.
  bool unchanged = false;
};

enum class AlertType { kMalware, kMalsite };
std::string_view AlertTypeName(AlertType type);  // path segment: "malware" / "malsite"

// An iterator operation (reference §5.1). Every operation except resend moves the server-side
// index of the iterator.
class IteratorOperation {
 public:
  static IteratorOperation Next() { return IteratorOperation("next"); }
  static IteratorOperation Head() { return IteratorOperation("head"); }
  static IteratorOperation Tail() { return IteratorOperation("tail"); }
  static IteratorOperation Resend() { return IteratorOperation("resend"); }
  // Start (or restart) consumption at an epoch time in seconds.
  static IteratorOperation Epoch(int64_t epoch_seconds) {
    return IteratorOperation(std::to_string(epoch_seconds));
  }
  const std::string& value() const { return value_; }
  bool is_next() const { return value_ == "next"; }
  friend bool operator==(const IteratorOperation&, const IteratorOperation&) = default;

 private:
  explicit IteratorOperation(std::string value) : value_(std::move(value)) {}
  std::string value_;
};

// One alert with the fields the operator maps to indicators (reference §5.2). Large integer ids
// arrive as JSON numbers beyond 2^53 and are kept as decimal strings, as CE does.
struct Alert {
  std::string id;          // _id
  int64_t timestamp = 0;   // epoch seconds
  std::string alert_type;  // "Malware" or "malsite"
  std::string alert_name;
  std::string severity;
  std::string object;
  std::string file_type;
  std::string md5, sha256, local_md5, local_sha256, local_sha1;
  std::string malware_name, malware_type, malware_id, malware_severity;
  std::string url;
  std::vector<std::string> malsite_category;
  std::string malsite_country;
  std::string user, app, hostname, srcip, dstip;
  std::string incident_id, transaction_id;
  nlohmann::json raw;  // the alert as received, for fields not modelled here
};

struct AlertPage {
  std::vector<Alert> alerts;
  // Seconds to wait before the next call; nullopt when the tenant did not say (callers then
  // wait 30 s, CE's default).
  std::optional<int64_t> wait_time;
  int64_t timestamp_hwm = 0;  // high-water mark reached, epoch seconds
};

}  // namespace cte::netskope
