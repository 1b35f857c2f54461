#include "operator/store/store_url.h"

namespace cte::store {

StatusOr<StoreUrl> ParseStoreUrl(std::string_view flag, std::string_view url) {
  const std::string f(flag);
  constexpr std::string_view kSqlite = "sqlite://";
  if (url.rfind(kSqlite, 0) == 0) {
    StoreUrl out;
    out.path = std::string(url.substr(kSqlite.size()));
    if (out.path.empty() || out.path == "/") {
      return InvalidArgumentError(f + ": sqlite:// needs a file path, e.g. " +
                                  "sqlite:///var/lib/cte-operator/indicators.db");
    }
    if (out.path.find('?') != std::string::npos || out.path.find('#') != std::string::npos) {
      return InvalidArgumentError(f + ": sqlite:// takes a plain file path (no ?query or #)");
    }
    return out;
  }
  if (url.rfind("postgres://", 0) == 0 || url.rfind("postgresql://", 0) == 0) {
    return InvalidArgumentError(f + ": the PostgreSQL backend is not available yet; use sqlite://");
  }
  // Only the scheme is echoed: a database URL may carry a password.
  size_t scheme_end = url.find("://");
  std::string got = scheme_end == std::string_view::npos
                        ? std::string("no scheme")
                        : "scheme \"" + std::string(url.substr(0, scheme_end)) + "\"";
  return InvalidArgumentError(f + ": must be sqlite:///path/to/indicators.db (got " + got + ")");
}

}  // namespace cte::store
