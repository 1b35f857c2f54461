// The --store flag: which IndicatorStore backend and where. Today `sqlite:///absolute/path.db`
// (or `sqlite://relative/path.db`); `postgres://` is reserved for the PostgreSQL backend.
#pragma once

#include <string>
#include <string_view>

#include "operator/core/status.h"

namespace cte::store {

struct StoreUrl {
  enum class Backend { kSqlite };
  Backend backend = Backend::kSqlite;
  std::string path;  // the database file, for kSqlite
};

// InvalidArgument names `flag` and says what is accepted.
StatusOr<StoreUrl> ParseStoreUrl(std::string_view flag, std::string_view url);

}  // namespace cte::store
