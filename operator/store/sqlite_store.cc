#include "operator/store/sqlite_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <future>
#include <set>
#include <variant>

#include "operator/store/sqlite_db.h"
#include "operator/store/sqlite_schema.h"

namespace cte::store {

using sqlite::Connection;
using sqlite::Statement;
using sqlite::StatementLease;

namespace {

constexpr char kTagSeparator = '\n';

std::string JoinTags(const std::vector<std::string>& tags) {
  std::string out;
  for (const auto& t : tags) {
    if (!out.empty()) out += kTagSeparator;
    out += t;
  }
  return out;
}

void SplitTags(std::string_view s, std::vector<std::string>& out) {
  out.clear();
  while (!s.empty()) {
    size_t nl = s.find(kTagSeparator);
    out.emplace_back(s.substr(0, nl));
    if (nl == std::string_view::npos) break;
    s.remove_prefix(nl + 1);
  }
}

// cte_tags_union(a, b): the sorted union of two stored tag lists (each sorted and unique).
void TagsUnion(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto text = [](sqlite3_value* v) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(v));
    return p ? std::string_view(p, static_cast<size_t>(sqlite3_value_bytes(v)))
             : std::string_view();
  };
  std::string_view a = text(argv[0]), b = text(argv[1]);
  if (b.empty() || a == b) {
    sqlite3_result_text(ctx, a.data(), static_cast<int>(a.size()), SQLITE_TRANSIENT);
    return;
  }
  if (a.empty()) {
    sqlite3_result_text(ctx, b.data(), static_cast<int>(b.size()), SQLITE_TRANSIENT);
    return;
  }
  std::vector<std::string> x, y, merged;
  SplitTags(a, x);
  SplitTags(b, y);
  std::set_union(x.begin(), x.end(), y.begin(), y.end(), std::back_inserter(merged));
  std::string out = JoinTags(merged);
  sqlite3_result_text(ctx, out.data(), static_cast<int>(out.size()), SQLITE_TRANSIENT);
}

// The columns every read returns, in ReadRow's order.
constexpr const char* kColumns =
    "i.value, i.type, i.severity, i.reputation, i.tags, i.comments, i.extended_information, "
    "i.first_seen, i.last_seen, i.expires_at, i.active, i.test, i.retracted, i.invalid_at, "
    "i.invalid_reason, i.inactive_since, i.source_id";
constexpr int kSourceIdColumn = 16;

std::optional<WallTime> OptTime(const Statement& s, int col) {
  if (s.IsNull(col)) return std::nullopt;
  return FromMillis(s.Int(col));
}

// Reads one row into `out`, reusing its buffers; the caller sets out.source.
void ReadRow(const Statement& s, Indicator& out) {
  std::string_view value = s.Text(0);
  out.value.assign(value.data(), value.size());
  out.type = static_cast<IndicatorType>(
      std::clamp<int64_t>(s.Int(1), 0, static_cast<int64_t>(kIndicatorTypeNames.size()) - 1));
  out.severity = static_cast<Severity>(
      std::clamp<int64_t>(s.Int(2), 0, static_cast<int64_t>(kSeverityNames.size()) - 1));
  out.reputation = static_cast<int>(s.Int(3));
  SplitTags(s.Text(4), out.tags);
  std::string_view comments = s.Text(5);
  out.comments.assign(comments.data(), comments.size());
  std::string_view ext = s.Text(6);
  out.extended_information.assign(ext.data(), ext.size());
  out.first_seen = FromMillis(s.Int(7));
  out.last_seen = FromMillis(s.Int(8));
  out.expires_at = OptTime(s, 9);
  out.active = s.Int(10) != 0;
  out.test = s.Int(11) != 0;
  out.retracted = s.Int(12) != 0;
  out.invalid_at = OptTime(s, 13);
  std::string_view reason = s.Text(14);
  out.invalid_reason.assign(reason.data(), reason.size());
  out.inactive_since = OptTime(s, 15);
}

Status ValidateTags(const std::vector<std::string>& tags, const std::string& where) {
  for (const auto& t : tags) {
    if (t.empty() || t.find(kTagSeparator) != std::string::npos) {
      return InvalidArgumentError(where + ": tags must be non-empty and single-line");
    }
  }
  return Status::Ok();
}

Status ValidateIndicator(const Indicator& ind, const std::string& where) {
  if (!ind.source.Valid()) return InvalidArgumentError(where + ".source: must be namespace/name");
  if (ind.value.empty()) return InvalidArgumentError(where + ".value: must not be empty");
  if (ind.reputation < kMinReputation || ind.reputation > kMaxReputation) {
    return InvalidArgumentError(where + ".reputation: must be 1 to 10");
  }
  return ValidateTags(ind.tags, where);
}

Status ValidateOp(const WriteOp& op, size_t index) {
  std::string where = "ops[" + std::to_string(index) + "]";
  if (const auto* up = std::get_if<UpsertIndicators>(&op)) {
    for (size_t i = 0; i < up->indicators.size(); ++i) {
      if (Status s = ValidateIndicator(up->indicators[i],
                                       where + ".indicators[" + std::to_string(i) + "]");
          !s.ok()) {
        return s;
      }
    }
  } else if (const auto* u = std::get_if<UpdateIndicators>(&op)) {
    if (!u->source.Valid()) return InvalidArgumentError(where + ".source: must be namespace/name");
    if (u->value.empty()) return InvalidArgumentError(where + ".value: must not be empty");
    if (u->update.reputation &&
        (*u->update.reputation < kMinReputation || *u->update.reputation > kMaxReputation)) {
      return InvalidArgumentError(where + ".reputation: must be 1 to 10");
    }
    if (u->update.tags) return ValidateTags(*u->update.tags, where);
  } else if (const auto* d = std::get_if<DeleteIndicators>(&op)) {
    if (!d->source.Valid()) return InvalidArgumentError(where + ".source: must be namespace/name");
  } else if (const auto* c = std::get_if<PutCheckpoint>(&op)) {
    if (c->key.empty()) return InvalidArgumentError(where + ".key: must not be empty");
  } else {
    const LedgerTarget* target = nullptr;
    if (const auto* r = std::get_if<LedgerReplace>(&op)) target = &r->target;
    if (const auto* a = std::get_if<LedgerAdd>(&op)) target = &a->target;
    if (const auto* r = std::get_if<LedgerRemove>(&op)) target = &r->target;
    if (const auto* d2 = std::get_if<LedgerDelete>(&op)) target = &d2->target;
    if (target && (target->tenant.empty() || target->list_name.empty())) {
      return InvalidArgumentError(where + ".target: tenant and list name are required");
    }
  }
  return Status::Ok();
}

size_t RowsOf(const WriteBatch& batch) {
  size_t rows = 0;
  for (const auto& op : batch.ops) {
    if (const auto* up = std::get_if<UpsertIndicators>(&op)) rows += up->indicators.size();
    if (const auto* d = std::get_if<DeleteIndicators>(&op)) rows += d->values.size();
    if (const auto* r = std::get_if<LedgerReplace>(&op)) rows += r->ledger.entries.size();
    if (const auto* a = std::get_if<LedgerAdd>(&op)) rows += a->entries.size();
    if (const auto* r = std::get_if<LedgerRemove>(&op)) rows += r->entries.size();
  }
  return std::max<size_t>(rows, 1);
}

// An upsert is two statements rather than one INSERT ... ON CONFLICT DO UPDATE: SQLite gives an
// upsert a statement journal (it may abort half-way), and in a large transaction that journal's
// bookkeeping dominated the cost (4x slower in hack/bench/ingest_bench). INSERT OR IGNORE needs no
// journal; the UPDATE runs only for rows that exist. Both bind the same parameters:
//   ?1 source_id ?2 value ?3 type ?4 severity ?5 reputation ?6 tags ?7 comments
//   ?8 extended_information ?9 first_seen ?10 last_seen ?11 expires_at (NULL: never)
//   ?12 active as sent ?13 test ?14 now
constexpr const char* kInsertSql =
    "INSERT OR IGNORE INTO indicators (source_id, value, type, severity, reputation, tags, "
    "comments, extended_information, first_seen, last_seen, expires_at, active, test, retracted, "
    "inactive_since) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
    "(?12 AND (?11 IS NULL OR ?11 > ?14)), ?13, 0, "
    "iif(?12 AND (?11 IS NULL OR ?11 > ?14), NULL, ?14))";

// The merge rules of indicator_store.h (UpsertIndicators). In an UPDATE every bare column name is
// the stored value, whatever the order of the assignments.
std::string MergeSql() {
  const std::string newer = "(?10 >= last_seen)";
  const std::string merged_exp =
      "iif(expires_at IS NULL OR ?11 IS NULL, NULL, max(expires_at, ?11))";
  const std::string want = "iif(" + newer + ", ?12, max(active, ?12))";
  const std::string active =
      "(" + want + " AND (" + merged_exp + " IS NULL OR " + merged_exp + " > ?14))";
  auto newest = [&](const char* col, const char* param) {
    return std::string(col) + " = iif(" + newer + ", " + param + ", " + col + "), ";
  };
  return "UPDATE indicators SET first_seen = min(first_seen, ?9), "
         "last_seen = max(last_seen, ?10), " +
         newest("severity", "?4") + newest("reputation", "?5") + newest("comments", "?7") +
         newest("extended_information", "?8") + newest("test", "?13") + newest("retracted", "0") +
         "tags = cte_tags_union(tags, ?6), expires_at = " + merged_exp + ", active = " + active +
         ", inactive_since = iif(" + active +
         ", NULL, iif(active = 1, ?14, inactive_since)), sightings = sightings + 1 "
         "WHERE source_id = ?1 AND value = ?2 AND type = ?3";
}

// A bind value collected while building dynamic SQL.
using Param = std::variant<int64_t, std::string>;

void BindAll(Statement& s, const std::vector<Param>& params) {
  for (size_t i = 0; i < params.size(); ++i) {
    int idx = static_cast<int>(i) + 1;
    if (const auto* v = std::get_if<int64_t>(&params[i])) {
      s.Bind(idx, *v);
    } else {
      s.Bind(idx, std::string_view(std::get<std::string>(params[i])));
    }
  }
}

// "?, ?, ?" for n values.
std::string Placeholders(size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += i ? ", ?" : "?";
  return out;
}

const char* SortColumn(SortField f) {
  switch (f) {
    case SortField::kInsertion:
      return "i.id";
    case SortField::kValue:
      return "i.value";
    case SortField::kType:
      return "i.type";
    case SortField::kSource:
      return "s.name";
    case SortField::kComments:
      return "i.comments";
    case SortField::kTest:
      return "i.test";
    case SortField::kActive:
      return "i.active";
    case SortField::kReputation:
      return "i.reputation";
    case SortField::kFirstSeen:
      return "i.first_seen";
    case SortField::kSeverity:
      return "i.severity";
    case SortField::kLastSeen:
      return "i.last_seen";
    case SortField::kExpiresAt:
      return "i.expires_at";
  }
  return "i.id";
}

// Binds a ledger target as ?1 tenant, ?2 kind, ?3 list name.
void BindTarget(Statement& s, const LedgerTarget& t) {
  s.Bind(1, std::string_view(t.tenant));
  s.Bind(2, static_cast<int64_t>(t.kind));
  s.Bind(3, std::string_view(t.list_name));
}

Status Busy(const std::string& what) { return UnavailableError("indicator store: " + what); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// Plumbing types.

struct SqliteIndicatorStore::Pending {
  WriteBatch batch;
  std::promise<StatusOr<BatchResult>> done;
};

// Source ids created by the transaction being built (not yet committed): visible to later
// batches of the same group, published to readers only after COMMIT.
struct SqliteIndicatorStore::GroupState {
  std::map<std::string, int64_t> new_ids;
  std::map<int64_t, SourceRef> new_refs;
};

class SqliteIndicatorStore::ReaderLease {
 public:
  ReaderLease(SqliteIndicatorStore& store, std::unique_ptr<Connection> conn)
      : store_(store), conn_(std::move(conn)) {}
  ~ReaderLease() { store_.ReleaseReader(std::move(conn_)); }
  Connection& conn() { return *conn_; }

 private:
  SqliteIndicatorStore& store_;
  std::unique_ptr<Connection> conn_;
};

class SqliteIndicatorStore::SubscriptionImpl : public Subscription {
 public:
  SubscriptionImpl(SqliteIndicatorStore& store, uint64_t id) : store_(store), id_(id) {}
  ~SubscriptionImpl() override {
    std::lock_guard<std::mutex> lock(store_.listeners_mu_);
    store_.listeners_.erase(id_);
  }

 private:
  SqliteIndicatorStore& store_;
  uint64_t id_;
};

class SqliteIndicatorStore::Cursor : public IndicatorCursor {
 public:
  Cursor(std::unique_ptr<ReaderLease> lease, std::unique_ptr<Statement> stmt, SourceRef source)
      : lease_(std::move(lease)), stmt_(std::move(stmt)), source_(std::move(source)) {}
  ~Cursor() override {
    stmt_.reset();  // finalize before the connection goes back to the pool
    lease_.reset();
  }

  StatusOr<bool> Next(Indicator& out) override {
    if (done_) return false;
    int rc = stmt_->Step();
    if (rc == SQLITE_DONE) {
      done_ = true;
      return false;
    }
    if (rc != SQLITE_ROW) return stmt_->Error(rc);
    ReadRow(*stmt_, out);
    if (out.source != source_) out.source = source_;
    return true;
  }

 private:
  std::unique_ptr<ReaderLease> lease_;
  std::unique_ptr<Statement> stmt_;
  SourceRef source_;
  bool done_ = false;
};

// ---------------------------------------------------------------------------------------------
// Open and close.

SqliteIndicatorStore::SqliteIndicatorStore(SqliteStoreOptions options, Logger log)
    : options_(std::move(options)), log_(std::move(log)) {}

StatusOr<std::unique_ptr<SqliteIndicatorStore>> SqliteIndicatorStore::Open(
    SqliteStoreOptions options, Logger log) {
  if (options.path.empty()) return InvalidArgumentError("indicator store: empty path");
  std::unique_ptr<SqliteIndicatorStore> store(
      new SqliteIndicatorStore(std::move(options), std::move(log)));
  if (Status s = store->Init(); !s.ok()) return s;
  return store;
}

Status SqliteIndicatorStore::Init() {
  auto conn = Connection::Open(options_.path, /*create=*/true);
  if (!conn.ok()) return conn.status();
  writer_ = std::move(conn).value();
  // WAL: readers run beside the writer. synchronous=FULL: the WAL is fsync'ed at every commit,
  // so a committed transaction survives power loss, not only a process crash.
  Status s = writer_->Exec("PRAGMA busy_timeout = 10000; PRAGMA page_size = " +
                           std::to_string(options_.page_size) + "; PRAGMA journal_mode = WAL;");
  if (!s.ok()) return Status(s.code(), options_.path + ": " + s.message());
  {
    auto mode = writer_->Prepare("PRAGMA journal_mode");
    if (!mode.ok()) return mode.status();
    if ((*mode)->Step() == SQLITE_ROW) journal_mode_ = std::string((*mode)->Text(0));
  }
  if (journal_mode_ != "wal") {
    return Status(StatusCode::kFailedPrecondition,
                  options_.path + ": cannot switch to WAL mode (is the file on a network share?)");
  }
  s = writer_->Exec("PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -" +
                    std::to_string(options_.writer_cache_kib) + ";");
  if (!s.ok()) return s;
  auto synchronous = writer_->QueryInt("PRAGMA synchronous");
  if (!synchronous.ok()) return synchronous.status();
  if (*synchronous != 2) {
    return Status(StatusCode::kFailedPrecondition,
                  options_.path + ": SQLite did not accept synchronous=FULL");
  }
  synchronous_ = static_cast<int>(*synchronous);
  int target =
      options_.schema_version > 0 ? options_.schema_version : sqlite::LatestSchemaVersion();
  auto opened = sqlite::Migrate(*writer_, options_.path, target);
  if (!opened.ok()) return opened.status();
  opened_version_ = *opened;
  int rc = sqlite3_create_function_v2(writer_->raw(), "cte_tags_union", 2,
                                      SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                      nullptr, TagsUnion, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return writer_->Error(rc, "register cte_tags_union");

  auto stmt = writer_->Prepare("SELECT id, namespace, name FROM sources");
  if (!stmt.ok()) return stmt.status();
  while ((rc = (*stmt)->Step()) == SQLITE_ROW) {
    SourceRef ref{std::string((*stmt)->Text(1)), std::string((*stmt)->Text(2))};
    source_ids_[ref.Key()] = (*stmt)->Int(0);
    source_refs_[(*stmt)->Int(0)] = std::move(ref);
  }
  if (rc != SQLITE_DONE) return (*stmt)->Error(rc);

  // Checkpoints run on the writer thread, between transactions, once the WAL holds
  // checkpoint_bytes: with no write in flight the checkpoint completes and the next
  // transaction starts the WAL from its beginning again, so the WAL file stays bounded and its
  // blocks are reused. (A background checkpointer racing a steady stream of commits never
  // completes: the WAL then grows without bound, and every new block is zero-filled by ext4.)
  auto page_size = writer_->QueryInt("PRAGMA page_size");  // an existing file keeps its own
  if (!page_size.ok()) return page_size.status();
  const int64_t checkpoint_pages = std::max<int64_t>(1000, options_.checkpoint_bytes / *page_size);
  s = writer_->Exec("PRAGMA wal_autocheckpoint = " + std::to_string(checkpoint_pages));
  if (!s.ok()) return s;
  writer_thread_ = std::thread([this] { WriterLoop(); });
  log_.Info("indicator store open", {{"path", options_.path},
                                     {"schemaVersion", target},
                                     {"openedSchemaVersion", opened_version_}});
  return Status::Ok();
}

SqliteIndicatorStore::~SqliteIndicatorStore() {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_thread_.joinable()) writer_thread_.join();
  {
    std::lock_guard<std::mutex> lock(readers_mu_);
    idle_readers_.clear();
  }
  // Fold the WAL into the database file so the next start reads a small WAL.
  if (writer_) {
    (void)sqlite3_wal_checkpoint_v2(writer_->raw(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr,
                                    nullptr);
  }
}

SqliteIndicatorStore::Stats SqliteIndicatorStore::stats() const {
  return {transactions_.load(), batches_.load(), replays_.load()};
}

SqliteIndicatorStore::Durability SqliteIndicatorStore::durability() const {
  return {journal_mode_, synchronous_};
}

size_t SqliteIndicatorStore::queued() const {
  std::lock_guard<std::mutex> lock(queue_mu_);
  return queue_.size();
}

// ---------------------------------------------------------------------------------------------
// Writes.

StatusOr<BatchResult> SqliteIndicatorStore::Commit(WriteBatch batch) {
  for (size_t i = 0; i < batch.ops.size(); ++i) {
    if (Status s = ValidateOp(batch.ops[i], i); !s.ok()) return s;
  }
  Pending pending{std::move(batch), {}};
  auto future = pending.done.get_future();
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (stopping_) return Busy("closed");
    queue_.push_back(&pending);
  }
  queue_cv_.notify_one();
  return future.get();
}

void SqliteIndicatorStore::WriterLoop() {
  for (;;) {
    std::vector<Pending*> group;
    {
      std::unique_lock<std::mutex> lock(queue_mu_);
      queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued has been served
      size_t rows = 0;
      while (!queue_.empty() && group.size() < options_.max_group_batches &&
             (group.empty() || rows + RowsOf(queue_.front()->batch) <= options_.max_group_rows)) {
        rows += RowsOf(queue_.front()->batch);
        group.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    RunGroup(group);
  }
}

void SqliteIndicatorStore::RunGroup(std::vector<Pending*>& group) {
  // Batches rarely fail once validated, so the group first runs without savepoints: a savepoint
  // copies every page it is the first to change into the statement journal, and new values land
  // on a fresh page of the unique index nearly every time (about 15% of a group's time).
  if (auto refused = RunGroupOnce(group, nullptr)) {
    replays_.fetch_add(1, std::memory_order_relaxed);
    (void)RunGroupOnce(group, &*refused);  // answers everyone: the replay never refuses
  }
}

std::optional<SqliteIndicatorStore::Refusal> SqliteIndicatorStore::RunGroupOnce(
    std::vector<Pending*>& group, const Refusal* refused) {
  const bool savepoints = refused != nullptr;
  std::vector<StatusOr<BatchResult>> results;
  std::vector<std::vector<ChangeEvent>> events(group.size());
  results.reserve(group.size());
  GroupState state;

  auto fail_all = [&](const Status& s) {
    for (size_t i = 0; i < group.size(); ++i) {
      group[i]->done.set_value(refused && refused->index == i ? refused->status : s);
    }
  };
  if (Status s = writer_->Exec("BEGIN IMMEDIATE"); !s.ok()) {
    log_.Error("indicator store: cannot begin a transaction", {{"error", s.message()}});
    fail_all(Status(StatusCode::kUnavailable, "indicator store: " + s.message()));
    return std::nullopt;
  }
  bool aborted = false;  // the transaction ended early: nothing of the group survives
  for (size_t i = 0; i < group.size(); ++i) {
    if (refused && refused->index == i) {
      results.emplace_back(refused->status);  // its writes were rolled back with the first pass
      continue;
    }
    if (aborted) {
      results.emplace_back(Busy("transaction aborted"));
      continue;
    }
    GroupState batch_state;
    Status s = savepoints ? writer_->Exec("SAVEPOINT batch") : Status::Ok();
    StatusOr<BatchResult> r =
        s.ok() ? ApplyBatch(group[i]->batch, state, batch_state, events[i]) : s;
    if (sqlite3_get_autocommit(writer_->raw())) {
      aborted = true;  // SQLite rolled the whole transaction back (I/O error, full disk...)
      results.emplace_back(r.ok() ? Busy("transaction aborted") : r.status());
      continue;
    }
    if (r.ok()) {
      if (savepoints) (void)writer_->Exec("RELEASE batch");
      state.new_ids.merge(batch_state.new_ids);
      state.new_refs.merge(batch_state.new_refs);
    } else if (savepoints) {
      (void)writer_->Exec("ROLLBACK TO batch; RELEASE batch");
      events[i].clear();
    } else {
      (void)writer_->Exec("ROLLBACK");
      if (group.size() > 1) return Refusal{i, r.status()};  // the others are replayed
      group[0]->done.set_value(r.status());
      return std::nullopt;
    }
    results.push_back(std::move(r));
  }
  Status commit = aborted ? Busy("transaction aborted") : writer_->Exec("COMMIT");
  if (!commit.ok()) {
    if (!sqlite3_get_autocommit(writer_->raw())) (void)writer_->Exec("ROLLBACK");
    log_.Error("indicator store: commit failed", {{"error", commit.message()}});
    for (size_t i = 0; i < group.size(); ++i) {
      group[i]->done.set_value(
          results[i].ok() ? Status(StatusCode::kUnavailable, "indicator store: " + commit.message())
                          : results[i].status());
    }
    return std::nullopt;
  }
  {
    std::lock_guard<std::mutex> lock(sources_mu_);
    source_ids_.merge(state.new_ids);
    source_refs_.merge(state.new_refs);
  }
  transactions_.fetch_add(1, std::memory_order_relaxed);
  // Listeners hear about the change before the committers return, so a caller that commits and
  // then checks what a listener did sees it.
  for (const auto& e : events) Dispatch(e);
  uint64_t committed = 0;
  for (const auto& r : results) committed += r.ok() ? 1 : 0;
  batches_.fetch_add(committed, std::memory_order_relaxed);
  for (size_t i = 0; i < group.size(); ++i) group[i]->done.set_value(std::move(results[i]));
  return std::nullopt;
}

StatusOr<BatchResult> SqliteIndicatorStore::ApplyBatch(const WriteBatch& batch,
                                                       const GroupState& group, GroupState& created,
                                                       std::vector<ChangeEvent>& events) {
  Connection& db = *writer_;
  BatchResult result;
  result.ops.resize(batch.ops.size());
  std::map<std::pair<int64_t, ChangeKind>, int64_t> changed;  // (source id, kind) -> rows

  // Committed ids, then ids created by earlier batches of this transaction or earlier in this
  // batch, then a new row (published to readers only once the transaction commits).
  auto source_id = [&](const SourceRef& ref, bool create) -> StatusOr<std::optional<int64_t>> {
    std::string key = ref.Key();
    {
      std::lock_guard<std::mutex> lock(sources_mu_);
      if (auto it = source_ids_.find(key); it != source_ids_.end()) return {it->second};
    }
    if (auto it = group.new_ids.find(key); it != group.new_ids.end()) return {it->second};
    if (auto it = created.new_ids.find(key); it != created.new_ids.end()) return {it->second};
    // Another process on the same file (a second replica) may have created it: the row, read
    // inside this write transaction, is the truth; it is published like a new one.
    auto existing = LookupSource(db, ref);
    if (!existing.ok()) return existing.status();
    if (*existing) {
      created.new_ids[key] = **existing;
      created.new_refs[**existing] = ref;
      return {*existing};
    }
    if (!create) return std::optional<int64_t>();
    auto stmt = db.Cached("INSERT INTO sources (namespace, name) VALUES (?1, ?2)");
    if (!stmt.ok()) return stmt.status();
    StatementLease s(**stmt);
    s->Bind(1, std::string_view(ref.namespace_name));
    s->Bind(2, std::string_view(ref.name));
    if (Status st = s->Run(); !st.ok()) return st;
    int64_t id = sqlite3_last_insert_rowid(db.raw());
    created.new_ids[key] = id;
    created.new_refs[id] = ref;
    return {id};
  };
  auto ledger_target_id = [&](const LedgerTarget& t, const std::string* owner,
                              WallTime pushed_at) -> StatusOr<std::optional<int64_t>> {
    if (owner) {
      auto stmt = db.Cached(
          "INSERT INTO ledger_targets (tenant, kind, list_name, owner, pushed_at) "
          "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (tenant, kind, list_name) DO UPDATE SET "
          "owner = excluded.owner, pushed_at = excluded.pushed_at RETURNING id");
      if (!stmt.ok()) return stmt.status();
      StatementLease s(**stmt);
      BindTarget(*s, t);
      s->Bind(4, std::string_view(*owner));
      s->Bind(5, ToMillis(pushed_at));
      int rc = s->Step();
      if (rc != SQLITE_ROW) return s->Error(rc);
      int64_t id = s->Int(0);
      if (Status st = s->Run(); !st.ok()) return st;
      return {id};
    }
    auto stmt = db.Cached(
        "SELECT id FROM ledger_targets WHERE tenant = ?1 AND kind = ?2 AND list_name = ?3");
    if (!stmt.ok()) return stmt.status();
    StatementLease s(**stmt);
    BindTarget(*s, t);
    int rc = s->Step();
    if (rc == SQLITE_DONE) return std::optional<int64_t>();
    if (rc != SQLITE_ROW) return s->Error(rc);
    return {s->Int(0)};
  };
  auto touch_pushed_at = [&](int64_t target_id, WallTime at) -> Status {
    auto stmt = db.Cached("UPDATE ledger_targets SET pushed_at = ?2 WHERE id = ?1");
    if (!stmt.ok()) return stmt.status();
    StatementLease s(**stmt);
    s->Bind(1, target_id);
    s->Bind(2, ToMillis(at));
    return s->Run();
  };
  auto entries_op = [&](int64_t target_id, const std::vector<std::string>& entries, bool add,
                        OpResult& r) -> Status {
    auto stmt = db.Cached(add ? "INSERT OR IGNORE INTO ledger_entries (target_id, entry) "
                                "VALUES (?1, ?2)"
                              : "DELETE FROM ledger_entries WHERE target_id = ?1 AND entry = ?2");
    if (!stmt.ok()) return stmt.status();
    for (const auto& e : entries) {
      StatementLease s(**stmt);
      s->Bind(1, target_id);
      s->Bind(2, std::string_view(e));
      if (Status st = s->Run(); !st.ok()) return st;
      r.affected += sqlite3_changes(db.raw());
    }
    return Status::Ok();
  };
  auto clear_entries = [&](int64_t target_id) -> Status {
    auto stmt = db.Cached("DELETE FROM ledger_entries WHERE target_id = ?1");
    if (!stmt.ok()) return stmt.status();
    StatementLease s(**stmt);
    s->Bind(1, target_id);
    return s->Run();
  };
  // Counts rows per source matching `where` (with one time parameter) before a sweep changes them.
  auto count_by_source = [&](const std::string& where, int64_t t,
                             ChangeKind kind) -> StatusOr<int64_t> {
    auto stmt =
        db.Cached("SELECT source_id, count(*) FROM indicators WHERE " + where + " GROUP BY 1");
    if (!stmt.ok()) return stmt.status();
    StatementLease s(**stmt);
    s->Bind(1, t);
    int64_t total = 0;
    int rc;
    while ((rc = s->Step()) == SQLITE_ROW) {
      changed[{s->Int(0), kind}] += s->Int(1);
      total += s->Int(1);
    }
    if (rc != SQLITE_DONE) return s->Error(rc);
    return total;
  };

  for (size_t op_index = 0; op_index < batch.ops.size(); ++op_index) {
    const WriteOp& op = batch.ops[op_index];
    OpResult& r = result.ops[op_index];
    if (const auto* up = std::get_if<UpsertIndicators>(&op)) {
      static const std::string kMerge = MergeSql();
      auto insert = db.Cached(kInsertSql);
      if (!insert.ok()) return insert.status();
      auto merge = db.Cached(kMerge);
      if (!merge.ok()) return merge.status();
      const int64_t now = ToMillis(up->now);
      std::string tags;
      std::vector<std::string> sorted_tags;
      for (const Indicator& ind : up->indicators) {
        auto id = source_id(ind.source, true);
        if (!id.ok()) return id.status();
        const std::vector<std::string>* t = &ind.tags;
        if (!std::is_sorted(t->begin(), t->end()) ||
            std::adjacent_find(t->begin(), t->end()) != t->end()) {
          sorted_tags = ind.tags;
          NormalizeTags(sorted_tags);
          t = &sorted_tags;
        }
        tags = JoinTags(*t);
        auto bind = [&](Statement& s) {
          s.Bind(1, **id);
          s.Bind(2, std::string_view(ind.value));
          s.Bind(3, static_cast<int64_t>(ind.type));
          s.Bind(4, static_cast<int64_t>(ind.severity));
          s.Bind(5, ind.reputation);
          s.Bind(6, std::string_view(tags));
          s.Bind(7, std::string_view(ind.comments));
          s.Bind(8, std::string_view(ind.extended_information));
          s.Bind(9, ToMillis(ind.first_seen));
          s.Bind(10, ToMillis(ind.last_seen));
          s.Bind(11,
                 ind.expires_at ? std::optional<int64_t>(ToMillis(*ind.expires_at)) : std::nullopt);
          s.Bind(12, ind.active);
          s.Bind(13, ind.test);
          s.Bind(14, now);
        };
        StatementLease ins(**insert);
        bind(*ins);
        if (Status st = ins->Run(); !st.ok()) return st;
        if (sqlite3_changes(db.raw()) == 1) {
          ++r.inserted;
        } else {
          StatementLease upd(**merge);
          bind(*upd);
          if (Status st = upd->Run(); !st.ok()) return st;
          ++r.updated;
        }
        changed[{**id, ChangeKind::kUpserted}] += 1;
      }
    } else if (const auto* u = std::get_if<UpdateIndicators>(&op)) {
      auto id = source_id(u->source, false);
      if (!id.ok()) return id.status();
      if (!*id) continue;
      const IndicatorUpdate& f = u->update;
      std::string sets;
      std::vector<Param> params;
      auto set = [&](const char* fragment, std::vector<Param> values) {
        if (!sets.empty()) sets += ", ";
        sets += fragment;
        for (auto& v : values) params.push_back(std::move(v));
      };
      auto i64 = [](auto v) { return Param(static_cast<int64_t>(v)); };
      if (f.severity) set("severity = ?", {i64(*f.severity)});
      if (f.reputation) set("reputation = ?", {i64(*f.reputation)});
      if (f.tags) {
        std::vector<std::string> t = *f.tags;
        NormalizeTags(t);
        set("tags = ?", {JoinTags(t)});
      }
      if (f.comments) set("comments = ?", {*f.comments});
      if (f.extended_information) set("extended_information = ?", {*f.extended_information});
      if (f.first_seen) set("first_seen = ?", {ToMillis(*f.first_seen)});
      if (f.last_seen) set("last_seen = ?", {ToMillis(*f.last_seen)});
      if (f.test) set("test = ?", {i64(*f.test)});
      if (f.retracted) set("retracted = ?", {i64(*f.retracted)});
      if (f.invalid && *f.invalid) {
        set("invalid_at = ?, invalid_reason = ?",
            {ToMillis((*f.invalid)->at), (*f.invalid)->reason});
      } else if (f.invalid) {
        set("invalid_at = NULL, invalid_reason = ''", {});
      }
      if (f.expires_at && *f.expires_at) {
        set("expires_at = ?", {ToMillis(**f.expires_at)});
      } else if (f.expires_at) {
        set("expires_at = NULL", {});
      }
      if (f.active) {
        set("active = ?, inactive_since = iif(?, NULL, coalesce(inactive_since, ?))",
            {i64(*f.active), i64(*f.active), ToMillis(u->now)});
      }
      // Nothing to change still reports how many rows match.
      std::string sql = "UPDATE indicators SET " + (sets.empty() ? std::string("id = id") : sets);
      sql += " WHERE source_id = ? AND value = ?";
      params.emplace_back(**id);
      params.emplace_back(u->value);
      if (u->type) {
        sql += " AND type = ?";
        params.emplace_back(static_cast<int64_t>(*u->type));
      }
      auto stmt = db.Prepare(sql);
      if (!stmt.ok()) return stmt.status();
      BindAll(**stmt, params);
      if (Status st = (*stmt)->Run(); !st.ok()) return st;
      r.affected = sqlite3_changes(db.raw());
      if (r.affected > 0) changed[{**id, ChangeKind::kUpdated}] += r.affected;
    } else if (const auto* d = std::get_if<DeleteIndicators>(&op)) {
      auto id = source_id(d->source, false);
      if (!id.ok()) return id.status();
      if (!*id) continue;
      auto stmt = db.Cached("DELETE FROM indicators WHERE source_id = ?1 AND value = ?2");
      if (!stmt.ok()) return stmt.status();
      for (const auto& v : d->values) {
        StatementLease s(**stmt);
        s->Bind(1, **id);
        s->Bind(2, std::string_view(v));
        if (Status st = s->Run(); !st.ok()) return st;
        r.affected += sqlite3_changes(db.raw());
      }
      if (r.affected > 0) changed[{**id, ChangeKind::kDeleted}] += r.affected;
    } else if (const auto* e = std::get_if<ExpireIndicators>(&op)) {
      const std::string where = "active = 1 AND expires_at IS NOT NULL AND expires_at <= ?1";
      auto n = count_by_source(where, ToMillis(e->now), ChangeKind::kExpired);
      if (!n.ok()) return n.status();
      if (*n == 0) continue;
      auto stmt = db.Cached("UPDATE indicators SET active = 0, inactive_since = ?1 WHERE " +
                            std::string("active = 1 AND expires_at IS NOT NULL AND expires_at "
                                        "<= ?1"));
      if (!stmt.ok()) return stmt.status();
      StatementLease s(**stmt);
      s->Bind(1, ToMillis(e->now));
      if (Status st = s->Run(); !st.ok()) return st;
      r.affected = sqlite3_changes(db.raw());
    } else if (const auto* p = std::get_if<PurgeInactive>(&op)) {
      const std::string where = "active = 0 AND inactive_since < ?1";
      auto n = count_by_source(where, ToMillis(p->inactive_before), ChangeKind::kPurged);
      if (!n.ok()) return n.status();
      if (*n == 0) continue;
      auto stmt = db.Cached("DELETE FROM indicators WHERE " + where);
      if (!stmt.ok()) return stmt.status();
      StatementLease s(**stmt);
      s->Bind(1, ToMillis(p->inactive_before));
      if (Status st = s->Run(); !st.ok()) return st;
      r.affected = sqlite3_changes(db.raw());
    } else if (const auto* lr = std::get_if<LedgerReplace>(&op)) {
      auto id = ledger_target_id(lr->target, &lr->ledger.owner, lr->ledger.pushed_at);
      if (!id.ok()) return id.status();
      if (Status st = clear_entries(**id); !st.ok()) return st;
      if (Status st = entries_op(**id, lr->ledger.entries, true, r); !st.ok()) return st;
    } else if (const auto* la = std::get_if<LedgerAdd>(&op)) {
      auto id = ledger_target_id(la->target, &la->owner, la->pushed_at);
      if (!id.ok()) return id.status();
      if (Status st = entries_op(**id, la->entries, true, r); !st.ok()) return st;
    } else if (const auto* rm = std::get_if<LedgerRemove>(&op)) {
      auto id = ledger_target_id(rm->target, nullptr, {});
      if (!id.ok()) return id.status();
      if (!*id) continue;
      if (Status st = entries_op(**id, rm->entries, false, r); !st.ok()) return st;
      if (Status st = touch_pushed_at(**id, rm->pushed_at); !st.ok()) return st;
    } else if (const auto* ld = std::get_if<LedgerDelete>(&op)) {
      auto id = ledger_target_id(ld->target, nullptr, {});
      if (!id.ok()) return id.status();
      if (!*id) continue;
      if (!ld->owner.empty()) {
        auto held = db.Cached("SELECT owner = ?2 FROM ledger_targets WHERE id = ?1");
        if (!held.ok()) return held.status();
        StatementLease s(**held);
        s->Bind(1, **id);
        s->Bind(2, std::string_view(ld->owner));
        if (int rc = s->Step(); rc != SQLITE_ROW) return s->Error(rc);
        if (s->Int(0) == 0) continue;  // another owner's now
      }
      if (Status st = clear_entries(**id); !st.ok()) return st;
      auto stmt = db.Cached("DELETE FROM ledger_targets WHERE id = ?1");
      if (!stmt.ok()) return stmt.status();
      StatementLease s(**stmt);
      s->Bind(1, **id);
      if (Status st = s->Run(); !st.ok()) return st;
      r.affected = 1;
    } else if (const auto* c = std::get_if<PutCheckpoint>(&op)) {
      auto stmt = db.Cached(
          "INSERT INTO checkpoints (key, value) VALUES (?1, ?2) "
          "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
      if (!stmt.ok()) return stmt.status();
      StatementLease s(**stmt);
      s->Bind(1, std::string_view(c->key));
      s->Bind(2, std::string_view(c->value));
      if (Status st = s->Run(); !st.ok()) return st;
      r.affected = 1;
    }
  }

  // One event per (source, kind).
  for (const auto& [key, rows] : changed) {
    SourceRef ref;
    {
      std::lock_guard<std::mutex> lock(sources_mu_);
      if (auto it = source_refs_.find(key.first); it != source_refs_.end()) ref = it->second;
    }
    for (const GroupState* g : {&group, static_cast<const GroupState*>(&created)}) {
      if (auto it = g->new_refs.find(key.first); ref.name.empty() && it != g->new_refs.end()) {
        ref = it->second;
      }
    }
    events.push_back({std::move(ref), key.second, rows});
  }
  return result;
}

void SqliteIndicatorStore::Dispatch(const std::vector<ChangeEvent>& events) {
  if (events.empty()) return;
  std::lock_guard<std::mutex> lock(listeners_mu_);
  for (const auto& e : events) {
    for (const auto& [id, listener] : listeners_) listener(e);
  }
}

std::unique_ptr<Subscription> SqliteIndicatorStore::Subscribe(ChangeListener listener) {
  std::lock_guard<std::mutex> lock(listeners_mu_);
  uint64_t id = next_listener_++;
  listeners_[id] = std::move(listener);
  return std::make_unique<SubscriptionImpl>(*this, id);
}

// ---------------------------------------------------------------------------------------------
// Reads.

StatusOr<std::unique_ptr<SqliteIndicatorStore::ReaderLease>> SqliteIndicatorStore::AcquireReader() {
  std::unique_lock<std::mutex> lock(readers_mu_);
  for (;;) {
    if (!idle_readers_.empty()) {
      auto conn = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return std::make_unique<ReaderLease>(*this, std::move(conn));
    }
    if (open_readers_ < options_.max_readers) break;
    // Every reader is out (long cursors); wait for one rather than open unboundedly many.
    if (!readers_cv_.wait_for(lock, std::chrono::seconds(30),
                              [this] { return !idle_readers_.empty(); })) {
      return Busy("no read connection became free within 30s");
    }
  }
  ++open_readers_;
  lock.unlock();
  auto conn = Connection::Open(options_.path, false, /*readonly=*/true);
  Status s = conn.ok() ? (*conn)->Exec("PRAGMA busy_timeout = 10000; PRAGMA cache_size = -" +
                                       std::to_string(options_.reader_cache_kib) + ";")
                       : conn.status();
  if (!s.ok()) {
    std::lock_guard<std::mutex> relock(readers_mu_);
    --open_readers_;
    return s;
  }
  return std::make_unique<ReaderLease>(*this, std::move(conn).value());
}

void SqliteIndicatorStore::ReleaseReader(std::unique_ptr<Connection> conn) {
  {
    std::lock_guard<std::mutex> lock(readers_mu_);
    idle_readers_.push_back(std::move(conn));
  }
  readers_cv_.notify_one();
}

StatusOr<std::optional<int64_t>> SqliteIndicatorStore::LookupSource(Connection& conn,
                                                                    const SourceRef& source) {
  auto stmt = conn.Cached("SELECT id FROM sources WHERE namespace = ?1 AND name = ?2");
  if (!stmt.ok()) return stmt.status();
  StatementLease s(**stmt);
  s->Bind(1, std::string_view(source.namespace_name));
  s->Bind(2, std::string_view(source.name));
  int rc = s->Step();
  if (rc == SQLITE_ROW) return {s->Int(0)};
  if (rc != SQLITE_DONE) return s->Error(rc);
  return std::optional<int64_t>();
}

StatusOr<std::optional<int64_t>> SqliteIndicatorStore::FindSourceId(Connection& conn,
                                                                    const SourceRef& source) {
  // The writer publishes every source id it commits before Commit() returns. A source another
  // process on the same file created (a second replica) is read from the file and remembered;
  // a source's id never changes once created.
  {
    std::lock_guard<std::mutex> lock(sources_mu_);
    auto it = source_ids_.find(source.Key());
    if (it != source_ids_.end()) return {it->second};
  }
  auto id = LookupSource(conn, source);
  if (!id.ok() || !*id) return id;
  std::lock_guard<std::mutex> lock(sources_mu_);
  source_ids_[source.Key()] = **id;
  source_refs_[**id] = source;
  return id;
}

StatusOr<std::optional<Indicator>> SqliteIndicatorStore::Get(const SourceRef& source,
                                                             const std::string& value,
                                                             IndicatorType type) {
  auto lease = AcquireReader();
  if (!lease.ok()) return lease.status();
  Connection& db = (*lease)->conn();
  auto id = FindSourceId(db, source);
  if (!id.ok()) return id.status();
  if (!*id) return std::optional<Indicator>();
  auto stmt = db.Cached(std::string("SELECT ") + kColumns +
                        " FROM indicators i WHERE i.source_id = ?1 AND i.value = ?2 AND "
                        "i.type = ?3");
  if (!stmt.ok()) return stmt.status();
  StatementLease s(**stmt);
  s->Bind(1, **id);
  s->Bind(2, std::string_view(value));
  s->Bind(3, static_cast<int64_t>(type));
  int rc = s->Step();
  if (rc == SQLITE_DONE) return std::optional<Indicator>();
  if (rc != SQLITE_ROW) return s->Error(rc);
  Indicator out;
  ReadRow(*s, out);
  out.source = source;
  return {std::move(out)};
}

namespace {

// The WHERE clause of an IndicatorQuery over `i` (indicators) joined with `s` (sources).
// False when no row can match (unknown namespace or plugins).
bool BuildWhere(const IndicatorQuery& q, const std::vector<int64_t>& source_ids, std::string& sql,
                std::vector<Param>& params) {
  if (source_ids.empty() || q.match_nothing) return false;
  sql += " WHERE i.source_id IN (" + Placeholders(source_ids.size()) + ")";
  for (int64_t id : source_ids) params.emplace_back(id);
  if (!q.values.empty()) {
    sql += " AND i.value IN (" + Placeholders(q.values.size()) + ")";
    for (const auto& v : q.values) params.emplace_back(v);
  }
  auto in_list = [&](const char* col, const auto& items, bool negate) {
    if (items.empty()) return;
    sql += std::string(" AND ") + col + (negate ? " NOT IN (" : " IN (") +
           Placeholders(items.size()) + ")";
    for (auto t : items) params.emplace_back(static_cast<int64_t>(t));
  };
  in_list("i.type", q.types, false);
  in_list("i.type", q.not_types, true);
  in_list("i.severity", q.severities, false);
  if (q.reputation_min) {
    sql += " AND i.reputation >= ?";
    params.emplace_back(static_cast<int64_t>(*q.reputation_min));
  }
  if (q.reputation_max) {
    sql += " AND i.reputation <= ?";
    params.emplace_back(static_cast<int64_t>(*q.reputation_max));
  }
  auto flag = [&](const char* col, const std::optional<bool>& v) {
    if (!v) return;
    sql += std::string(" AND ") + col + " = ?";
    params.emplace_back(static_cast<int64_t>(*v));
  };
  flag("i.active", q.active);
  flag("i.test", q.test);
  flag("i.retracted", q.retracted);
  // Stored tags are '\n'-joined: wrap both sides in separators and look for the whole tag.
  auto tag_terms = [&](const std::vector<std::string>& tags, const char* join) {
    std::string out;
    for (const auto& t : tags) {
      if (!out.empty()) out += join;
      out += "instr(char(10) || i.tags || char(10), ?) > 0";
      params.emplace_back("\n" + t + "\n");
    }
    return out;
  };
  for (const auto& group : q.tags_any) sql += " AND (" + tag_terms(group, " OR ") + ")";
  if (!q.tags_none.empty()) sql += " AND NOT (" + tag_terms(q.tags_none, " OR ") + ")";
  return true;
}

}  // namespace

std::map<int64_t, SourceRef> SqliteIndicatorStore::SourcesOf(const IndicatorQuery& q) const {
  std::map<int64_t, SourceRef> out;
  std::lock_guard<std::mutex> lock(sources_mu_);
  for (const auto& [id, ref] : source_refs_) {
    if (ref.namespace_name == q.namespace_name &&
        (q.sources.empty() ||
         std::find(q.sources.begin(), q.sources.end(), ref.name) != q.sources.end())) {
      out[id] = ref;
    }
  }
  return out;
}

StatusOr<std::vector<Indicator>> SqliteIndicatorStore::Query(const IndicatorQuery& q) {
  std::map<int64_t, SourceRef> refs = SourcesOf(q);
  std::vector<int64_t> ids;
  for (const auto& [id, ref] : refs) ids.push_back(id);
  std::string sql =
      std::string("SELECT ") + kColumns + " FROM indicators i JOIN sources s ON s.id = i.source_id";
  std::vector<Param> params;
  if (!BuildWhere(q, ids, sql, params)) return std::vector<Indicator>();
  const char* dir = q.ascending ? " ASC" : " DESC";
  sql += std::string(" ORDER BY ") + SortColumn(q.sort) + dir;
  if (q.sort != SortField::kInsertion) sql += std::string(", i.id") + dir;
  if (q.limit > 0) {
    sql += " LIMIT ? OFFSET ?";
    params.emplace_back(q.limit);
    params.emplace_back(std::max<int64_t>(0, q.skip));
  } else if (q.skip > 0) {
    sql += " LIMIT -1 OFFSET ?";
    params.emplace_back(q.skip);
  }
  auto lease = AcquireReader();
  if (!lease.ok()) return lease.status();
  auto stmt = (*lease)->conn().Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  BindAll(**stmt, params);
  std::vector<Indicator> out;
  int rc;
  while ((rc = (*stmt)->Step()) == SQLITE_ROW) {
    Indicator& ind = out.emplace_back();
    ReadRow(**stmt, ind);
    ind.source = refs[(*stmt)->Int(kSourceIdColumn)];
  }
  if (rc != SQLITE_DONE) return (*stmt)->Error(rc);
  return out;
}

StatusOr<int64_t> SqliteIndicatorStore::Count(const IndicatorQuery& q) {
  std::vector<int64_t> ids;
  for (const auto& [id, ref] : SourcesOf(q)) ids.push_back(id);
  std::string sql = "SELECT count(*) FROM indicators i";
  std::vector<Param> params;
  if (!BuildWhere(q, ids, sql, params)) return int64_t{0};
  auto lease = AcquireReader();
  if (!lease.ok()) return lease.status();
  auto stmt = (*lease)->conn().Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  BindAll(**stmt, params);
  int rc = (*stmt)->Step();
  if (rc != SQLITE_ROW) return (*stmt)->Error(rc);
  return (*stmt)->Int(0);
}

StatusOr<std::vector<TallyRow>> SqliteIndicatorStore::Tally() {
  static constexpr const char* kSql = R"sql(
SELECT s.namespace, s.name, t.type, t.state, t.n FROM (
  SELECT source_id, type,
         CASE WHEN retracted != 0 THEN 2 WHEN invalid_at IS NOT NULL THEN 3
              WHEN active = 0 THEN 1 ELSE 0 END AS state,
         count(*) AS n
  FROM indicators GROUP BY source_id, type, state) t
JOIN sources s ON s.id = t.source_id ORDER BY s.namespace, s.name, t.type, t.state)sql";
  auto lease = AcquireReader();
  if (!lease.ok()) return lease.status();
  auto stmt = (*lease)->conn().Prepare(kSql);
  if (!stmt.ok()) return stmt.status();
  std::vector<TallyRow> rows;
  int rc;
  while ((rc = (*stmt)->Step()) == SQLITE_ROW) {
    int64_t type = (*stmt)->Int(2), state = (*stmt)->Int(3);
    if (type < 0 || type >= static_cast<int64_t>(kIndicatorTypeNames.size())) continue;
    TallyRow row;
    row.source = SourceRef{std::string((*stmt)->Text(0)), std::string((*stmt)->Text(1))};
    row.type = static_cast<IndicatorType>(type);
    row.state = static_cast<IndicatorState>(state);
    row.count = (*stmt)->Int(4);
    rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) return (*stmt)->Error(rc);
  return rows;
}

namespace {

// The planner's query: one source through indicators_by_last_seen, newest first, so SQLite
// streams rows in index order and stops as soon as the cursor does.
std::string SelectSql(const Selection& sel, std::vector<Param>& params, int64_t source_id) {
  std::string sql = std::string("SELECT ") + kColumns +
                    " FROM indicators i INDEXED BY indicators_by_last_seen WHERE i.source_id = ?";
  params.emplace_back(source_id);
  if (!sel.types.empty()) {
    sql += " AND i.type IN (" + Placeholders(sel.types.size()) + ")";
    for (auto t : sel.types) params.emplace_back(static_cast<int64_t>(t));
  }
  if (sel.shareable_only) {
    sql += " AND i.active = 1 AND i.test = 0 AND i.retracted = 0 AND i.invalid_at IS NULL";
  }
  sql += " ORDER BY i.last_seen DESC, i.id DESC";
  return sql;
}

// A cursor over nothing (the source has never been written).
class EmptyCursor : public IndicatorCursor {
 public:
  StatusOr<bool> Next(Indicator&) override { return false; }
};

}  // namespace

StatusOr<std::unique_ptr<IndicatorCursor>> SqliteIndicatorStore::Select(const Selection& sel) {
  auto lease = AcquireReader();
  if (!lease.ok()) return lease.status();
  auto id = FindSourceId((*lease)->conn(), sel.source);
  if (!id.ok()) return id.status();
  if (!*id) return std::unique_ptr<IndicatorCursor>(std::make_unique<EmptyCursor>());
  std::vector<Param> params;
  std::string sql = SelectSql(sel, params, **id);
  auto stmt = (*lease)->conn().Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  BindAll(**stmt, params);
  return std::unique_ptr<IndicatorCursor>(
      std::make_unique<Cursor>(std::move(lease).value(), std::move(stmt).value(), sel.source));
}

StatusOr<std::string> SqliteIndicatorStore::ExplainSelect(const Selection& sel) {
  auto lease = AcquireReader();
  if (!lease.ok()) return lease.status();
  std::vector<Param> params;
  std::string sql = "EXPLAIN QUERY PLAN " + SelectSql(sel, params, 0);
  auto stmt = (*lease)->conn().Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  BindAll(**stmt, params);
  std::string plan;
  int rc;
  while ((rc = (*stmt)->Step()) == SQLITE_ROW) {
    plan += std::string((*stmt)->Text(3)) + "\n";
  }
  if (rc != SQLITE_DONE) return (*stmt)->Error(rc);
  return plan;
}

StatusOr<std::vector<LedgerTarget>> SqliteIndicatorStore::LedgerTargetsOf(
    const std::string& owner) {
  auto lease = AcquireReader();
  if (!lease.ok()) return lease.status();
  auto stmt = (*lease)->conn().Cached(
      "SELECT tenant, kind, list_name FROM ledger_targets WHERE owner = ?1 ORDER BY id");
  if (!stmt.ok()) return stmt.status();
  StatementLease s(**stmt);
  s->Bind(1, owner);
  std::vector<LedgerTarget> out;
  int rc;
  while ((rc = s->Step()) == SQLITE_ROW) {
    out.push_back({std::string(s->Text(0)),
                   s->Int(1) == static_cast<int64_t>(ListKind::kFileHashList)
                       ? ListKind::kFileHashList
                       : ListKind::kUrlList,
                   std::string(s->Text(2))});
  }
  if (rc != SQLITE_DONE) return s->Error(rc);
  return out;
}

StatusOr<std::optional<Ledger>> SqliteIndicatorStore::GetLedger(const LedgerTarget& target) {
  auto lease = AcquireReader();
  if (!lease.ok()) return lease.status();
  Connection& db = (*lease)->conn();
  // One read transaction, so the target row and its entries are from the same commit.
  if (Status s = db.Exec("BEGIN"); !s.ok()) return s;
  struct EndRead {
    Connection& db;
    ~EndRead() { (void)db.Exec("COMMIT"); }
  } end{db};
  auto stmt = db.Cached(
      "SELECT id, owner, pushed_at FROM ledger_targets WHERE tenant = ?1 AND kind = ?2 AND "
      "list_name = ?3");
  if (!stmt.ok()) return stmt.status();
  Ledger ledger;
  int64_t id;
  {
    StatementLease s(**stmt);
    BindTarget(*s, target);
    int rc = s->Step();
    if (rc == SQLITE_DONE) return std::optional<Ledger>();
    if (rc != SQLITE_ROW) return s->Error(rc);
    id = s->Int(0);
    ledger.owner = std::string(s->Text(1));
    ledger.pushed_at = FromMillis(s->Int(2));
  }
  auto entries = db.Cached("SELECT entry FROM ledger_entries WHERE target_id = ?1 ORDER BY entry");
  if (!entries.ok()) return entries.status();
  StatementLease e(**entries);
  e->Bind(1, id);
  int rc;
  while ((rc = e->Step()) == SQLITE_ROW) ledger.entries.emplace_back(e->Text(0));
  if (rc != SQLITE_DONE) return e->Error(rc);
  return {std::move(ledger)};
}

StatusOr<std::optional<std::string>> SqliteIndicatorStore::GetCheckpoint(const std::string& key) {
  auto lease = AcquireReader();
  if (!lease.ok()) return lease.status();
  auto stmt = (*lease)->conn().Cached("SELECT value FROM checkpoints WHERE key = ?1");
  if (!stmt.ok()) return stmt.status();
  StatementLease s(**stmt);
  s->Bind(1, std::string_view(key));
  int rc = s->Step();
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) return s->Error(rc);
  return {std::string(s->Text(0))};
}

// ---------------------------------------------------------------------------------------------
// Backup.

Status BackupSqliteStore(const std::string& source_path, const std::string& destination_path) {
  struct stat st;
  if (::stat(source_path.c_str(), &st) != 0) {
    return NotFoundError("store backup: " + source_path + " does not exist");
  }
  if (::stat(destination_path.c_str(), &st) == 0) {
    return AlreadyExistsError("store backup: " + destination_path +
                              " exists; choose a new file (a backup never overwrites)");
  }
  auto src = Connection::Open(source_path, false, /*readonly=*/true);
  if (!src.ok()) return src.status();
  if (Status s = (*src)->Exec("PRAGMA busy_timeout = 10000"); !s.ok()) return s;
  auto app_id = (*src)->QueryInt("PRAGMA application_id");
  if (!app_id.ok()) return app_id.status();
  if (*app_id != sqlite::kApplicationId) {
    return Status(StatusCode::kFailedPrecondition,
                  "store backup: " + source_path + " is not a cte-operator store");
  }
  const std::string tmp = destination_path + ".partial";
  ::unlink(tmp.c_str());
  Status result = Status::Ok();
  {
    auto dst = Connection::Open(tmp, /*create=*/true);
    if (!dst.ok()) return dst.status();
    sqlite3_backup* b = sqlite3_backup_init((*dst)->raw(), "main", (*src)->raw(), "main");
    if (!b) return (*dst)->Error(sqlite3_errcode((*dst)->raw()), "backup init");
    // One step copies every page inside one read transaction: in WAL mode that is a snapshot
    // the operator keeps writing beside (readers never block the writer), and a single step
    // cannot be restarted by those writes the way a stepwise copy would be.
    int rc;
    while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED) {
      sqlite3_sleep(20);
    }
    int finish = sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
      result = sqlite::StatusFromSqlite(rc, std::string("store backup: ") + sqlite3_errstr(rc));
    } else if (finish != SQLITE_OK) {
      result = (*dst)->Error(finish, "backup finish");
    } else {
      result = (*dst)->Exec("PRAGMA synchronous = FULL; PRAGMA wal_checkpoint(TRUNCATE);");
    }
  }
  if (result.ok() && ::rename(tmp.c_str(), destination_path.c_str()) != 0) {
    result = UnavailableError("store backup: cannot rename " + tmp + " to " + destination_path);
  }
  if (!result.ok()) {
    ::unlink(tmp.c_str());
    ::unlink((tmp + "-wal").c_str());
    ::unlink((tmp + "-shm").c_str());
  }
  return result;
}

}  // namespace cte::store
