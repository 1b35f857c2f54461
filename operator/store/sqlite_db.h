// Thin RAII wrappers over the SQLite C API for the store's implementation files: a connection with
// a cache of prepared statements, and a statement with typed binds and column reads. Internal to
// operator/store: no public header includes this one, so <sqlite3.h> stays inside the store.
//
// Not thread-safe: a connection (and its statements) is used by one thread at a time.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "operator/core/status.h"

namespace cte::store::sqlite {

class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are 1-based, as in SQL (?1, ?2, ...).
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void Bind(int i, int v) { sqlite3_bind_int64(stmt_, i, v); }
  void Bind(int i, bool v) { sqlite3_bind_int(stmt_, i, v ? 1 : 0); }
  // The text must stay alive until the statement is reset (SQLITE_STATIC avoids a copy).
  void Bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
  void BindNull(int i) { sqlite3_bind_null(stmt_, i); }
  void Bind(int i, const std::optional<int64_t>& v) {
    if (v) {
      Bind(i, *v);
    } else {
      BindNull(i);
    }
  }

  // SQLITE_ROW, SQLITE_DONE, or an error code.
  int Step() { return sqlite3_step(stmt_); }
  // Runs to completion; for statements that return no rows (or whose rows are ignored).
  Status Run();
  // Ready for the next use: resets and clears every binding.
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::optional<int64_t> OptInt(int col) const {
    if (IsNull(col)) return std::nullopt;
    return Int(col);
  }
  std::string_view Text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string_view();
  }

  // The error of the last failed step, as a Status (busy/locked/I/O errors are Unavailable).
  Status Error(int code) const;
  sqlite3_stmt* raw() { return stmt_; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

// Resets a cached statement when the scope ends, whatever path leaves it.
class StatementLease {
 public:
  explicit StatementLease(Statement& s) : s_(s) {}
  ~StatementLease() { s_.Reset(); }
  StatementLease(const StatementLease&) = delete;
  StatementLease& operator=(const StatementLease&) = delete;
  Statement* operator->() { return &s_; }
  Statement& operator*() { return s_; }

 private:
  Statement& s_;
};

class Connection {
 public:
  // Opens (creating when `create`) the database file. `readonly` opens without write access.
  static StatusOr<std::unique_ptr<Connection>> Open(const std::string& path, bool create,
                                                    bool readonly = false);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements that return nothing interesting (DDL, PRAGMA, BEGIN...).
  Status Exec(const std::string& sql);
  // Runs a query returning a single integer (PRAGMA user_version, count(*)).
  StatusOr<int64_t> QueryInt(const std::string& sql);

  // A prepared statement kept for the life of the connection (reset it after use: StatementLease).
  StatusOr<Statement*> Cached(const std::string& sql);
  // A one-off prepared statement.
  StatusOr<std::unique_ptr<Statement>> Prepare(const std::string& sql);

  sqlite3* raw() { return db_; }
  // The connection's last error as a Status.
  Status Error(int code, std::string_view what) const;

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<std::string, std::unique_ptr<Statement>> cache_;
};

// Classifies a SQLite result code: busy, locked, I/O, full disk and similar are Unavailable
// (retryable); corruption and misuse are Internal; constraint violations are InvalidArgument.
Status StatusFromSqlite(int code, std::string message);

}  // namespace cte::store::sqlite
