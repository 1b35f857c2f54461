#include "operator/store/sqlite_schema.h"

#include <string>
#include <vector>

#include "operator/store/sqlite_db.h"

namespace cte::store::sqlite {
namespace {

// Index i holds the statements that take a file from version i to i + 1.
const std::vector<std::string>& Migrations() {
  static const std::vector<std::string> kMigrations = {
      // 1: sources and indicators. Timestamps are milliseconds since the epoch (UTC); type and
      // severity are the enum ordinals of operator/store/indicator.h; tags are sorted, unique and
      // joined by '\n' (ingest refuses control characters in tags), '' when there are none.
      R"sql(
CREATE TABLE sources (
  id INTEGER PRIMARY KEY,
  namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  UNIQUE (namespace, name)
);
CREATE TABLE indicators (
  id INTEGER PRIMARY KEY,
  source_id INTEGER NOT NULL REFERENCES sources (id),
  value TEXT NOT NULL,
  type INTEGER NOT NULL,
  severity INTEGER NOT NULL,
  reputation INTEGER NOT NULL,
  tags TEXT NOT NULL DEFAULT '',
  comments TEXT NOT NULL DEFAULT '',
  extended_information TEXT NOT NULL DEFAULT '',
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  expires_at INTEGER,
  active INTEGER NOT NULL,
  test INTEGER NOT NULL,
  retracted INTEGER NOT NULL DEFAULT 0,
  invalid_at INTEGER,
  invalid_reason TEXT NOT NULL DEFAULT '',
  inactive_since INTEGER,
  sightings INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX indicators_key ON indicators (source_id, value, type);
CREATE INDEX indicators_by_last_seen ON indicators (source_id, last_seen);
CREATE INDEX indicators_expiring ON indicators (expires_at)
  WHERE active = 1 AND expires_at IS NOT NULL;
CREATE INDEX indicators_inactive ON indicators (inactive_since) WHERE active = 0;
)sql",
      // 2: the sharing ledger and the pollers' checkpoints.
      R"sql(
CREATE TABLE ledger_targets (
  id INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL,
  kind INTEGER NOT NULL,
  list_name TEXT NOT NULL,
  owner TEXT NOT NULL,
  pushed_at INTEGER NOT NULL,
  UNIQUE (tenant, kind, list_name)
);
CREATE TABLE ledger_entries (
  target_id INTEGER NOT NULL REFERENCES ledger_targets (id),
  entry TEXT NOT NULL,
  PRIMARY KEY (target_id, entry)
) WITHOUT ROWID;
CREATE TABLE checkpoints (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
)sql",
  };
  return kMigrations;
}

}  // namespace

int LatestSchemaVersion() { return static_cast<int>(Migrations().size()); }

StatusOr<int> Migrate(Connection& db, const std::string& path, int target) {
  auto app_id = db.QueryInt("PRAGMA application_id");
  if (!app_id.ok()) return app_id.status();
  auto version = db.QueryInt("PRAGMA user_version");
  if (!version.ok()) return version.status();
  auto objects = db.QueryInt("SELECT count(*) FROM sqlite_schema");
  if (!objects.ok()) return objects.status();

  if (*app_id != 0 && *app_id != kApplicationId) {
    return Status(StatusCode::kFailedPrecondition,
                  path + " is not a cte-operator store (SQLite application_id " +
                      std::to_string(*app_id) + ")");
  }
  if (*app_id == 0 && *objects > 0) {
    return Status(StatusCode::kFailedPrecondition,
                  path + " is not a cte-operator store: it already holds other tables");
  }
  const int latest = LatestSchemaVersion();
  if (*version > latest) {
    return Status(StatusCode::kFailedPrecondition,
                  path + " has store schema version " + std::to_string(*version) +
                      ", written by a newer cte-operator; this binary supports versions up to " +
                      std::to_string(latest) +
                      ". Run the newer cte-operator, or restore a backup taken before the upgrade "
                      "(docs/store.md).");
  }
  if (target > latest) target = latest;
  for (int v = static_cast<int>(*version); v < target; ++v) {
    std::string sql = "BEGIN IMMEDIATE;\n" + Migrations()[static_cast<size_t>(v)] +
                      "PRAGMA application_id = " + std::to_string(kApplicationId) + ";\n" +
                      "PRAGMA user_version = " + std::to_string(v + 1) + ";\nCOMMIT;";
    if (Status s = db.Exec(sql); !s.ok()) {
      (void)db.Exec("ROLLBACK");
      return Status(s.code(), "migrating " + path + " to schema version " + std::to_string(v + 1) +
                                  ": " + s.message());
    }
  }
  return static_cast<int>(*version);
}

}  // namespace cte::store::sqlite
