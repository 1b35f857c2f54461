#include "operator/http/url.h"

#include <algorithm>
#include <cctype>

#include "operator/core/base64.h"
#include "operator/http/http_types.h"

namespace cte::http {

// Strings are built with append: GCC 12 at -O3 warns (-Wrestrict, a false positive, PR 105329)
// on `"literal" + std::string` and the build treats warnings as errors.
namespace {
std::string BracketedHost(const std::string& host) {
  if (host.find(':') == std::string::npos) return host;
  std::string out = "[";
  out.append(host).append("]");
  return out;
}
}  // namespace

std::string Url::HostHeader() const {
  std::string out = BracketedHost(host);
  if (!default_port()) out.append(":").append(std::to_string(port));
  return out;
}

std::string Url::Authority() const {
  return BracketedHost(host).append(":").append(std::to_string(port));
}

std::string Url::Origin() const { return scheme + "://" + Authority(); }

std::string RedactUrl(std::string_view text) {
  size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return std::string(text);
  size_t start = scheme_end + 3;
  size_t end = text.find_first_of("/?#", start);
  std::string_view authority =
      text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
  size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(text);
  std::string_view userinfo = authority.substr(0, at);
  size_t colon = userinfo.find(':');
  std::string out(text.substr(0, start));
  out += colon == std::string_view::npos ? std::string(userinfo)
                                         : std::string(userinfo.substr(0, colon)) + ":***";
  out += text.substr(start + at);
  return out;
}

StatusOr<Url> ParseUrl(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return InvalidArgumentError("URL \"" + RedactUrl(text) + "\": " + why);
  };
  size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return bad("not absolute (no scheme://)");
  Url out;
  out.scheme = std::string(text.substr(0, scheme_end));
  std::transform(out.scheme.begin(), out.scheme.end(), out.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (out.scheme != "http" && out.scheme != "https") return bad("scheme must be http or https");
  size_t start = scheme_end + 3;
  size_t end = text.find_first_of("/?#", start);
  std::string_view authority =
      text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
  if (end != std::string_view::npos) {
    std::string_view rest = text.substr(end);
    rest = rest.substr(0, rest.find('#'));  // a fragment never goes on the wire
    std::string target;
    target.reserve(rest.size() + 1);
    if (rest.empty() || rest.front() != '/') target.push_back('/');
    target.append(rest.data(), rest.size());
    out.target = std::move(target);
  }
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    size_t colon = userinfo.find(':');
    out.user = PercentDecode(userinfo.substr(0, colon), false);
    if (colon != std::string_view::npos) {
      out.password = PercentDecode(userinfo.substr(colon + 1), false);
    }
    out.has_credentials = true;
  }
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated [IPv6] host");
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("junk after the [IPv6] host");
      port = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
    if (out.host.find(':') != std::string::npos) return bad("an IPv6 host needs [brackets]");
  }
  if (out.host.empty()) return bad("no host");
  if (out.host.find_first_of(" \t\r\n/\\") != std::string::npos) return bad("invalid host");
  if (port.empty()) {
    out.port = out.tls() ? 443 : 80;
  } else {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos) {
      return bad("invalid port");
    }
    out.port = std::stoi(std::string(port));
    if (out.port < 1 || out.port > 65535) return bad("port out of range");
  }
  if (out.target.find_first_of(" \r\n") != std::string::npos) {
    return bad("the path holds spaces or line breaks");
  }
  return out;
}

std::string BasicAuthorization(const Url& url) {
  return "Basic " + Base64Encode(url.user + ":" + url.password);
}

}  // namespace cte::http
