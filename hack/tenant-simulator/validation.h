// Input rules of a Netskope tenant, as the tenant simulator enforces them: URL-list names, URL-list
// entries (exact and regex lists), file hashes, and the "JSON bytes" size measure of a list.
// Pure functions; see docs/tenant-simulator.md and reference/netskope-api.md §3.2 and §4.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cte::tenantsim {

// Why a URL-list name is not allowed, or nullopt when it is. The tenant rejects names that are
// empty or contain any of < > / ! @ # $ % ^ & * ( ) { } ; + = , ? . | : ' " (reference §3.2).
std::optional<std::string> ListNameProblem(std::string_view name);

enum class EntryVerdict {
  kValid,    // store it
  kIgnored,  // blank or a comment line (# or ;): accepted but not stored
  kInvalid,  // rejected; `reason` says why
};

struct EntryCheck {
  EntryVerdict verdict = EntryVerdict::kValid;
  std::string reason;
};

// Checks one entry of an `exact` list: host, host/path, http(s)://host[:port]/path, *.domain,
// IPv4, IPv4 range (a-b) or CIDR. Rejects path wildcards, spaces, non-ASCII, user:pass@, other
// schemes, and IPv6 (CE tags IPv6 entries separately because the tenant refuses them; refusing
// is the safer reading).
EntryCheck CheckExactEntry(std::string_view entry);

// Checks one entry of a `regex` list: it must compile as RE2 (so PCRE lookaround and
// backreferences are refused, as the tenant refuses them) and must not carry a scheme.
EntryCheck CheckRegexEntry(std::string_view entry);

// md5 (32 hex digits) or sha256 (64 hex digits), either case.
bool IsFileHash(std::string_view value);

// The size of `values` as a JSON array the way Python's json.dumps writes it
// (`["a", "b"]`): the measure CE uses for its 7/8 MiB caps, counted here in bytes.
size_t JsonArrayBytes(const std::vector<std::string>& values);

}  // namespace cte::tenantsim
