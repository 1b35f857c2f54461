// The SQLite store's schema as a list of forward migrations. The file's version is
// `PRAGMA user_version`; its owner is marked by `PRAGMA application_id`, so a stray database is
// never mistaken for a store.
//
// Rules: a released migration is never edited; a change is a new migration appended to the list.
// A file newer than this binary is refused (it may hold columns or meanings this binary would
// silently drop), with an error that says what to do.
#pragma once

#include <cstdint>

#include "operator/core/status.h"

namespace cte::store::sqlite {

class Connection;

// 'CTEi' in ASCII.
inline constexpr int32_t kApplicationId = 0x43544569;

// The newest schema this binary knows.
int LatestSchemaVersion();

// Brings the database up to `target` (<= LatestSchemaVersion()), one transaction per migration.
// Refuses a file with a foreign application_id, a non-empty database that is not ours, and a
// version newer than LatestSchemaVersion() (FailedPrecondition, naming both versions). Returns
// the version the file had when opened.
StatusOr<int> Migrate(Connection& db, const std::string& path, int target);

}  // namespace cte::store::sqlite
