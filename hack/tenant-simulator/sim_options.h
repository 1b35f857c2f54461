// What a tenant simulator starts with: tokens and their scopes, lists, caps, rate limits and
// iterator paging. Built from flags and an optional config file (JSON or YAML); see
// docs/tenant-simulator.md for the file format.
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "operator/core/clock.h"
#include "operator/core/status.h"
#include "operator/http/http_server.h"

namespace cte::tenantsim {

enum class TokenApi { kV1, kV2 };
enum class Access { kNone, kRead, kReadWrite };

struct TokenSpec {
  std::string token;
  TokenApi api = TokenApi::kV2;
  // Shown as modify_by on the lists this token writes.
  std::string name = "cte-operator";
  // v2 only: access per endpoint, keyed by the endpoint as the tenant's token page lists it
  // (e.g. "/api/v2/policy/urllist", "/api/v2/policy/urllist/deploy",
  // "/api/v2/events/dataexport/alerts/malware"); "*" covers every endpoint. Keys match exactly:
  // a scope on /api/v2/policy/urllist does not grant /api/v2/policy/urllist/deploy.
  std::map<std::string, Access> scopes;
};

struct SeedUrlList {
  std::string name;
  std::string type = "exact";
  std::vector<std::string> urls;
};

struct SeedFileHashList {
  std::string name;
  std::vector<std::string> hashes;
};

struct SimulatorLimits {
  size_t url_list_max_bytes = 7 * 1024 * 1024;        // JSON bytes, CE's default cap
  size_t file_hash_list_max_bytes = 8 * 1024 * 1024;  // JSON bytes
  size_t max_entries = 300000;
  int v1_requests = 24;  // per v1_window, tenant-wide
  Duration v1_window = std::chrono::seconds(5);
  // The tenant-wide v2 "Global Rate Limit" is not published (reference §9.5); 4 per second, the
  // only published v2 figure, is the default. <= 0 turns it off.
  int v2_requests_per_second = 4;
  int iterator_requests_per_second = 4;  // per iterator endpoint
};

struct SimulatorOptions {
  std::vector<TokenSpec> tokens;
  std::vector<SeedUrlList> url_lists;  // deployed at start
  std::vector<SeedFileHashList> file_hash_lists;
  SimulatorLimits limits;
  size_t iterator_page_size = 10000;
  int iterator_wait_seconds = 5;  // wait_time once a consumer has caught up
  // HTTP status of a v1 answer to a bad token (reference §9.2 leaves 403 vs 200 open; clients
  // must handle both, so this is configurable; 403 is the default D-v1 and CE's provider use).
  int v1_auth_error_status = 403;
  // The longest a "hang" fault holds a request when the client does not give up first.
  Duration max_hang = std::chrono::seconds(60);
  // Whether a second URL list with a name in use is refused. The reference leaves it open
  // (§3.5: names are not documented as unique); false lets tests show what a client does when a
  // create is applied twice (a resent POST) and two lists share a name.
  bool unique_url_list_names = true;
  // Serve HTTPS from these PEM files (--tls-cert/--tls-key), as a real tenant does.
  std::optional<http::TlsServerOptions> tls;
};

// A read-write token for every endpoint of one API.
TokenSpec FullAccessToken(std::string token, TokenApi api);

// Applies a config document on top of `base`. InvalidArgument names the offending field.
StatusOr<SimulatorOptions> ApplyConfig(const nlohmann::json& config, SimulatorOptions base);

}  // namespace cte::tenantsim
