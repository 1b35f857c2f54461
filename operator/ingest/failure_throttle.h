// Slows down guessing at /api/auth. A login is throttled under one key:
//   - a registered client_id at an address ("client" key, `client_free_failures` = 5): one tool
//     with a wrong secret (say, after a rotation) is paused without pausing the other tools
//     that a load balancer shows under the same address;
//   - any unknown client_id from an address ("address" key, `address_free_failures` = 50):
//     guessing across made-up ids is paused per address, and such a flood cannot buy fresh
//     guesses by pushing other keys out of the table (it is paused long before).
// Past its free failures a key must wait an exponentially growing pause (from `first_pause`,
// doubling, up to `max_pause`) after its last failure; meanwhile attempts are refused with 429
// and Retry-After without checking the credentials, so a guesser learns nothing. Nothing sleeps:
// a refused request costs the server no thread time.
//
// Begin() decides and reserves in one step under the lock; the reservation counts against the
// free failures until End() reports the outcome, so a burst of parallel guesses gets the free
// attempts and no more. Only a failure moves the pause, and a success does not clear earlier
// failures (a guesser sharing the client's address would get fresh free attempts after each of
// the client's logins): failures are forgotten `forget_after` past the last one, an hour, well
// beyond the ~8.5 minutes of doubling pauses, so waiting them out buys little.
//
// Memory is bounded: at most `max_keys` keys (an address and a client_id, which the caller
// bounds) are tracked, the least recently used without an attempt under way forgotten first,
// and failures older than `forget_after` no longer count. Thread-safe; time from the injected
// clock.
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
  Duration forget_after = std::chrono::hours(1);
  size_t max_keys = 20000;
};

class FailureThrottle {
 public:
  FailureThrottle(Clock& clock, FailureThrottleOptions options = {});

  // The key of a login attempt: `client_id` when it is registered, else nullopt (counted per
  // address).
  struct Who {
    std::string address;
    std::optional<std::string> client_id;
  };

  // nullopt: the attempt may go ahead, and is reserved until End(). Otherwise how long to wait
  // (nothing reserved).
  std::optional<Duration> Begin(const Who& who);
  // The outcome of an attempt Begin() let through.
  void End(const Who& who, bool succeeded);
  size_t tracked() const;

 private:
  struct Entry {
    int failures = 0;
    int pending = 0;  // attempts let through and not ended yet
    MonoTime last{};  // the last failure
    std::list<const std::string*>::iterator lru;
  };
  using Map = std::unordered_map<std::string, Entry>;
  Map::iterator FindLocked(const std::string& key, MonoTime now);
  Map::iterator InsertLocked(const std::string& key);
  void ForgetLocked(Map::iterator it);

  Clock& clock_;
  FailureThrottleOptions options_;
  mutable std::mutex mu_;
  Map entries_;
  std::list<const std::string*> lru_;  // keys of entries_ (stable node keys); front: most recent
};

}  // namespace cte::ingest
