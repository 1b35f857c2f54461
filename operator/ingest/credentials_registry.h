// Who may push to the ingest API: the client credentials of each APISource CTEPlugin (the keys
// client_id and client_secret of the Secret its spec.apiSource.credentialsSecretRef names), with
// the plugin's settings that apply at ingest. The CTEPlugin reconciler keeps the
// StaticCredentialsRegistry of cte-operator filled from the cluster; tests fill one by hand, and
// `--ingest-credentials-file` adds static entries.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "operator/core/secret_string.h"
#include "operator/core/status.h"
#include "operator/store/indicator.h"
#include "operator/store/source_policy.h"

namespace cte::ingest {

// The longest client_id accepted, at registration and at POST /api/auth (before the login
// throttle, whose memory it bounds).
inline constexpr size_t kMaxClientIdBytes = 256;

struct ApiSourceCredentials {
  store::SourceRef plugin;
  std::string client_id;
  SecretString client_secret;
  // Scopes this client may be granted (both by default).
  std::vector<std::string> scopes = {"cte_read", "cte_write"};
  store::SourcePolicy policy;
  // Set by the registry: CredentialsVersion(). Tokens carry it, so rotating a Secret revokes the
  // tokens issued with the old secret at once, while unchanged credentials keep their tokens.
  uint64_t version = 0;
};

// A digest of (plugin, client_id, secret) under a random key of this process: equal for equal
// credentials, different when the client_id or secret changes, and no help to a secret guesser.
uint64_t CredentialsVersion(const ApiSourceCredentials& c);

// Thread-safe; lookups run on every ingest request.
class CredentialsRegistry {
 public:
  virtual ~CredentialsRegistry() = default;
  virtual std::optional<ApiSourceCredentials> FindByClientId(
      const std::string& client_id) const = 0;
};

class StaticCredentialsRegistry : public CredentialsRegistry {
 public:
  StaticCredentialsRegistry() = default;
  // Layers this registry over `underlying` (which must outlive it), as cte-operator layers the
  // reconciler's entries over those of --ingest-credentials-file: lookups fall through to it,
  // Remove never touches its entries, and Put refuses a client_id it gives to another plugin.
  // A plugin with entries here hides its entries there (one source of truth per plugin).
  explicit StaticCredentialsRegistry(const CredentialsRegistry* underlying)
      : underlying_(underlying) {}

  // Adds or replaces the credentials of a plugin. InvalidArgument when the client_id is already
  // used by another plugin (a client_id must name exactly one plugin) or a field is empty.
  Status Put(ApiSourceCredentials credentials);
  // Removes this registry's entries of `plugin` (not those of the underlying registry).
  void Remove(const store::SourceRef& plugin);
  std::optional<ApiSourceCredentials> FindByClientId(const std::string& client_id) const override;

 private:
  const CredentialsRegistry* underlying_ = nullptr;
  mutable std::mutex mu_;
  std::map<std::string, ApiSourceCredentials> by_client_id_;
};

// Reads `[{"namespace","plugin","clientId","clientSecret","agingDays","overrideReputation",
// "scopes"}...]` (JSON or YAML). Errors name the entry and field; secrets never appear in them.
StatusOr<std::vector<ApiSourceCredentials>> ParseCredentialsFile(const std::string& text);

}  // namespace cte::ingest
