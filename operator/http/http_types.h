// Plain value types for HTTP requests and responses, shared by the server and (later) the client
// transport. No I/O here, so request builders can be pure functions tested by table.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/core/status.h"

namespace cte::http {

// Header names compare case-insensitively, as HTTP requires.
struct CaseInsensitiveLess {
  bool operator()(std::string_view a, std::string_view b) const;
};
using Headers = std::map<std::string, std::string, CaseInsensitiveLess>;

// Query parameters in order of appearance; a name may repeat.
using QueryParams = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // upper case, e.g. "GET"
  std::string path;    // percent-decoded path without the query string
  std::string raw_query;
  QueryParams query;
  Headers headers;
  std::string body;
  std::string remote_address;

  // First value of a query parameter, if present.
  std::optional<std::string> Query(std::string_view name) const;
  std::string Header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  Headers headers;
  std::string body;

  static HttpResponse Json(int status, std::string body);
  static HttpResponse Text(int status, std::string body);
};

// A header name is an RFC 9110 token; a value holds no control character other than tab (so no
// CR, LF or NUL that could end the header early or split a response).
bool IsValidHeaderName(std::string_view name);
bool IsValidHeaderValue(std::string_view value);

// Standard reason phrase for a status code ("Not Found"); "Unknown" for unlisted codes.
const char* ReasonPhrase(int status);

std::string PercentDecode(std::string_view s, bool plus_is_space);
std::string PercentEncode(std::string_view s);
QueryParams ParseQuery(std::string_view raw_query);

struct BindAddress {
  std::string host;  // IP literal without brackets; "0.0.0.0" for ":PORT"
  int port = 0;      // 0: pick a free port
  bool disabled = false;
};

// A listen address as controller-runtime's flags spell it: "HOST:PORT", "[IPV6]:PORT", ":PORT"
// (all IPv4 interfaces), or "0" (disabled). Errors name `flag` and the value.
StatusOr<BindAddress> ParseBindAddress(std::string_view flag, std::string_view value);

}  // namespace cte::http
