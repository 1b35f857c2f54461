// Bearer tokens for the ingest API, as Cloud Exchange issues them at /api/auth: a JWT signed with
// HS256 (HMAC-SHA256 through OpenSSL), valid 120 minutes, carrying the scopes cte_read/cte_write.
// Each token is bound to one APISource plugin (namespace/name) and the client_id that asked for it.
//
// Signing keys are random, live in memory only and rotate: a new key signs new tokens every
// `rotation_interval`, and the previous keys keep verifying until every token they signed has
// expired, so a rotation never invalidates a live token. A restart drops the keys: clients get
// 401 and re-authenticate, as OAuth2 clients do on an expired token. (A PostgreSQL-backed,
// several-replica setup would keep the keys in the shared store.)
//
// Verification is strict: the header must say alg HS256 (never "none", never another algorithm),
// the key id must be known, the signature is compared in constant time, and exp/iat are checked
// against the injected clock. Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/core/clock.h"
#include "operator/core/secret_string.h"
#include "operator/core/status.h"
#include "operator/store/indicator.h"

namespace cte::ingest {

inline constexpr std::string_view kScopeRead = "cte_read";
inline constexpr std::string_view kScopeWrite = "cte_write";

struct TokenClaims {
  store::SourceRef plugin;
  std::string client_id;
  std::vector<std::string> scopes;
  WallTime issued_at{};
  WallTime expires_at{};
  uint64_t credentials_version = 0;  // ApiSourceCredentials::version at issue

  bool HasScope(std::string_view scope) const;
};

struct TokenServiceOptions {
  Duration lifetime = std::chrono::minutes(120);  // CE's ACCESS_TOKEN_EXPIRE_MINUTES
  Duration rotation_interval = std::chrono::hours(24);
  size_t max_token_bytes = 4096;  // longer bearer values are refused unparsed
};

class TokenService {
 public:
  TokenService(Clock& clock, TokenServiceOptions options = {});

  // A signed token for these claims (issued_at/expires_at are set here). `credentials_version`:
  // the credentials' version it was issued under (a changed secret revokes the token).
  SecretString Issue(const store::SourceRef& plugin, const std::string& client_id,
                     const std::vector<std::string>& scopes, uint64_t credentials_version = 0);
  // The claims of a valid, unexpired token; Unauthenticated otherwise (the message is for logs,
  // never for the client, and never contains the token).
  StatusOr<TokenClaims> Verify(std::string_view token) const;

  // Starts signing with a fresh key now (tests; the service also rotates on its own).
  void Rotate();
  Duration lifetime() const { return options_.lifetime; }

 private:
  struct Key {
    std::string id;
    std::string secret;  // 32 random bytes
    WallTime created{};
    WallTime retired{};  // when it stopped signing (zero while current)
  };
  void RotateLocked(WallTime now);
  const Key* FindLocked(std::string_view id) const;

  Clock& clock_;
  TokenServiceOptions options_;
  mutable std::mutex mu_;
  std::deque<Key> keys_;  // back() signs
  uint64_t next_key_ = 1;
};

}  // namespace cte::ingest
