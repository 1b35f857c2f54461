// Slows down guessing at /api/auth. Failures count at two levels:
//   - per client at an address (`client_free_failures`, 5): one tool with a wrong secret is
//     paused without pausing the other tools that a load balancer shows under the same address;
//   - per address (`address_free_failures`, 50): guessing across many client_ids from one address
//     is paused too, and a flood of made-up ids cannot buy fresh guesses by pushing a paused
//     entry out of the table.
// Past its free failures a key must wait an exponentially growing pause (from `first_pause`,
// doubling, up to `max_pause`) after its last failure; meanwhile attempts are refused with 429
// and Retry-After without checking the credentials, so a guesser learns nothing. Nothing sleeps:
// a refused request costs the server no thread time.
//
// Attempt() decides and counts in one step under the lock, as a failure until Succeeded() takes
// it back: parallel attempts cannot all pass a check made before any of them failed.
//
// Memory is bounded: at most `max_keys` keys (each at most an address and a client_id, which the
// caller bounds) are tracked, the least recently attempted forgotten first, and failures older
// than `forget_after` no longer count. Thread-safe; time from the injected clock.
#pragma once

#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "operator/core/clock.h"

namespace cte::ingest {

struct FailureThrottleOptions {
  int client_free_failures = 5;
  int address_free_failures = 50;
  Duration first_pause = std::chrono::seconds(1);
  Duration max_pause = std::chrono::minutes(5);
  Duration forget_after = std::chrono::minutes(15);
  size_t max_keys = 20000;
};

class FailureThrottle {
 public:
  FailureThrottle(Clock& clock, FailureThrottleOptions options = {});

  // nullopt: `client` may try now from `address`, and the attempt is counted as a failure at both
  // levels. Otherwise how long it must still wait (nothing counted).
  std::optional<Duration> Attempt(const std::string& address, const std::string& client);
  // The attempt succeeded: the client's failures at the address are forgotten, and the address
  // gets back the failure the attempt was counted as.
  void Succeeded(const std::string& address, const std::string& client);
  size_t tracked() const;

 private:
  struct Entry {
    int failures = 0;
    MonoTime last{};
    std::list<const std::string*>::iterator lru;
  };
  Duration WaitLocked(const std::string& key, int free_failures, MonoTime now);
  void CountLocked(const std::string& key, MonoTime now);
  void ForgetLocked(std::unordered_map<std::string, Entry>::iterator it);

  Clock& clock_;
  FailureThrottleOptions options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<const std::string*> lru_;  // keys of entries_ (stable node keys); front: most recent
};

}  // namespace cte::ingest
