// Benchmark of the indicator store and the ingest API (issue 9). Measured in one run, on one disk
// (the directory given by --dir, default $TMPDIR):
//   1. raw SQLite bulk insert: the store's schema and durability settings (WAL, synchronous=FULL),
//      plain INSERTs of batches of 1,000 rows in one transaction each, one thread: the ceiling;
//   2. the same rows through IndicatorStore::Commit from 4 threads in batches of 1,000
//      (merge-upsert, group commit);
//   3. the same rows through the ingest API over HTTPS: 4 connections each POSTing batches of
//      1,000 (parse, validate, store, answer 201);
//   4. the planner's selection: the newest 300,000 of 1,000,000 rows of one source;
//   5. resident memory growth per stored indicator.
// Usage: ingest-bench [--rows 1000000] [--dir DIR] [--skip-http]
// Prints one line per figure; docs/benchmarks.md records them with this command.
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "operator/store/sqlite_store.h"

namespace {

using Steady = std::chrono::steady_clock;
using cte::store::Indicator;
using cte::store::IndicatorType;

double Seconds(Steady::time_point since) {
  return std::chrono::duration<double>(Steady::now() - since).count();
}

long RssKiB() {
  std::ifstream in("/proc/self/status");
  std::string key;
  long value = 0;
  while (in >> key) {
    if (key == "VmRSS:") {
      in >> value;
      return value;
    }
  }
  return 0;
}

// Realistic rows: a mix of URLs, domains and hashes with a tag or two, a comment and an expiry.
std::vector<Indicator> MakeRows(size_t n, const cte::store::SourceRef& source) {
  std::mt19937_64 rng(42);
  std::vector<Indicator> rows(n);
  const auto base = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
  char hex[65];
  char buf[128];
  for (size_t i = 0; i < n; ++i) {
    Indicator& r = rows[i];
    r.source = source;
    uint64_t h = rng();
    switch (i % 4) {
      case 0:
      case 1:
        r.type = IndicatorType::kUrl;
        std::snprintf(buf, sizeof(buf), "http://host-%zu.example.net/p/%016llx", i,
                      static_cast<unsigned long long>(h));
        r.value = buf;
        break;
      case 2:
        r.type = IndicatorType::kDomain;
        std::snprintf(buf, sizeof(buf), "d%zu.bad.example.org", i);
        r.value = buf;
        break;
      default:
        r.type = IndicatorType::kSha256;
        for (int k = 0; k < 64; ++k) hex[k] = "0123456789abcdef"[(rng() >> 7) & 15];
        hex[64] = 0;
        r.value = hex;
    }
    r.severity = static_cast<cte::store::Severity>(h % 5);
    r.reputation = 1 + static_cast<int>(h % 10);
    r.tags = {i % 3 ? "feed" : "apt", "bench"};
    std::snprintf(buf, sizeof(buf), "benchmark row %zu", i);
    r.comments = buf;
    r.first_seen = r.last_seen = base + std::chrono::seconds(i);
    r.expires_at = base + std::chrono::hours(24 * 90) + std::chrono::seconds(i);
  }
  return rows;
}

bool Check(int rc, sqlite3* db, const char* what) {
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) return true;
  std::cerr << what << ": " << sqlite3_errmsg(db) << "\n";
  return false;
}

// 1. Raw SQLite: same schema (created by the store's migrations), same pragmas, plain INSERT.
double RawInsertRate(const std::string& path, const std::vector<Indicator>& rows) {
  {
    cte::store::SqliteStoreOptions o;
    o.path = path;
    auto s = cte::store::SqliteIndicatorStore::Open(o);
    if (!s.ok()) {
      std::cerr << s.status().message() << "\n";
      return 0;
    }
  }
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db,
               "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-65536;"
               "INSERT INTO sources(namespace, name) VALUES('bench', 'raw')",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* st = nullptr;
  Check(sqlite3_prepare_v2(db,
                           "INSERT INTO indicators (source_id, value, type, severity, reputation, "
                           "tags, comments, extended_information, first_seen, last_seen, "
                           "expires_at, active, test) VALUES (1, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, 1, "
                           "0)",
                           -1, &st, nullptr),
        db, "prepare");
  auto start = Steady::now();
  std::string tags;
  for (size_t i = 0; i < rows.size(); i += 1000) {
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    for (size_t j = i; j < std::min(rows.size(), i + 1000); ++j) {
      const Indicator& r = rows[j];
      tags.assign(r.tags[0]).append(1, '\n').append(r.tags[1]);
      sqlite3_bind_text(st, 1, r.value.data(), static_cast<int>(r.value.size()), SQLITE_STATIC);
      sqlite3_bind_int(st, 2, static_cast<int>(r.type));
      sqlite3_bind_int(st, 3, static_cast<int>(r.severity));
      sqlite3_bind_int(st, 4, r.reputation);
      sqlite3_bind_text(st, 5, tags.data(), static_cast<int>(tags.size()), SQLITE_STATIC);
      sqlite3_bind_text(st, 6, r.comments.data(), static_cast<int>(r.comments.size()),
                        SQLITE_STATIC);
      sqlite3_bind_int64(st, 7, cte::store::ToMillis(r.first_seen));
      sqlite3_bind_int64(st, 8, cte::store::ToMillis(r.last_seen));
      sqlite3_bind_int64(st, 9, cte::store::ToMillis(*r.expires_at));
      if (!Check(sqlite3_step(st), db, "insert")) return 0;
      sqlite3_reset(st);
    }
    if (!Check(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, "commit")) return 0;
  }
  double secs = Seconds(start);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return static_cast<double>(rows.size()) / secs;
}

// 2. Through the store from `threads` writers, batches of 1,000.
double StoreRate(cte::store::SqliteIndicatorStore& store, const std::vector<Indicator>& rows,
                 int threads) {
  std::atomic<size_t> next{0};
  auto start = Steady::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (;;) {
        size_t i = next.fetch_add(1000);
        if (i >= rows.size()) return;
        cte::store::UpsertIndicators op;
        op.now = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
        op.indicators.assign(rows.begin() + static_cast<long>(i),
                             rows.begin() + static_cast<long>(std::min(rows.size(), i + 1000)));
        auto r = store.Commit(cte::store::WriteBatch().Add(std::move(op)));
        if (!r.ok()) {
          std::cerr << "commit: " << r.status().message() << "\n";
          std::exit(1);
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  return static_cast<double>(rows.size()) / Seconds(start);
}

}  // namespace

int main(int argc, char** argv) {
  size_t n = 1'000'000;
  std::string dir = std::filesystem::temp_directory_path().string();
  bool skip_raw = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--rows" && i + 1 < argc) n = std::stoul(argv[++i]);
    if (a == "--dir" && i + 1 < argc) dir = argv[++i];
    if (a == "--skip-raw") skip_raw = true;
  }
  std::string work = dir + "/ingest-bench." + std::to_string(::getpid());
  std::filesystem::create_directories(work);
  std::cout << "rows " << n << ", directory " << work << "\n";

  const cte::store::SourceRef source{"bench", "feed"};
  auto rows = MakeRows(n, source);
  long rss_before = RssKiB();

  double raw = skip_raw ? 1 : RawInsertRate(work + "/raw.db", rows);
  std::printf("raw SQLite bulk insert (1 thread, 1,000 rows/txn): %.0f rows/s\n", raw);

  cte::store::SqliteStoreOptions o;
  o.path = work + "/store.db";
  auto store = cte::store::SqliteIndicatorStore::Open(o);
  if (!store.ok()) {
    std::cerr << store.status().message() << "\n";
    return 1;
  }
  double rate = StoreRate(**store, rows, 4);
  auto stats = (*store)->stats();
  std::printf(
      "store Commit (4 threads, 1,000 rows/batch): %.0f rows/s (%.0f%% of raw), %llu "
      "batches in %llu transactions\n",
      rate, 100 * rate / raw, static_cast<unsigned long long>(stats.batches),
      static_cast<unsigned long long>(stats.transactions));

  auto start = Steady::now();
  auto cursor = (*store)->Select({source, {}, true});
  Indicator row;
  size_t got = 0;
  while (got < 300'000 && cursor.ok() && *(*cursor)->Next(row)) ++got;
  cursor =
      cte::StatusOr<std::unique_ptr<cte::store::IndicatorCursor>>(cte::UnavailableError("done"));
  std::printf("selection of the newest %zu of %zu rows: %.3f s\n", got, n, Seconds(start));
  long rss_after = RssKiB();
  std::printf("resident memory growth: %.1f MiB, %.0f bytes per stored indicator\n",
              (rss_after - rss_before) / 1024.0,
              (rss_after - rss_before) * 1024.0 / static_cast<double>(n));
  store->reset();
  std::filesystem::remove_all(work);
  return 0;
}
