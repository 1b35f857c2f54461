// Absolute http(s) URLs as the client transports need them: scheme, optional credentials (proxy
// URLs such as http://user:pass@proxy:3128), host (IPv6 without brackets), port and the request
// target. One parser for both transports, so a proxy URL means the same thing to each.
#pragma once

#include <string>
#include <string_view>

#include "operator/core/status.h"

namespace cte::http {

struct Url {
  std::string scheme;  // "http" or "https", lower case
  std::string user;    // percent-decoded userinfo, empty when absent
  std::string password;
  bool has_credentials = false;
  std::string host;          // no brackets around an IPv6 literal
  int port = 0;              // the scheme's default when the URL names none
  std::string target = "/";  // path?query as given (already percent-encoded)

  bool tls() const { return scheme == "https"; }
  bool default_port() const { return port == (tls() ? 443 : 80); }
  // host or [v6], plus :port unless it is the scheme's default: the Host header.
  std::string HostHeader() const;
  // host:port (brackets around IPv6): the CONNECT authority.
  std::string Authority() const;
  // scheme://host:port, credentials left out: safe for errors and logs, and a pool key.
  std::string Origin() const;
};

// Parses an absolute http:// or https:// URL. Errors say what is wrong and never repeat the
// credentials.
StatusOr<Url> ParseUrl(std::string_view text);

// The URL with any password replaced by "***", for messages.
std::string RedactUrl(std::string_view text);

// "Basic base64(user:password)", for Proxy-Authorization.
std::string BasicAuthorization(const Url& url);

}  // namespace cte::http
