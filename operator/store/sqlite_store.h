// The embedded IndicatorStore: one SQLite 3 file in WAL mode with synchronous=FULL, so a
// committed transaction is in the write-ahead log and fsync'ed before Commit() returns.
//
// Group commit: Commit() hands its batch to the store's single writer thread and waits. The writer
// takes every batch that queued up while the previous transaction was being synced and applies
// them in one transaction, then commits once. A batch that fails is refused alone: the group is
// rolled back and the other batches replayed, each inside a SAVEPOINT (savepoints are not used on
// the common path, where they cost about 15% of a group's time). An error that ends the
// transaction itself (SQLite may roll back on an I/O error or a full disk) fails the whole group.
// Under concurrent load the fsync cost is shared by all waiting callers; a lone caller pays one
// fsync, as without grouping.
//
// Checkpoints (copying the WAL into the database file) run on the writer thread between
// transactions once the WAL holds `checkpoint_bytes`, so the WAL stays bounded.
//
// Reads use a small pool of read-only connections; WAL lets them run beside the writer and see
// the last committed state. Select() keeps one connection (and its snapshot) for the cursor's life.
//
// Backup: BackupSqliteStore() copies a live store with SQLite's online backup API (the
// `cte-operator store backup` subcommand); see docs/store.md.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "operator/core/log.h"
#include "operator/store/indicator_store.h"

namespace cte::store {

namespace sqlite {
class Connection;
}

struct SqliteStoreOptions {
  std::string path;
  // Read connections kept open (more are opened when all are busy, up to max_readers).
  int max_readers = 8;
  // SQLite page cache per connection, KiB. The writer's is larger: it walks the indexes.
  int writer_cache_kib = 64 * 1024;
  int reader_cache_kib = 16 * 1024;
  // At most this many batches, or about this many indicator rows, go into one transaction.
  size_t max_group_batches = 512;
  size_t max_group_rows = 200000;
  // The WAL is copied into the database file once it holds about this many bytes (64 times
  // SQLite's default of 1,000 pages of 4 KiB): the unique index takes new values on random
  // pages, so a group commit dirties nearly a page per new hash, and a large WAL lets a page
  // changed by many transactions be copied once: +40% rows per second against 40 MiB for raw
  // inserts of ingest_bench's rows, 4,000 per transaction. The volume needs room for it. At least
  // 1,000 pages (SQLite's default) whatever this says.
  int64_t checkpoint_bytes = int64_t{256} << 20;
  // Page size of a new file (an existing file keeps its own). 8 KiB rather than SQLite's 4 KiB:
  // a grouped transaction of a few thousand rows dirties fewer pages of the unique index (10-15%
  // more rows per second in the same measurement, for the same bytes of cache).
  int page_size = 8192;
  // Tests only: create or migrate the file to this schema version instead of the latest.
  int schema_version = 0;
};

class SqliteIndicatorStore : public IndicatorStore {
 public:
  // Opens (creating when missing) and migrates the store. FailedPrecondition when the file is not
  // a store, or was written by a newer binary.
  static StatusOr<std::unique_ptr<SqliteIndicatorStore>> Open(SqliteStoreOptions options,
                                                              Logger log = NullLogger());
  // Stops the writer after the queued batches; Commit() calls that arrive later fail.
  ~SqliteIndicatorStore() override;

  StatusOr<BatchResult> Commit(WriteBatch batch) override;
  StatusOr<std::optional<Indicator>> Get(const SourceRef& source, const std::string& value,
                                         IndicatorType type) override;
  StatusOr<std::vector<Indicator>> Query(const IndicatorQuery& query) override;
  StatusOr<int64_t> Count(const IndicatorQuery& query) override;
  StatusOr<std::unique_ptr<IndicatorCursor>> Select(const Selection& selection) override;
  StatusOr<std::vector<TallyRow>> Tally() override;
  StatusOr<std::optional<Ledger>> GetLedger(const LedgerTarget& target) override;
  StatusOr<std::vector<LedgerTarget>> LedgerTargetsOf(const std::string& owner) override;
  StatusOr<std::optional<std::string>> GetCheckpoint(const std::string& key) override;
  std::unique_ptr<Subscription> Subscribe(ChangeListener listener) override;

  // The schema version the file had when it was opened (0 for a new file).
  int opened_schema_version() const { return opened_version_; }

  struct Stats {
    uint64_t transactions = 0;  // database transactions committed
    uint64_t batches = 0;       // WriteBatches committed in them
    uint64_t replays = 0;       // groups rolled back for a failing batch and run again
  };
  Stats stats() const;
  // The writer's settings as SQLite reports them after Open (Open fails unless they are WAL and
  // synchronous=FULL, i.e. 2).
  struct Durability {
    std::string journal_mode;
    int synchronous = 0;
  };
  Durability durability() const;
  // Batches waiting for the writer (tests use it to line up a group deterministically).
  size_t queued() const;

  // The query plan SQLite chooses for Select() (tests check it streams from an index).
  StatusOr<std::string> ExplainSelect(const Selection& selection);

  class ReaderLease;  // implementation detail, public for the cursor

 private:
  struct Pending;
  class SubscriptionImpl;
  class Cursor;
  struct GroupState;

  SqliteIndicatorStore(SqliteStoreOptions options, Logger log);
  Status Init();
  void WriterLoop();
  void RunGroup(std::vector<Pending*>& group);
  // A batch that failed in the first pass over a group, with its error.
  struct Refusal {
    size_t index;
    Status status;
  };
  // Applies the group in one transaction. Without `refused` (the first pass): no savepoints; when
  // a batch of a group of several fails, the transaction is rolled back, nobody is answered and
  // the failure is returned. With `refused` (the replay): that batch is answered with its error
  // without being run again and every other batch runs inside its own savepoint, so a failing
  // one rolls back alone. Every other path answers every caller and returns nullopt.
  std::optional<Refusal> RunGroupOnce(std::vector<Pending*>& group, const Refusal* refused);
  // Applies one batch inside the open transaction. `group` holds the sources earlier batches of
  // the transaction created; sources this batch creates go to `created`.
  StatusOr<BatchResult> ApplyBatch(const WriteBatch& batch, const GroupState& group,
                                   GroupState& created, std::vector<ChangeEvent>& events);
  void Dispatch(const std::vector<ChangeEvent>& events);

  StatusOr<std::unique_ptr<ReaderLease>> AcquireReader();
  void ReleaseReader(std::unique_ptr<sqlite::Connection> conn);
  // The committed sources a query reads (its namespace, narrowed to its plugin names).
  std::map<int64_t, SourceRef> SourcesOf(const IndicatorQuery& q) const;
  // The committed id of a source, or nullopt when it has never been written.
  StatusOr<std::optional<int64_t>> FindSourceId(sqlite::Connection& conn, const SourceRef& source);
  // The id of `source` in the file, read through `conn`; nullopt when it has none.
  static StatusOr<std::optional<int64_t>> LookupSource(sqlite::Connection& conn,
                                                       const SourceRef& source);

  SqliteStoreOptions options_;
  Logger log_;
  int opened_version_ = 0;
  std::unique_ptr<sqlite::Connection> writer_;

  // Commit queue.
  mutable std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Pending*> queue_;
  bool stopping_ = false;
  std::thread writer_thread_;

  std::atomic<uint64_t> transactions_{0};
  std::atomic<uint64_t> batches_{0};
  std::atomic<uint64_t> replays_{0};
  std::string journal_mode_;  // as read back from SQLite at Open
  int synchronous_ = 0;

  // Source ids known to be committed ("namespace/name" -> id). Written by the writer thread.
  mutable std::mutex sources_mu_;
  std::map<std::string, int64_t> source_ids_;
  std::map<int64_t, SourceRef> source_refs_;

  // Reader pool.
  std::mutex readers_mu_;
  std::condition_variable readers_cv_;
  std::vector<std::unique_ptr<sqlite::Connection>> idle_readers_;
  int open_readers_ = 0;

  // Listeners; held while dispatching so unsubscribing waits for a running callback.
  std::mutex listeners_mu_;
  std::map<uint64_t, ChangeListener> listeners_;
  uint64_t next_listener_ = 1;
};

// Copies the store at `source_path` to `destination_path` with SQLite's online backup API, while
// the operator keeps writing (it sees one consistent state). The copy is written next to the
// destination and renamed into place when complete; an existing destination is refused.
Status BackupSqliteStore(const std::string& source_path, const std::string& destination_path);

}  // namespace cte::store
