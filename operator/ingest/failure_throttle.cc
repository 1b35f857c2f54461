#include "operator/ingest/failure_throttle.h"

#include <algorithm>

namespace cte::ingest {
namespace {

std::string AddressKey(const std::string& address) { return "a " + address; }
std::string ClientKey(const std::string& address, const std::string& client) {
  return "c " + address + " " + client;
}

}  // namespace

FailureThrottle::FailureThrottle(Clock& clock, FailureThrottleOptions options)
    : clock_(clock), options_(options) {}

void FailureThrottle::ForgetLocked(std::unordered_map<std::string, Entry>::iterator it) {
  lru_.erase(it->second.lru);
  entries_.erase(it);
}

Duration FailureThrottle::WaitLocked(const std::string& key, int free_failures, MonoTime now) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return Duration::zero();
  if (now - it->second.last >= options_.forget_after) {
    ForgetLocked(it);
    return Duration::zero();
  }
  const int over = it->second.failures - free_failures;
  if (over <= 0) return Duration::zero();
  Duration pause = options_.first_pause;
  for (int i = 1; i < over && pause < options_.max_pause; ++i) pause *= 2;
  const MonoTime until = it->second.last + std::min(pause, options_.max_pause);
  return until > now ? until - now : Duration::zero();
}

void FailureThrottle::CountLocked(const std::string& key, MonoTime now) {
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= options_.max_keys && !lru_.empty()) {
      ForgetLocked(entries_.find(*lru_.back()));
    }
    it = entries_.emplace(key, Entry{}).first;
    lru_.push_front(&it->first);
    it->second.lru = lru_.begin();
  } else {
    if (now - it->second.last >= options_.forget_after) it->second.failures = 0;
    lru_.splice(lru_.begin(), lru_, it->second.lru);
  }
  ++it->second.failures;
  it->second.last = now;
}

std::optional<Duration> FailureThrottle::Attempt(const std::string& address,
                                                 const std::string& client) {
  const std::string akey = AddressKey(address), ckey = ClientKey(address, client);
  std::lock_guard<std::mutex> lock(mu_);
  const MonoTime now = clock_.Now();
  const Duration wait = std::max(WaitLocked(akey, options_.address_free_failures, now),
                                 WaitLocked(ckey, options_.client_free_failures, now));
  if (wait > Duration::zero()) return wait;
  CountLocked(akey, now);
  CountLocked(ckey, now);
  return std::nullopt;
}

void FailureThrottle::Succeeded(const std::string& address, const std::string& client) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = entries_.find(ClientKey(address, client)); it != entries_.end()) ForgetLocked(it);
  if (auto it = entries_.find(AddressKey(address)); it != entries_.end()) {
    if (--it->second.failures <= 0) ForgetLocked(it);
  }
}

size_t FailureThrottle::tracked() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace cte::ingest
