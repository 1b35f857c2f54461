// The indicator as the store keeps it: one row per (source plugin, value, type), with the fields
// Cloud Exchange keeps per source (reference/netskope-api.md §7.3) plus retraction and tenant
// rejection. Plain values shared by the store, ingest, the pollers and (later) sharing.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/core/clock.h"
#include "operator/core/status.h"

namespace cte::store {

// CE's IndicatorType, in its order.
enum class IndicatorType : uint8_t { kMd5, kSha256, kUrl, kIpv4, kIpv6, kHostname, kDomain, kFqdn };
inline constexpr std::array<std::string_view, 8> kIndicatorTypeNames = {
    "md5", "sha256", "url", "ipv4", "ipv6", "hostname", "domain", "fqdn"};

// CE's SeverityType, least to most severe.
enum class Severity : uint8_t { kUnknown, kLow, kMedium, kHigh, kCritical };
inline constexpr std::array<std::string_view, 5> kSeverityNames = {"unknown", "low", "medium",
                                                                   "high", "critical"};

std::string_view IndicatorTypeName(IndicatorType type);
std::optional<IndicatorType> ParseIndicatorType(std::string_view name);
std::string_view SeverityName(Severity severity);
std::optional<Severity> ParseSeverity(std::string_view name);

// Which types fit which Netskope list (ARCHITECTURE §1 step 3).
bool FitsUrlList(IndicatorType type);
bool FitsFileHashList(IndicatorType type);

// A source plugin: a CTEPlugin, named within its namespace (the namespace is the security
// boundary, so two namespaces may both have a plugin "feed" and never see each other's rows).
struct SourceRef {
  std::string namespace_name;
  std::string name;

  // "namespace/name", the form logs and metrics use.
  std::string Key() const { return namespace_name + "/" + name; }
  // Parses "namespace/name"; both parts must be non-empty DNS-1123 subdomains.
  static StatusOr<SourceRef> Parse(std::string_view key);
  bool Valid() const;
  friend bool operator==(const SourceRef&, const SourceRef&) = default;
  friend auto operator<=>(const SourceRef&, const SourceRef&) = default;
};

inline constexpr int kDefaultReputation = 5;  // CE's default when a source gives none
inline constexpr int kMinReputation = 1;
inline constexpr int kMaxReputation = 10;

struct Indicator {
  SourceRef source;
  std::string value;
  IndicatorType type = IndicatorType::kUrl;
  Severity severity = Severity::kUnknown;
  int reputation = kDefaultReputation;
  std::vector<std::string> tags;  // sorted, without duplicates once stored
  std::string comments;
  std::string extended_information;  // an http(s) link, or empty
  WallTime first_seen{};
  WallTime last_seen{};
  std::optional<WallTime> expires_at;  // nullopt: never expires
  bool active = true;
  bool test = false;       // test indicators are never shared
  bool retracted = false;  // the source withdrew it
  // Set when a tenant refused the value (e.g. an invalid-URL 400); such rows are not pushed again.
  std::optional<WallTime> invalid_at;
  std::string invalid_reason;
  // When the row last became inactive (read-only; drives the purge).
  std::optional<WallTime> inactive_since;

  // Shareable: active, not a test, not retracted, not refused by a tenant.
  bool Shareable() const { return active && !test && !retracted && !invalid_at; }
};

// Sorts and de-duplicates tags in place (the stored form).
void NormalizeTags(std::vector<std::string>& tags);

// Milliseconds since the epoch: the stored precision of every timestamp.
int64_t ToMillis(WallTime t);
WallTime FromMillis(int64_t ms);

}  // namespace cte::store
