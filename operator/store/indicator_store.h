// The IndicatorStore interface: where indicators, the sharing ledger and poller progress live.
// SQLite implements it today (sqlite_store.h); a PostgreSQL backend with several writing replicas
// can implement it later, so nothing here names a SQLite type.
//
// Writes are values: a WriteBatch is one transaction. Commit() applies every operation in it or
// none, and returns only once the transaction is durable (on disk, or acknowledged by the
// database), so a caller that answers a client after Commit() never acknowledges what a crash
// could lose. Implementations may group the batches of concurrent callers into one database
// transaction (group commit) as long as each batch stays all-or-nothing on its own.
//
// Reads see committed data only. Select() streams rows for the sharing planner without holding
// them all in memory. Change notifications tell subscribers which source plugins changed, after
// the change is durable.
//
// Thread-safety: every method may be called from any thread concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "operator/core/clock.h"
#include "operator/core/status.h"
#include "operator/store/indicator.h"

namespace cte::store {

// ---------------------------------------------------------------------------------------------
// Write operations. Each is a plain value; a WriteBatch holds several.

// Inserts indicators, or merges each into the row with the same (source, value, type):
//   firstSeen = min, lastSeen = max, expiresAt = max (absent = never, which wins), tags united;
//   severity, reputation, comments, extendedInformation and test from the newest sighting (the
//   one with the later lastSeen; ties go to the new one); a newest sighting also clears
//   `retracted` and sets `active` as it says, an older one can only switch `active` on. A row is
//   active only while its merged expiresAt is in the future (`now`), so a re-sighting revives an
//   aged-out row when it extends the expiry. `invalid_at` survives re-sightings.
// Callers fill every field (ApplySourcePolicy does the defaults); `inactive_since` is ignored.
struct UpsertIndicators {
  std::vector<Indicator> indicators;
  WallTime now{};
};

// Changes fields of existing rows of one source with this value (and type, when given). Fields
// left empty are kept. Used by the ingest API's PATCH, by retraction and by the pusher to mark a
// value a tenant refused.
struct IndicatorUpdate {
  std::optional<Severity> severity;
  std::optional<int> reputation;
  std::optional<std::vector<std::string>> tags;  // replaces the tags
  std::optional<std::string> comments;
  std::optional<std::string> extended_information;
  std::optional<WallTime> first_seen;
  std::optional<WallTime> last_seen;
  std::optional<std::optional<WallTime>> expires_at;  // {nullopt}: never expires
  std::optional<bool> active;
  std::optional<bool> test;
  std::optional<bool> retracted;
  // {{time, reason}} marks the value refused by a tenant; {nullopt} clears the mark.
  struct Invalid {
    WallTime at;
    std::string reason;
  };
  std::optional<std::optional<Invalid>> invalid;
};
struct UpdateIndicators {
  SourceRef source;
  std::string value;
  std::optional<IndicatorType> type;  // nullopt: every type with this value
  IndicatorUpdate update;
  WallTime now{};  // for inactive_since when `active` turns false
};

// Deletes the rows of one source whose value is in `values` (every type).
struct DeleteIndicators {
  SourceRef source;
  std::vector<std::string> values;
};

// The aging sweep: marks active rows whose expiresAt <= now inactive (inactive_since = now).
struct ExpireIndicators {
  WallTime now{};
};

// Deletes rows that have been inactive since before `inactive_before`.
struct PurgeInactive {
  WallTime inactive_before{};
};

// A target list on a tenant: the unit the sharing planner converges (ARCHITECTURE §1 step 3).
enum class ListKind : uint8_t { kUrlList, kFileHashList };
struct LedgerTarget {
  std::string tenant;  // NetskopeTenant "namespace/name"
  ListKind kind = ListKind::kUrlList;
  std::string list_name;
  friend bool operator==(const LedgerTarget&, const LedgerTarget&) = default;
};

// What one SharingConfiguration (`owner`, "namespace/name") has pushed to a target list. For URL
// lists these are the entries it added (ownership: Shared removes only these; retraction takes
// them back). For file-hash lists, which the tenant cannot read back, it is the whole content
// last pushed. Record it only after the tenant accepted the push.
struct Ledger {
  std::string owner;
  WallTime pushed_at{};
  std::vector<std::string> entries;  // sorted, unique
};

// Replaces the ledger of a target (creating it).
struct LedgerReplace {
  LedgerTarget target;
  Ledger ledger;
};
// Adds or removes entries (an append or a partial retraction); creates the ledger when missing.
struct LedgerAdd {
  LedgerTarget target;
  std::string owner;
  WallTime pushed_at{};
  std::vector<std::string> entries;
};
struct LedgerRemove {
  LedgerTarget target;
  WallTime pushed_at{};
  std::vector<std::string> entries;
};
// Forgets a target (after a Retract deletion finished, or an Orphan deletion).
struct LedgerDelete {
  LedgerTarget target;
  // When set, only while this owner holds the target (checked in the same transaction), so a
  // ledger another configuration has taken over is never forgotten by mistake.
  std::string owner;
};

// Small named progress records (the alert pollers' iterator state), written in the same
// transaction as the indicators they account for, so a restart resumes exactly there.
struct PutCheckpoint {
  std::string key;
  std::string value;
};

using WriteOp = std::variant<UpsertIndicators, UpdateIndicators, DeleteIndicators, ExpireIndicators,
                             PurgeInactive, LedgerReplace, LedgerAdd, LedgerRemove, LedgerDelete,
                             PutCheckpoint>;

// One transaction.
struct WriteBatch {
  std::vector<WriteOp> ops;

  template <typename Op>
  WriteBatch& Add(Op op) {
    ops.emplace_back(std::move(op));
    return *this;
  }
};

// What each operation did, index for index with WriteBatch::ops.
struct OpResult {
  int64_t inserted = 0;  // UpsertIndicators: new rows
  int64_t updated = 0;   // UpsertIndicators: merged rows
  int64_t affected = 0;  // rows changed/deleted/expired/purged, entries added/removed
};
struct BatchResult {
  std::vector<OpResult> ops;
};

// ---------------------------------------------------------------------------------------------
// Reads.

// The ingest API's GET: rows of the plugins of one namespace, filtered, sorted and paged.
enum class SortField : uint8_t {
  kInsertion,  // the order rows were first stored
  kValue,
  kType,
  kSource,
  kComments,
  kTest,
  kActive,
  kReputation,
  kFirstSeen,
  kSeverity,
  kLastSeen,
  kExpiresAt,
};
struct IndicatorQuery {
  std::string namespace_name;        // required: reads never cross namespaces
  std::vector<std::string> sources;  // plugin names; empty: every plugin of the namespace
  std::vector<std::string> values;   // exact values (any of); empty: any
  std::vector<IndicatorType> types;  // any of; empty: any
  std::vector<IndicatorType> not_types;
  std::vector<Severity> severities;   // any of; empty: any
  std::optional<int> reputation_min;  // inclusive
  std::optional<int> reputation_max;  // inclusive
  std::optional<bool> active;
  std::optional<bool> test;
  std::optional<bool> retracted;
  // Each group: has at least one of its tags; every group must hold.
  std::vector<std::vector<std::string>> tags_any;
  std::vector<std::string> tags_none;  // has none of
  bool match_nothing = false;          // the filters contradict each other
  SortField sort = SortField::kInsertion;
  bool ascending = true;
  int64_t skip = 0;
  int64_t limit = 10;  // <= 0: no limit (Count ignores skip and limit)
};

// The planner's selection: one source's rows, newest lastSeen first.
struct Selection {
  SourceRef source;
  std::vector<IndicatorType> types;  // any of; empty: every type
  bool shareable_only = true;        // active, not test, not retracted, not refused
};

// How many rows one source holds of one type in one state, for cte_indicators. States are
// exclusive, checked in this order: retracted, invalid (refused by a tenant), inactive (aged
// out), active.
enum class IndicatorState : uint8_t { kActive, kInactive, kRetracted, kInvalid };
inline constexpr std::array<std::string_view, 4> kIndicatorStateNames = {"active", "inactive",
                                                                         "retracted", "invalid"};
struct TallyRow {
  SourceRef source;
  IndicatorType type = IndicatorType::kUrl;
  IndicatorState state = IndicatorState::kActive;
  int64_t count = 0;
};

// Streams the rows of a Selection. Holds a consistent snapshot (and a database connection) until
// destroyed, so keep it short-lived. Not thread-safe.
class IndicatorCursor {
 public:
  virtual ~IndicatorCursor() = default;
  // Fills `out` (reusing its buffers) with the next row; false at the end.
  virtual StatusOr<bool> Next(Indicator& out) = 0;
};

// ---------------------------------------------------------------------------------------------
// Change notifications.

enum class ChangeKind : uint8_t { kUpserted, kUpdated, kDeleted, kExpired, kPurged };
struct ChangeEvent {
  SourceRef source;
  ChangeKind kind = ChangeKind::kUpserted;
  int64_t rows = 0;  // rows inserted, merged, changed or removed for this source
};

// Called once per (changed source, kind of change) per committed batch, after the commit is
// durable and before the committing callers' Commit() returns, on the store's committing thread,
// in commit order. A listener must return quickly (sharing debounces
// and schedules its own work) and must not call Commit(): that would wait on the very thread
// that is calling it. Reads are allowed.
using ChangeListener = std::function<void(const ChangeEvent&)>;

// Unsubscribes when destroyed; after the destructor returns the listener is never called again.
class Subscription {
 public:
  virtual ~Subscription() = default;
};

// ---------------------------------------------------------------------------------------------

class IndicatorStore {
 public:
  virtual ~IndicatorStore() = default;

  // Applies the batch as one transaction and returns once it is durable. A batch with an invalid
  // operation fails as a whole with InvalidArgument and changes nothing; Unavailable means the
  // database could not commit (nothing of the batch is stored).
  virtual StatusOr<BatchResult> Commit(WriteBatch batch) = 0;

  // One row, or nullopt.
  virtual StatusOr<std::optional<Indicator>> Get(const SourceRef& source, const std::string& value,
                                                 IndicatorType type) = 0;
  virtual StatusOr<std::vector<Indicator>> Query(const IndicatorQuery& query) = 0;
  virtual StatusOr<int64_t> Count(const IndicatorQuery& query) = 0;
  virtual StatusOr<std::unique_ptr<IndicatorCursor>> Select(const Selection& selection) = 0;
  // Every (source, type, state) with at least one row. One pass over the table: callers cache it.
  virtual StatusOr<std::vector<TallyRow>> Tally() = 0;

  virtual StatusOr<std::optional<Ledger>> GetLedger(const LedgerTarget& target) = 0;
  // The targets whose ledger `owner` holds (a configuration whose target changed holds its old
  // one until it is retracted or forgotten).
  virtual StatusOr<std::vector<LedgerTarget>> LedgerTargetsOf(const std::string& owner) = 0;
  virtual StatusOr<std::optional<std::string>> GetCheckpoint(const std::string& key) = 0;

  virtual std::unique_ptr<Subscription> Subscribe(ChangeListener listener) = 0;
};

}  // namespace cte::store
