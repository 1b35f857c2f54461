#include "hack/tenant-simulator/validation.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace cte::tenantsim {
namespace {

constexpr std::string_view kForbiddenNameChars = "<>/!@#$%^&*(){};+=,?.|:'\"";

EntryCheck Invalid(std::string reason) { return {EntryVerdict::kInvalid, std::move(reason)}; }

bool AllDigits(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t at = s.find(sep, start);
    out.push_back(
        s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

bool IsIpv4(std::string_view s) {
  auto parts = Split(s, '.');
  if (parts.size() != 4) return false;
  for (auto p : parts) {
    if (!AllDigits(p) || p.size() > 3 || std::stoi(std::string(p)) > 255) return false;
  }
  return true;
}

// 10.0.0.0/8 or 10.0.0.1-10.0.0.9.
bool IsIpv4RangeOrCidr(std::string_view s) {
  if (size_t slash = s.find('/'); slash != std::string_view::npos) {
    std::string_view prefix = s.substr(slash + 1);
    return IsIpv4(s.substr(0, slash)) && AllDigits(prefix) && prefix.size() <= 2 &&
           std::stoi(std::string(prefix)) <= 32;
  }
  if (size_t dash = s.find('-'); dash != std::string_view::npos) {
    return IsIpv4(s.substr(0, dash)) && IsIpv4(s.substr(dash + 1));
  }
  return false;
}

std::optional<std::string> HostnameProblem(std::string_view host) {
  if (host.empty()) return "missing host";
  if (host.size() > 253) return "host name longer than 253 characters";
  auto labels = Split(host, '.');
  bool all_numeric = true;
  for (auto label : labels) {
    if (label.empty()) return "empty label in host name";
    if (label.size() > 63) return "host name label longer than 63 characters";
    for (unsigned char c : label) {
      if (!std::isalnum(c) && c != '-') {
        return "host name may contain only letters, digits and dashes";
      }
    }
    if (label.front() == '-' || label.back() == '-') {
      return "host name label may not start or end with a dash";
    }
    all_numeric = all_numeric && AllDigits(label);
  }
  if (all_numeric) return "invalid IPv4 address";
  return std::nullopt;
}

}  // namespace

std::optional<std::string> ListNameProblem(std::string_view name) {
  if (name.empty()) return "name must not be empty";
  for (char c : name) {
    if (kForbiddenNameChars.find(c) != std::string_view::npos) {
      return std::string("name may not contain '") + c + "'";
    }
  }
  return std::nullopt;
}

EntryCheck CheckExactEntry(std::string_view entry) {
  if (entry.empty() || entry.front() == '#' || entry.front() == ';') {
    return {EntryVerdict::kIgnored, ""};
  }
  for (unsigned char c : entry) {
    if (c >= 0x80) return Invalid("non-ASCII characters must be percent-encoded");
    if (std::isspace(c) || std::iscntrl(c)) return Invalid("spaces are not allowed");
  }
  std::string_view rest = entry;
  bool has_scheme = false;
  if (size_t sep = rest.find("://"); sep != std::string_view::npos) {
    std::string scheme(rest.substr(0, sep));
    std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (scheme != "http" && scheme != "https") return Invalid("unsupported scheme " + scheme);
    rest.remove_prefix(sep + 3);
    has_scheme = true;
  }
  if (!has_scheme && IsIpv4RangeOrCidr(rest)) return {};
  size_t path_at = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_at);
  std::string_view path = path_at == std::string_view::npos ? "" : rest.substr(path_at);
  if (authority.find('@') != std::string_view::npos) {
    return Invalid("credentials (user:pass@) are not allowed");
  }
  if (path.find('*') != std::string_view::npos) return Invalid("path wildcards are not supported");
  if (!authority.empty() && authority.front() == '[') {
    return Invalid("IPv6 addresses are not supported");
  }
  if (std::count(authority.begin(), authority.end(), ':') > 1) {
    return Invalid("IPv6 addresses are not supported");
  }
  std::string_view host = authority;
  if (size_t colon = authority.find(':'); colon != std::string_view::npos) {
    std::string_view port = authority.substr(colon + 1);
    host = authority.substr(0, colon);
    if (!has_scheme) return Invalid("a port is allowed only after http:// or https://");
    if (!AllDigits(port) || port.size() > 5 || std::stoi(std::string(port)) == 0 ||
        std::stoi(std::string(port)) > 65535) {
      return Invalid("invalid port");
    }
  }
  if (IsIpv4(host)) {
    // Without a scheme, IPv4 followed by /digits is CIDR notation, so the prefix must be valid.
    if (!has_scheme && path.size() > 1 && path[0] == '/' && AllDigits(path.substr(1))) {
      return Invalid("invalid CIDR prefix length");
    }
    return {};
  }
  if (host.size() > 2 && host.substr(0, 2) == "*.") host.remove_prefix(2);
  if (host.find('*') != std::string_view::npos) {
    return Invalid("a wildcard is allowed only as a leading *.");
  }
  if (auto problem = HostnameProblem(host)) return Invalid(*problem);
  return {};
}

EntryCheck CheckRegexEntry(std::string_view entry) {
  if (entry.empty() || entry.front() == '#' || entry.front() == ';') {
    return {EntryVerdict::kIgnored, ""};
  }
  for (unsigned char c : entry) {
    if (c >= 0x80) return Invalid("non-ASCII characters must be percent-encoded");
    if (std::isspace(c) || std::iscntrl(c)) return Invalid("spaces are not allowed");
  }
  if (entry.find("://") != std::string_view::npos) {
    return Invalid("a regex entry may not contain a scheme");
  }
  RE2::Options options;
  options.set_log_errors(false);
  RE2 re(re2::StringPiece(entry.data(), entry.size()), options);
  if (!re.ok()) return Invalid("invalid regular expression: " + re.error());
  return {};
}

bool IsFileHash(std::string_view value) {
  if (value.size() != 32 && value.size() != 64) return false;
  return std::all_of(value.begin(), value.end(),
                     [](unsigned char c) { return std::isxdigit(c) != 0; });
}

size_t JsonArrayBytes(const std::vector<std::string>& values) {
  size_t total = 2;  // [ ]
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) total += 2;  // ", "
    total += nlohmann::json(values[i])
                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                 .size();
  }
  return total;
}

}  // namespace cte::tenantsim
