#include "operator/ingest/failure_throttle.h"

#include <algorithm>

namespace cte::ingest {
namespace {

std::string KeyOf(const FailureThrottle::Who& who) {
  return who.client_id ? "c " + who.address + " " + *who.client_id : "a " + who.address;
}

}  // namespace

FailureThrottle::FailureThrottle(Clock& clock, FailureThrottleOptions options)
    : clock_(clock), options_(options) {}

void FailureThrottle::ForgetLocked(Map::iterator it) {
  lru_.erase(it->second.lru);
  entries_.erase(it);
}

FailureThrottle::Map::iterator FailureThrottle::FindLocked(const std::string& key, MonoTime now) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return it;
  Entry& e = it->second;
  if (e.failures > 0 && now - e.last >= options_.forget_after) e.failures = 0;
  if (e.failures == 0 && e.pending == 0) {
    ForgetLocked(it);
    return entries_.end();
  }
  lru_.splice(lru_.begin(), lru_, e.lru);
  return it;
}

FailureThrottle::Map::iterator FailureThrottle::InsertLocked(const std::string& key) {
  if (entries_.size() >= options_.max_keys) {
    // The least recently used key without an attempt under way (whose End() must find it).
    for (auto victim = lru_.rbegin(); victim != lru_.rend(); ++victim) {
      auto it = entries_.find(**victim);
      if (it->second.pending == 0) {
        ForgetLocked(it);
        break;
      }
    }
  }
  auto it = entries_.emplace(key, Entry{}).first;
  lru_.push_front(&it->first);
  it->second.lru = lru_.begin();
  return it;
}

std::optional<Duration> FailureThrottle::Begin(const Who& who) {
  const std::string key = KeyOf(who);
  const int free_failures =
      who.client_id ? options_.client_free_failures : options_.address_free_failures;
  std::lock_guard<std::mutex> lock(mu_);
  const MonoTime now = clock_.Now();
  auto it = FindLocked(key, now);
  if (it == entries_.end()) it = InsertLocked(key);
  Entry& e = it->second;
  // Within the free failures, counting the attempts still under way.
  if (e.failures + e.pending < free_failures + 1) {
    ++e.pending;
    return std::nullopt;
  }
  // Past them: one attempt at a time, once the pause since the last failure is over.
  Duration pause = Duration::zero();
  if (e.failures > free_failures) {
    pause = options_.first_pause;
    for (int i = free_failures + 1; i < e.failures && pause < options_.max_pause; ++i) pause *= 2;
    pause = std::min(pause, options_.max_pause);
  }
  const MonoTime until = e.last + pause;
  if (e.pending == 0 && until <= now) {
    ++e.pending;
    return std::nullopt;
  }
  // An attempt under way decides first; ask again in a second.
  return until > now ? until - now : Duration(options_.first_pause);
}

void FailureThrottle::End(const Who& who, bool succeeded) {
  const std::string key = KeyOf(who);
  std::lock_guard<std::mutex> lock(mu_);
  const MonoTime now = clock_.Now();
  auto it = FindLocked(key, now);
  if (succeeded) {
    // Only the reservation goes: failures age out (forget_after) and are not wiped by the
    // client's own logins, or a guesser behind the same address would get fresh free attempts
    // after each of them.
    if (it == entries_.end()) return;
    Entry& e = it->second;
    e.pending = std::max(0, e.pending - 1);
    if (e.failures == 0 && e.pending == 0) ForgetLocked(it);
    return;
  }
  if (it == entries_.end()) it = InsertLocked(key);  // forgotten meanwhile: still counts
  Entry& e = it->second;
  e.pending = std::max(0, e.pending - 1);
  ++e.failures;
  e.last = now;
}

size_t FailureThrottle::tracked() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace cte::ingest
