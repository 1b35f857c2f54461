#include "operator/store/sqlite_db.h"

namespace cte::store::sqlite {

Status StatusFromSqlite(int code, std::string message) {
  switch (code & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
      return Status::Ok();
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
    case SQLITE_NOMEM:
    case SQLITE_INTERRUPT:
      return UnavailableError(std::move(message));
    case SQLITE_CONSTRAINT:
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
    case SQLITE_MISMATCH:
      return InvalidArgumentError(std::move(message));
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return {StatusCode::kPermissionDenied, std::move(message)};
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return {StatusCode::kFailedPrecondition, std::move(message)};
    default:
      return InternalError(std::move(message));
  }
}

Status Statement::Run() {
  int rc;
  while ((rc = Step()) == SQLITE_ROW) {
  }
  return rc == SQLITE_DONE ? Status::Ok() : Error(rc);
}

Status Statement::Error(int code) const {
  return StatusFromSqlite(
      code, std::string("sqlite: ") + sqlite3_errmsg(db_) + " (" + sqlite3_errstr(code) + ")");
}

StatusOr<std::unique_ptr<Connection>> Connection::Open(const std::string& path, bool create,
                                                       bool readonly) {
  sqlite3* db = nullptr;
  int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  if (create && !readonly) flags |= SQLITE_OPEN_CREATE;
  // One thread uses a connection at a time (we lock around it), so SQLite's own mutexes are
  // redundant; NOMUTEX keeps them off the hot path.
  flags |= SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return StatusFromSqlite(rc, "cannot open " + path + ": " + msg);
  }
  sqlite3_extended_result_codes(db, 1);
  return std::unique_ptr<Connection>(new Connection(db));
}

Connection::~Connection() {
  cache_.clear();  // statements first: close_v2 would otherwise defer
  sqlite3_close_v2(db_);
}

Status Connection::Error(int code, std::string_view what) const {
  return StatusFromSqlite(code, "sqlite: " + std::string(what) + ": " + sqlite3_errmsg(db_));
}

Status Connection::Exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string msg = err ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  return StatusFromSqlite(rc, "sqlite: " + msg);
}

StatusOr<int64_t> Connection::QueryInt(const std::string& sql) {
  auto stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  int rc = (*stmt)->Step();
  if (rc != SQLITE_ROW) return (*stmt)->Error(rc == SQLITE_DONE ? SQLITE_INTERNAL : rc);
  return (*stmt)->Int(0);
}

StatusOr<std::unique_ptr<Statement>> Connection::Prepare(const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return Error(rc, "prepare");
  return std::make_unique<Statement>(db_, stmt);
}

StatusOr<Statement*> Connection::Cached(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return it->second.get();
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return Error(rc, "prepare");
  auto* raw = new Statement(db_, stmt);
  cache_.emplace(sql, std::unique_ptr<Statement>(raw));
  return raw;
}

}  // namespace cte::store::sqlite
