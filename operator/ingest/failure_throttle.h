// Slows down guessing at /api/auth: after `free_failures` failed attempts from one address, each
// further attempt must wait an exponentially growing pause (from `first_pause`, doubling, up to
// `max_pause`) after the last failure, and is refused with 429 and Retry-After until then
// (without checking the credentials, so a guesser learns nothing). A success clears the address.
// Nothing sleeps: a refused request costs the server no thread time.
//
// Memory is bounded: at most `max_addresses` are tracked, the least recently failed forgotten
// first, and failures older than `forget_after` no longer count. Thread-safe; time from the
// injected clock.
#pragma once

#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "operator/core/clock.h"

namespace cte::ingest {

struct FailureThrottleOptions {
  int free_failures = 5;
  Duration first_pause = std::chrono::seconds(1);
  Duration max_pause = std::chrono::minutes(5);
  Duration forget_after = std::chrono::minutes(15);
  size_t max_addresses = 10000;
};

class FailureThrottle {
 public:
  FailureThrottle(Clock& clock, FailureThrottleOptions options = {});

  // How long `address` must still wait; nullopt when it may try now.
  std::optional<Duration> Blocked(const std::string& address);
  void RecordFailure(const std::string& address);
  void RecordSuccess(const std::string& address);
  size_t tracked() const;

 private:
  struct Entry {
    int failures = 0;
    MonoTime last{};
    std::list<std::string>::iterator lru;
  };
  Duration PauseFor(int failures) const;

  Clock& clock_;
  FailureThrottleOptions options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> lru_;  // front: most recently failed
};

}  // namespace cte::ingest
