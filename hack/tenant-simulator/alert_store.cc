#include "hack/tenant-simulator/alert_store.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>

namespace cte::tenantsim {
namespace {

// Deterministic pseudo-random hex so generated hashes and ids are stable across runs.
uint64_t SplitMix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string Hex(uint64_t seed, size_t digits) {
  std::string out;
  uint64_t state = seed;
  while (out.size() < digits) {
    state = SplitMix(state);
    char buf[17];
    std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(state));
    out += buf;
  }
  out.resize(digits);
  return out;
}

// Large ids above 2^53, as the tenant sends them (CE string-ifies them to avoid float loss).
uint64_t BigId(uint64_t seed) {
  return 3'000'000'000'000'000'000ULL + (SplitMix(seed) % 1'000'000'000ULL);
}

void FillCommon(nlohmann::json& a, const std::string& type, uint64_t seq, int64_t now) {
  bool malware = type == "malware";
  if (!a.contains("_id")) a["_id"] = Hex(seq * 7919, 24);
  if (!a.contains("timestamp")) a["timestamp"] = now;
  if (!a.contains("alert_type")) a["alert_type"] = malware ? "Malware" : "malsite";
  if (!a.contains("alert_name")) a["alert_name"] = malware ? "Malware detected" : "Malsite access";
  if (!a.contains("alert")) a["alert"] = "yes";
  if (!a.contains("type")) a["type"] = "nspolicy";
  if (!a.contains("severity")) a["severity"] = malware ? "high" : "medium";
  if (!a.contains("acked")) a["acked"] = "false";
  if (!a.contains("incident_id")) a["incident_id"] = BigId(seq * 31);
  if (!a.contains("transaction_id")) a["transaction_id"] = BigId(seq * 37);
}

}  // namespace

int64_t TimestampOf(const nlohmann::json& value, int64_t fallback) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  if (value.is_number_unsigned()) {
    uint64_t u = value.get<uint64_t>();
    return u > static_cast<uint64_t>(kMax) ? kMax : static_cast<int64_t>(u);
  }
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_number_float()) {
    double d = value.get<double>();
    if (std::isnan(d)) return fallback;
    // 2^63 is exactly representable; anything at or beyond it (or below -2^63) saturates.
    if (d >= 9223372036854775808.0) return kMax;
    if (d < -9223372036854775808.0) return kMin;
    return static_cast<int64_t>(d);
  }
  return fallback;
}

AlertStore::AlertStore(size_t page_size, int wait_seconds) { SetPaging(page_size, wait_seconds); }

void AlertStore::SetPaging(size_t page_size, int wait_seconds) {
  page_size_ = std::clamp<size_t>(page_size, 1, kMaxIteratorPage);
  wait_seconds_ = std::max(0, wait_seconds);
}

size_t AlertStore::Add(const std::string& type, const std::vector<nlohmann::json>& alerts,
                       int64_t now) {
  auto& bucket = alerts_[type];
  for (const auto& in : alerts) {
    nlohmann::json a = in.is_object() ? in : nlohmann::json::object();
    uint64_t seq = next_seq_++;
    FillCommon(a, type, seq, now);
    int64_t ts = TimestampOf(a["timestamp"], now);
    bucket.emplace(Key{ts, seq}, std::move(a));
  }
  return alerts.size();
}

size_t AlertStore::Generate(const std::string& type, size_t count, int64_t start,
                            int64_t interval) {
  std::vector<nlohmann::json> alerts;
  alerts.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    uint64_t n = next_seq_ + i;
    nlohmann::json a;
    int64_t offset = 0;
    int64_t timestamp = 0;
    if (__builtin_mul_overflow(static_cast<int64_t>(i), interval, &offset) ||
        __builtin_add_overflow(start, offset, &timestamp)) {
      timestamp =
          interval < 0 ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
    }
    a["timestamp"] = timestamp;
    a["user"] = "user" + std::to_string(n % 50) + "@example.com";
    a["hostname"] = "laptop-" + std::to_string(n % 200);
    a["srcip"] = "10.0." + std::to_string((n / 250) % 250) + "." + std::to_string(n % 250 + 1);
    a["dstip"] = "198.51.100." + std::to_string(n % 250 + 1);
    if (type == "malware") {
      std::string md5 = Hex(n * 3 + 1, 32);
      std::string sha256 = Hex(n * 3 + 2, 64);
      a["app"] = "Google Drive";
      a["object"] = "invoice-" + std::to_string(n) + ".pdf";
      a["file_type"] = "application/pdf";
      a["md5"] = md5;
      a["sha256"] = sha256;
      a["local_md5"] = md5;
      a["local_sha256"] = sha256;
      a["local_sha1"] = Hex(n * 3 + 3, 40);
      a["malware_name"] = "Trojan.Generic." + std::to_string(n);
      a["malware_type"] = "Trojan";
      a["malware_id"] = Hex(n * 5, 32);
      a["malware_severity"] = "high";
    } else {
      a["app"] = "Web Browsing";
      a["url"] = "http://malsite-" + std::to_string(n) + ".example/login";
      a["malsite_category"] = nlohmann::json::array({"Phishing"});
      a["malsite_country"] = "US";
    }
    alerts.push_back(std::move(a));
  }
  return Add(type, alerts, start);
}

AlertStore::Page AlertStore::PageFrom(const std::map<Key, nlohmann::json>& alerts, Key after,
                                      int64_t now, Key* last) const {
  Page page;
  *last = after;
  auto it = alerts.upper_bound(after);
  for (; it != alerts.end() && page.result.size() < page_size_; ++it) {
    page.result.push_back(it->second);
    *last = it->first;
  }
  bool more = it != alerts.end();
  page.wait_time = more ? 0 : wait_seconds_;
  page.timestamp_hwm = more ? last->first : now;
  return page;
}

StatusOr<AlertStore::Page> AlertStore::Iterate(const std::string& type, const std::string& index,
                                               const std::string& operation, int64_t now) {
  static const std::map<Key, nlohmann::json> kEmpty;
  auto found = alerts_.find(type);
  const auto& alerts = found == alerts_.end() ? kEmpty : found->second;
  auto key = std::make_pair(type, index);
  auto cursor_it = cursors_.find(key);
  constexpr Key kBeforeAll{std::numeric_limits<int64_t>::min(), 0};

  Key after;
  if (operation == "next" || operation == "resend") {
    if (cursor_it == cursors_.end()) {
      return Status(StatusCode::kFailedPrecondition,
                    "iterator index " + index +
                        " has not been started; start it with an epoch "
                        "timestamp, head or tail");
    }
    if (operation == "resend") {
      Cursor& c = cursor_it->second;
      if (!c.has_prev) return Page{{}, wait_seconds_, now};
      Page page;
      for (auto it = alerts.upper_bound(c.prev_after);
           it != alerts.end() && it->first <= c.prev_last; ++it) {
        page.result.push_back(it->second);
      }
      bool more = alerts.upper_bound(c.after) != alerts.end();
      page.wait_time = more ? 0 : wait_seconds_;
      page.timestamp_hwm = more ? c.prev_last.first : now;
      return page;
    }
    after = cursor_it->second.after;
  } else if (operation == "head") {
    after = kBeforeAll;
  } else if (operation == "tail") {
    after = alerts.empty() ? kBeforeAll : alerts.rbegin()->first;
  } else if (!operation.empty() && operation.size() <= 12 &&
             std::all_of(operation.begin(), operation.end(),
                         [](unsigned char c) { return std::isdigit(c); })) {
    after = Key{std::stoll(operation), 0};
  } else {
    return InvalidArgumentError("operation must be an epoch timestamp, next, head, tail or resend");
  }

  Cursor& c = cursors_[key];
  Page page;
  Key last = after;
  if (operation == "tail") {
    page.wait_time = wait_seconds_;
    page.timestamp_hwm = now;
  } else {
    page = PageFrom(alerts, after, now, &last);
  }
  c.has_prev = true;
  c.prev_after = after;
  c.prev_last = last;
  c.after = last;
  return page;
}

nlohmann::json AlertStore::Summary() const {
  nlohmann::json out = {{"alerts", nlohmann::json::object()}, {"indexes", nlohmann::json::array()}};
  for (const auto& [type, alerts] : alerts_) out["alerts"][type] = alerts.size();
  for (const auto& [key, cursor] : cursors_) {
    out["indexes"].push_back(
        {{"type", key.first}, {"index", key.second}, {"afterTimestamp", cursor.after.first}});
  }
  return out;
}

void AlertStore::Clear() {
  alerts_.clear();
  cursors_.clear();
}

}  // namespace cte::tenantsim
