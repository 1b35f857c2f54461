// The SQLite IndicatorStore: merge rules, all-or-nothing batches, group commit, notifications,
// the streaming selection, the GET query, the ledger, checkpoints, migrations and backup.
#include "operator/store/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "operator/store/sqlite_db.h"
#include "operator/store/sqlite_schema.h"
#include "tests/unit/store/store_test_support.h"

namespace cte::store {
namespace {

using testing::At;
using testing::Ind;
using testing::TempDir;

const SourceRef kFeed{"team-a", "feed"};
const SourceRef kOther{"team-a", "other"};
const SourceRef kFeedB{"team-b", "feed"};

// Every row of a namespace (no paging); tests then narrow it.
IndicatorQuery All(const std::string& ns) {
  IndicatorQuery q;
  q.namespace_name = ns;
  q.limit = 0;
  return q;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen(int schema_version = 0) {
    store_.reset();
    SqliteStoreOptions options;
    options.path = dir_.File("indicators.db");
    options.schema_version = schema_version;
    auto opened = SqliteIndicatorStore::Open(options);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    store_ = std::move(opened).value();
  }

  BatchResult MustCommit(WriteBatch batch) {
    auto r = store_->Commit(std::move(batch));
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : BatchResult{};
  }

  BatchResult Upsert(std::vector<Indicator> inds, int64_t now = 1000) {
    return MustCommit(WriteBatch().Add(UpsertIndicators{std::move(inds), At(now)}));
  }

  Indicator MustGet(const std::string& value, IndicatorType type = IndicatorType::kUrl,
                    const SourceRef& source = kFeed) {
    auto got = store_->Get(source, value, type);
    EXPECT_TRUE(got.ok() && got->has_value()) << value;
    return got.ok() && got->has_value() ? **got : Indicator{};
  }

  std::vector<std::string> SelectValues(const Selection& sel) {
    auto cursor = store_->Select(sel);
    EXPECT_TRUE(cursor.ok()) << cursor.status().message();
    std::vector<std::string> out;
    Indicator row;
    for (;;) {
      auto more = (*cursor)->Next(row);
      EXPECT_TRUE(more.ok());
      if (!more.ok() || !*more) break;
      out.push_back(row.value);
    }
    return out;
  }

  // Commits `first` alone and holds the writer in its notification while `others` queue, one at
  // a time and in this order; then lets them go, so they form one group. Returns their results.
  std::vector<StatusOr<BatchResult>> CommitAsOneGroup(WriteBatch first,
                                                      std::vector<WriteBatch> others) {
    std::mutex mu;
    std::condition_variable cv;
    bool held = false, release = false;
    auto sub = store_->Subscribe([&](const ChangeEvent&) {
      std::unique_lock<std::mutex> lock(mu);
      if (held) return;
      held = true;
      cv.notify_all();
      cv.wait(lock, [&] { return release; });
    });
    std::thread first_thread([&] { MustCommit(std::move(first)); });
    {
      std::unique_lock<std::mutex> lock(mu);
      EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return held; }));
    }
    std::vector<std::optional<StatusOr<BatchResult>>> results(others.size());
    std::vector<std::thread> threads;
    for (size_t i = 0; i < others.size(); ++i) {
      threads.emplace_back([&, i] { results[i] = store_->Commit(std::move(others[i])); });
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (store_->queued() < i + 1 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
      }
      EXPECT_EQ(store_->queued(), i + 1) << "batch " << i << " did not queue";
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      release = true;
    }
    cv.notify_all();
    first_thread.join();
    for (auto& t : threads) t.join();
    std::vector<StatusOr<BatchResult>> out;
    for (auto& r : results) out.push_back(r.value_or(Status(StatusCode::kInternal, "no result")));
    return out;
  }

  // Rows of the sources table for one namespace, read past the store.
  int64_t SourceRows(const std::string& ns) {
    auto conn = sqlite::Connection::Open(dir_.File("indicators.db"), /*create=*/false);
    if (!conn.ok()) return -1;
    auto n = (*conn)->QueryInt("SELECT count(*) FROM sources WHERE namespace = '" + ns + "'");
    return n.ok() ? *n : -1;
  }

  // Makes SQLite refuse inserting `value` with `raise` ("ABORT": the statement fails;
  // "ROLLBACK": the whole transaction ends), as an I/O error or a constraint would at run time.
  void RefuseValue(const std::string& value, const std::string& raise) {
    auto conn = sqlite::Connection::Open(dir_.File("indicators.db"), /*create=*/false);
    ASSERT_TRUE(conn.ok()) << conn.status().message();
    ASSERT_TRUE((*conn)
                    ->Exec("CREATE TRIGGER refuse_" + raise +
                           " BEFORE INSERT ON indicators WHEN "
                           "NEW.value = '" +
                           value + "' BEGIN SELECT RAISE(" + raise +
                           ", 'refused by the test'); END")
                    .ok());
  }

  static WriteBatch UpsertBatch(std::vector<Indicator> inds) {
    return WriteBatch().Add(UpsertIndicators{std::move(inds), At(1000)});
  }

  TempDir dir_;
  std::unique_ptr<SqliteIndicatorStore> store_;
};

TEST_F(SqliteStoreTest, StoresAndReturnsEveryField) {
  Indicator in = Ind("bad.example");
  in.severity = Severity::kHigh;
  in.reputation = 8;
  in.tags = {"phish", "apt"};
  in.comments = "seen in mail";
  in.extended_information = "https://intel.example/1";
  in.first_seen = At(900);
  in.last_seen = At(1000);
  in.expires_at = At(5000);
  in.test = true;
  auto r = Upsert({in});
  EXPECT_EQ(r.ops[0].inserted, 1);
  EXPECT_EQ(r.ops[0].updated, 0);

  Indicator got = MustGet("bad.example");
  EXPECT_EQ(got.source, kFeed);
  EXPECT_EQ(got.severity, Severity::kHigh);
  EXPECT_EQ(got.reputation, 8);
  EXPECT_EQ(got.tags, (std::vector<std::string>{"apt", "phish"}));  // stored sorted
  EXPECT_EQ(got.comments, "seen in mail");
  EXPECT_EQ(got.extended_information, "https://intel.example/1");
  EXPECT_EQ(got.first_seen, At(900));
  EXPECT_EQ(got.last_seen, At(1000));
  EXPECT_EQ(got.expires_at, At(5000));
  EXPECT_TRUE(got.active);
  EXPECT_TRUE(got.test);
  EXPECT_FALSE(got.retracted);
  EXPECT_FALSE(got.invalid_at.has_value());
  EXPECT_FALSE(got.inactive_since.has_value());
}

TEST_F(SqliteStoreTest, OneRowPerSourceValueAndType) {
  Upsert({Ind("1.2.3.4", IndicatorType::kIpv4), Ind("1.2.3.4", IndicatorType::kUrl),
          Ind("1.2.3.4", IndicatorType::kIpv4, kOther),
          Ind("1.2.3.4", IndicatorType::kIpv4, kFeedB)});
  IndicatorQuery q = All("team-a");
  EXPECT_EQ(*store_->Count(q), 3);
  q.namespace_name = "team-b";
  EXPECT_EQ(*store_->Count(q), 1);
}

TEST_F(SqliteStoreTest, TwoStoresOnOneFileShareTheirSources) {
  // Two stores on one file (as two replicas would open it); each learns the sources the other
  // created, for writes (no UNIQUE failure on the sources table) and for reads.
  SqliteStoreOptions options;
  options.path = dir_.File("indicators.db");
  auto other = SqliteIndicatorStore::Open(options);
  ASSERT_TRUE(other.ok()) << other.status().message();
  auto by_other =
      (*other)->Commit(WriteBatch().Add(UpsertIndicators{{Ind("from-other.example")}, At(1000)}));
  ASSERT_TRUE(by_other.ok()) << by_other.status().message();
  EXPECT_EQ(MustGet("from-other.example").value, "from-other.example");
  Upsert({Ind("from-this.example")}, 2000);
  EXPECT_EQ(SelectValues({kFeed, {IndicatorType::kUrl}, false}).size(), 2u);
  auto seen = (*other)->Get(kFeed, "from-this.example", IndicatorType::kUrl);
  ASSERT_TRUE(seen.ok() && seen->has_value());
}

TEST_F(SqliteStoreTest, ResightingMergesTimesTagsAndTakesNewestSeverity) {
  Indicator first = Ind("bad.example", IndicatorType::kUrl, kFeed, 1000);
  first.first_seen = At(500);
  first.severity = Severity::kLow;
  first.reputation = 3;
  first.comments = "first";
  first.tags = {"a", "b"};
  first.expires_at = At(9000);
  Upsert({first});

  Indicator newer = Ind("bad.example", IndicatorType::kUrl, kFeed, 2000);
  newer.first_seen = At(1500);
  newer.severity = Severity::kCritical;
  newer.reputation = 9;
  newer.comments = "newer";
  newer.tags = {"c", "b"};
  newer.expires_at = At(8000);  // earlier than stored: the maximum stays
  auto r = Upsert({newer});
  EXPECT_EQ(r.ops[0].inserted, 0);
  EXPECT_EQ(r.ops[0].updated, 1);

  Indicator got = MustGet("bad.example");
  EXPECT_EQ(got.first_seen, At(500));
  EXPECT_EQ(got.last_seen, At(2000));
  EXPECT_EQ(got.expires_at, At(9000));
  EXPECT_EQ(got.tags, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(got.severity, Severity::kCritical);
  EXPECT_EQ(got.reputation, 9);
  EXPECT_EQ(got.comments, "newer");

  // A late, older sighting adds its tags and times but does not override newer metadata.
  Indicator older = Ind("bad.example", IndicatorType::kUrl, kFeed, 1200);
  older.first_seen = At(100);
  older.severity = Severity::kLow;
  older.reputation = 1;
  older.tags = {"z"};
  older.expires_at = At(12000);
  Upsert({older});
  got = MustGet("bad.example");
  EXPECT_EQ(got.first_seen, At(100));
  EXPECT_EQ(got.last_seen, At(2000));
  EXPECT_EQ(got.expires_at, At(12000));
  EXPECT_EQ(got.severity, Severity::kCritical);
  EXPECT_EQ(got.reputation, 9);
  EXPECT_EQ(got.tags, (std::vector<std::string>{"a", "b", "c", "z"}));
}

TEST_F(SqliteStoreTest, AbsentExpiryMeansNeverAndWinsTheMaximum) {
  Indicator a = Ind("x.example");
  a.expires_at = At(3000);
  Upsert({a});
  Indicator b = Ind("x.example", IndicatorType::kUrl, kFeed, 1100);  // no expiresAt: never
  Upsert({b});
  EXPECT_FALSE(MustGet("x.example").expires_at.has_value());
  Indicator c = Ind("x.example", IndicatorType::kUrl, kFeed, 1200);
  c.expires_at = At(4000);
  Upsert({c});
  EXPECT_FALSE(MustGet("x.example").expires_at.has_value());
}

TEST_F(SqliteStoreTest, ResightingRevivesAnAgedOutRow) {
  Indicator a = Ind("old.example");
  a.expires_at = At(1500);
  Upsert({a});
  auto swept = MustCommit(WriteBatch().Add(ExpireIndicators{At(2000)}));
  EXPECT_EQ(swept.ops[0].affected, 1);
  Indicator aged = MustGet("old.example");
  EXPECT_FALSE(aged.active);
  EXPECT_EQ(aged.inactive_since, At(2000));

  Indicator again = Ind("old.example", IndicatorType::kUrl, kFeed, 2500);
  again.expires_at = At(9000);
  Upsert({again}, 2500);
  Indicator revived = MustGet("old.example");
  EXPECT_TRUE(revived.active);
  EXPECT_FALSE(revived.inactive_since.has_value());
  EXPECT_EQ(revived.expires_at, At(9000));
}

TEST_F(SqliteStoreTest, SightingWhoseExpiryHasPassedIsStoredInactive) {
  Indicator a = Ind("late.example");
  a.expires_at = At(900);
  Upsert({a}, 1000);
  Indicator got = MustGet("late.example");
  EXPECT_FALSE(got.active);
  EXPECT_EQ(got.inactive_since, At(1000));
}

TEST_F(SqliteStoreTest, NewestSightingClearsRetractionAndSetsActive) {
  Upsert({Ind("r.example")});
  UpdateIndicators retract{kFeed, "r.example", std::nullopt, {}, At(1000)};
  retract.update.retracted = true;
  EXPECT_EQ(MustCommit(WriteBatch().Add(retract)).ops[0].affected, 1);
  EXPECT_TRUE(MustGet("r.example").retracted);
  Upsert({Ind("r.example", IndicatorType::kUrl, kFeed, 999)});  // older: stays retracted
  EXPECT_TRUE(MustGet("r.example").retracted);
  Upsert({Ind("r.example", IndicatorType::kUrl, kFeed, 1001)});
  EXPECT_FALSE(MustGet("r.example").retracted);

  Indicator off = Ind("r.example", IndicatorType::kUrl, kFeed, 1002);
  off.active = false;
  Upsert({off});
  EXPECT_FALSE(MustGet("r.example").active);
}

TEST_F(SqliteStoreTest, TenantRejectionSurvivesResighting) {
  Upsert({Ind("bad url")});
  UpdateIndicators mark{kFeed, "bad url", IndicatorType::kUrl, {}, At(1000)};
  mark.update.invalid = IndicatorUpdate::Invalid{At(1100), "tenant: invalid URL"};
  MustCommit(WriteBatch().Add(mark));
  Upsert({Ind("bad url", IndicatorType::kUrl, kFeed, 2000)});
  Indicator got = MustGet("bad url");
  EXPECT_EQ(got.invalid_at, At(1100));
  EXPECT_EQ(got.invalid_reason, "tenant: invalid URL");
  EXPECT_FALSE(got.Shareable());
}

TEST_F(SqliteStoreTest, TallyCountsEachSourceTypeAndStateOnce) {
  const SourceRef other{"team-b", "feed"};
  Indicator expired = Ind("old.example");
  expired.expires_at = At(900);
  Upsert({Ind("a.example"), Ind("b.example"), expired, Ind("bad url"),
          Ind("44d88612fea8a8f36de82e1278abb02f", IndicatorType::kMd5),
          Ind("a.example", IndicatorType::kUrl, other)},
         1000);
  UpdateIndicators mark{kFeed, "bad url", IndicatorType::kUrl, {}, At(1000)};
  mark.update.invalid = IndicatorUpdate::Invalid{At(1000), "tenant: invalid URL"};
  UpdateIndicators retract{kFeed, "b.example", std::nullopt, {}, At(1000)};
  retract.update.retracted = true;
  MustCommit(WriteBatch().Add(mark).Add(retract));

  auto rows = store_->Tally();
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  std::map<std::string, int64_t> got;
  for (const auto& r : *rows) {
    got[r.source.Key() + " " + std::string(IndicatorTypeName(r.type)) + " " +
        std::string(kIndicatorStateNames[static_cast<size_t>(r.state)])] = r.count;
  }
  EXPECT_EQ(got, (std::map<std::string, int64_t>{{"team-a/feed md5 active", 1},
                                                 {"team-a/feed url active", 1},
                                                 {"team-a/feed url inactive", 1},
                                                 {"team-a/feed url invalid", 1},
                                                 {"team-a/feed url retracted", 1},
                                                 {"team-b/feed url active", 1}}));
}

TEST_F(SqliteStoreTest, UpdateChangesOnlyTheGivenFieldsAndReportsMatches) {
  Indicator a = Ind("u.example");
  a.severity = Severity::kLow;
  a.comments = "keep";
  a.tags = {"t1"};
  Upsert({a});
  UpdateIndicators u{kFeed, "u.example", std::nullopt, {}, At(1500)};
  u.update.severity = Severity::kHigh;
  u.update.tags = std::vector<std::string>{"t2"};
  u.update.active = false;
  u.update.expires_at = std::optional<WallTime>(At(7000));
  EXPECT_EQ(MustCommit(WriteBatch().Add(u)).ops[0].affected, 1);
  Indicator got = MustGet("u.example");
  EXPECT_EQ(got.severity, Severity::kHigh);
  EXPECT_EQ(got.comments, "keep");
  EXPECT_EQ(got.tags, std::vector<std::string>{"t2"});
  EXPECT_FALSE(got.active);
  EXPECT_EQ(got.inactive_since, At(1500));
  EXPECT_EQ(got.expires_at, At(7000));

  UpdateIndicators missing{kFeed, "nope.example", std::nullopt, {}, At(1500)};
  missing.update.severity = Severity::kLow;
  EXPECT_EQ(MustCommit(WriteBatch().Add(missing)).ops[0].affected, 0);
  UpdateIndicators other_source{kOther, "u.example", std::nullopt, {}, At(1500)};
  other_source.update.severity = Severity::kLow;
  EXPECT_EQ(MustCommit(WriteBatch().Add(other_source)).ops[0].affected, 0);
}

TEST_F(SqliteStoreTest, DeleteRemovesEveryTypeOfTheValuesOfOneSource) {
  Upsert({Ind("1.1.1.1", IndicatorType::kIpv4), Ind("1.1.1.1", IndicatorType::kUrl),
          Ind("2.2.2.2", IndicatorType::kIpv4), Ind("1.1.1.1", IndicatorType::kIpv4, kOther)});
  auto r = MustCommit(WriteBatch().Add(DeleteIndicators{kFeed, {"1.1.1.1", "9.9.9.9"}}));
  EXPECT_EQ(r.ops[0].affected, 2);
  EXPECT_FALSE(store_->Get(kFeed, "1.1.1.1", IndicatorType::kIpv4)->has_value());
  EXPECT_TRUE(store_->Get(kFeed, "2.2.2.2", IndicatorType::kIpv4)->has_value());
  EXPECT_TRUE(store_->Get(kOther, "1.1.1.1", IndicatorType::kIpv4)->has_value());
}

TEST_F(SqliteStoreTest, InvalidBatchIsRefusedWholeAndStoresNothing) {
  Indicator bad = Ind("y.example");
  bad.reputation = 11;
  auto r = store_->Commit(WriteBatch()
                              .Add(UpsertIndicators{{Ind("ok.example")}, At(1000)})
                              .Add(PutCheckpoint{"k", "v"})
                              .Add(UpsertIndicators{{bad}, At(1000)}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("ops[2].indicators[0].reputation"), std::string::npos);
  EXPECT_FALSE(store_->Get(kFeed, "ok.example", IndicatorType::kUrl)->has_value());
  EXPECT_FALSE(store_->GetCheckpoint("k")->has_value());
}

TEST_F(SqliteStoreTest, WritesAreDurableAtCommit) {
  // Acknowledged means on disk: the writer runs in WAL mode with synchronous=FULL (the WAL is
  // fsync'ed at every commit). A process crash cannot tell FULL from NORMAL, so check the settings.
  EXPECT_EQ(store_->durability().journal_mode, "wal");
  EXPECT_EQ(store_->durability().synchronous, 2);
  auto conn = sqlite::Connection::Open(dir_.File("indicators.db"), /*create=*/false);
  ASSERT_TRUE(conn.ok());
  EXPECT_EQ(*(*conn)->QueryInt("SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1)
      << "the file itself is in WAL mode";
}

TEST_F(SqliteStoreTest, CommittedDataSurvivesReopening) {
  Upsert({Ind("keep.example")});
  MustCommit(WriteBatch().Add(PutCheckpoint{"poller", "state-1"}));
  Reopen();
  EXPECT_TRUE(store_->Get(kFeed, "keep.example", IndicatorType::kUrl)->has_value());
  EXPECT_EQ(store_->GetCheckpoint("poller")->value_or(""), "state-1");
  EXPECT_EQ(store_->opened_schema_version(), sqlite::LatestSchemaVersion());
}

TEST_F(SqliteStoreTest, ConcurrentCommitsShareOneTransaction) {
  // A source none of them has written before: each batch of the group must find the one the
  // earlier batch created, not create it again.
  std::vector<WriteBatch> others;
  for (int i = 0; i < 5; ++i) {
    others.push_back(
        UpsertBatch({Ind("v" + std::to_string(i) + ".example", IndicatorType::kUrl, kOther)}));
  }
  for (const auto& r : CommitAsOneGroup(UpsertBatch({Ind("first.example")}), std::move(others))) {
    EXPECT_TRUE(r.ok()) << r.status().message();
  }
  auto stats = store_->stats();
  EXPECT_EQ(stats.batches, 6u);
  EXPECT_EQ(stats.transactions, 2u);
  EXPECT_EQ(stats.replays, 0u);
  IndicatorQuery q = All("team-a");
  EXPECT_EQ(*store_->Count(q), 6);
  q.sources = {"other"};
  EXPECT_EQ(*store_->Count(q), 5);
}

TEST_F(SqliteStoreTest, BatchThatFailsInAGroupIsRefusedAloneAndTheOthersCommit) {
  // Validation happens before the writer; what can still fail there is a SQLite statement.
  RefuseValue("poison.example", "ABORT");
  // The group runs once without savepoints: the first batch is applied, then the poisoned one's
  // first row (from a source new to the file), before the trigger refuses its second row. All of
  // that is rolled back, and the others replayed.
  auto results = CommitAsOneGroup(
      UpsertBatch({Ind("first.example")}),
      {UpsertBatch({Ind("a.example", IndicatorType::kUrl, kOther)}),
       UpsertBatch({Ind("half.example", IndicatorType::kUrl, kFeedB), Ind("poison.example")}),
       UpsertBatch({Ind("b.example", IndicatorType::kUrl, kOther)})});
  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results[0].ok()) << results[0].status().message();
  ASSERT_FALSE(results[1].ok());
  EXPECT_NE(results[1].status().message().find("refused by the test"), std::string::npos)
      << results[1].status().message();
  EXPECT_TRUE(results[2].ok()) << results[2].status().message();
  EXPECT_TRUE(MustGet("a.example", IndicatorType::kUrl, kOther).active);
  EXPECT_TRUE(MustGet("b.example", IndicatorType::kUrl, kOther).active);
  EXPECT_FALSE(store_->Get(kFeedB, "half.example", IndicatorType::kUrl)->has_value());
  EXPECT_FALSE(store_->Get(kFeed, "poison.example", IndicatorType::kUrl)->has_value());
  EXPECT_EQ(SourceRows("team-b"), 0) << "the refused batch's new source was rolled back";
  auto stats = store_->stats();
  EXPECT_EQ(stats.transactions, 2u) << "the group still commits once";
  EXPECT_EQ(stats.batches, 3u);
  EXPECT_EQ(stats.replays, 1u);

  // Alone, the same batch is refused the same way, leaves nothing behind and is not replayed.
  EXPECT_FALSE(store_
                   ->Commit(UpsertBatch(
                       {Ind("half.example", IndicatorType::kUrl, kFeedB), Ind("poison.example")}))
                   .ok());
  EXPECT_EQ(SourceRows("team-b"), 0);
  EXPECT_EQ(store_->stats().transactions, 2u);
  EXPECT_EQ(store_->stats().replays, 1u);
}

TEST_F(SqliteStoreTest, ErrorThatEndsTheTransactionFailsEveryBatchOfTheGroup) {
  // RAISE(ROLLBACK) ends the whole transaction, as SQLite may on an I/O error or a full disk:
  // no batch of the group can have been committed, and each caller hears so once.
  RefuseValue("poison.example", "ROLLBACK");
  std::vector<std::string> seen;
  auto results = CommitAsOneGroup(UpsertBatch({Ind("first.example")}),
                                  {UpsertBatch({Ind("a.example", IndicatorType::kUrl, kOther)}),
                                   UpsertBatch({Ind("poison.example")}),
                                   UpsertBatch({Ind("b.example", IndicatorType::kUrl, kOther)})});
  ASSERT_EQ(results.size(), 3u);
  for (const auto& r : results) EXPECT_FALSE(r.ok());
  EXPECT_NE(results[1].status().message().find("refused by the test"), std::string::npos)
      << results[1].status().message();
  EXPECT_EQ(results[0].status().code(), StatusCode::kUnavailable) << "a retry may succeed";
  EXPECT_FALSE(store_->Get(kOther, "a.example", IndicatorType::kUrl)->has_value());
  EXPECT_FALSE(store_->Get(kOther, "b.example", IndicatorType::kUrl)->has_value());
  EXPECT_EQ(store_->stats().transactions, 1u);
  EXPECT_EQ(store_->stats().replays, 0u);
  // The store goes on: the next batch commits.
  Upsert({Ind("after.example")});
  EXPECT_TRUE(MustGet("after.example").active);
}

TEST_F(SqliteStoreTest, NotifiesOncePerSourceAndKindAfterCommit) {
  std::mutex mu;
  std::vector<ChangeEvent> seen;
  auto sub = store_->Subscribe([&](const ChangeEvent& e) {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(e);
  });
  Upsert({Ind("a.example"), Ind("b.example"), Ind("c.example", IndicatorType::kUrl, kOther)});
  {
    std::lock_guard<std::mutex> lock(mu);
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].source, kFeed);
    EXPECT_EQ(seen[0].kind, ChangeKind::kUpserted);
    EXPECT_EQ(seen[0].rows, 2);
    EXPECT_EQ(seen[1].source, kOther);
    EXPECT_EQ(seen[1].rows, 1);
    seen.clear();
  }
  MustCommit(WriteBatch().Add(DeleteIndicators{kFeed, {"not-there"}}));
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_TRUE(seen.empty()) << "a delete that matched nothing changed nothing";
  }
  sub.reset();
  Upsert({Ind("d.example")});
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_TRUE(seen.empty()) << "no events after unsubscribing";
}

TEST_F(SqliteStoreTest, ExpireMarksDueRowsInactiveAndNotifiesTheirSources) {
  Indicator due = Ind("due.example");
  due.expires_at = At(2000);
  Indicator later = Ind("later.example");
  later.expires_at = At(3000);
  Indicator never = Ind("never.example");
  Indicator other = Ind("o.example", IndicatorType::kUrl, kOther);
  other.expires_at = At(1500);
  Upsert({due, later, never, other});
  std::vector<ChangeEvent> seen;
  auto sub = store_->Subscribe([&](const ChangeEvent& e) { seen.push_back(e); });
  auto r = MustCommit(WriteBatch().Add(ExpireIndicators{At(2000)}));
  EXPECT_EQ(r.ops[0].affected, 2);
  EXPECT_FALSE(MustGet("due.example").active);
  EXPECT_TRUE(MustGet("later.example").active);
  EXPECT_TRUE(MustGet("never.example").active);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].kind, ChangeKind::kExpired);
  // A second sweep at the same time finds nothing more.
  EXPECT_EQ(MustCommit(WriteBatch().Add(ExpireIndicators{At(2000)})).ops[0].affected, 0);
}

TEST_F(SqliteStoreTest, PurgeDeletesOnlyRowsInactiveLongEnough) {
  Indicator a = Ind("a.example");
  a.expires_at = At(1500);
  Indicator b = Ind("b.example");
  b.expires_at = At(2500);
  Upsert({a, b, Ind("c.example")});
  MustCommit(WriteBatch().Add(ExpireIndicators{At(2000)}));  // a inactive since 2000
  MustCommit(WriteBatch().Add(ExpireIndicators{At(3000)}));  // b inactive since 3000
  auto r = MustCommit(WriteBatch().Add(PurgeInactive{At(2500)}));
  EXPECT_EQ(r.ops[0].affected, 1);
  EXPECT_FALSE(store_->Get(kFeed, "a.example", IndicatorType::kUrl)->has_value());
  EXPECT_TRUE(store_->Get(kFeed, "b.example", IndicatorType::kUrl)->has_value());
  EXPECT_TRUE(store_->Get(kFeed, "c.example", IndicatorType::kUrl)->has_value());
}

TEST_F(SqliteStoreTest, SelectionStreamsOneSourceNewestFirstFilteredByTypeAndState) {
  Indicator test_row = Ind("test.example", IndicatorType::kUrl, kFeed, 1500);
  test_row.test = true;
  Indicator inactive = Ind("off.example", IndicatorType::kUrl, kFeed, 1600);
  inactive.active = false;
  Upsert({Ind("old.example", IndicatorType::kUrl, kFeed, 1000),
          Ind("new.example", IndicatorType::kDomain, kFeed, 3000),
          Ind("mid.example", IndicatorType::kUrl, kFeed, 2000),
          Ind(std::string(32, 'a'), IndicatorType::kMd5, kFeed, 4000),
          Ind("elsewhere.example", IndicatorType::kUrl, kOther, 5000), test_row, inactive});
  Upsert({Ind("retracted.example", IndicatorType::kUrl, kFeed, 2500)});
  UpdateIndicators retract{kFeed, "retracted.example", std::nullopt, {}, At(1)};
  retract.update.retracted = true;
  MustCommit(WriteBatch().Add(retract));

  Selection url_list{kFeed, {IndicatorType::kUrl, IndicatorType::kDomain}, true};
  EXPECT_EQ(SelectValues(url_list),
            (std::vector<std::string>{"new.example", "mid.example", "old.example"}));
  Selection everything{kFeed, {}, false};
  EXPECT_EQ(SelectValues(everything).size(), 7u);
  EXPECT_EQ(SelectValues(everything).front(), std::string(32, 'a'));
  EXPECT_TRUE(SelectValues(Selection{{"team-z", "none"}, {}, true}).empty());

  // The plan walks indicators_by_last_seen in order: no sort step, so nothing is materialised.
  auto plan = store_->ExplainSelect(url_list);
  ASSERT_TRUE(plan.ok());
  EXPECT_NE(plan->find("indicators_by_last_seen"), std::string::npos) << *plan;
  EXPECT_EQ(plan->find("TEMP B-TREE"), std::string::npos) << *plan;
}

TEST_F(SqliteStoreTest, CursorKeepsItsSnapshotWhileWritesContinue) {
  Upsert({Ind("a.example", IndicatorType::kUrl, kFeed, 1000),
          Ind("b.example", IndicatorType::kUrl, kFeed, 900)});
  auto cursor = store_->Select(Selection{kFeed, {}, true});
  ASSERT_TRUE(cursor.ok());
  Indicator row;
  ASSERT_TRUE(*(*cursor)->Next(row));
  EXPECT_EQ(row.value, "a.example");
  Upsert({Ind("c.example", IndicatorType::kUrl, kFeed, 800)});  // the writer is not blocked
  ASSERT_TRUE(*(*cursor)->Next(row));
  EXPECT_EQ(row.value, "b.example");
  EXPECT_FALSE(*(*cursor)->Next(row)) << "rows committed after the first read are not seen";
}

TEST_F(SqliteStoreTest, QueryFiltersSortsPagesAndNeverCrossesNamespaces) {
  std::vector<Indicator> rows;
  for (int i = 0; i < 12; ++i) {
    Indicator r =
        Ind("h" + std::to_string(100 + i) + ".example", IndicatorType::kHostname, kFeed, 1000 + i);
    r.reputation = 1 + i % 10;
    r.severity = i % 2 ? Severity::kHigh : Severity::kLow;
    r.tags = {i % 3 ? "common" : "rare"};
    if (i % 4 == 0) r.tags.push_back("x");
    rows.push_back(r);
  }
  rows.push_back(Ind("h100.example", IndicatorType::kHostname, kFeedB));
  Upsert(rows);

  IndicatorQuery q = All("team-a");
  EXPECT_EQ(*store_->Count(q), 12);
  q.severities = {Severity::kHigh};
  EXPECT_EQ(*store_->Count(q), 6);
  q.reputation_min = 4;
  q.reputation_max = 8;
  EXPECT_EQ(*store_->Count(q), 3);  // i = 3, 5, 7
  q = All("team-a");
  q.tags_any = {{"rare"}};
  EXPECT_EQ(*store_->Count(q), 4);
  q.tags_any = {{"rare"}, {"x"}};   // both: i = 0, 12 (not 4 or 8: "common")
  EXPECT_EQ(*store_->Count(q), 1);  // i = 0 only among 0..11
  q.tags_any = {{"rare", "x"}};
  EXPECT_EQ(*store_->Count(q), 6);  // rare: 0, 3, 6, 9; x: 0, 4, 8
  q = All("team-a");
  q.match_nothing = true;
  EXPECT_EQ(*store_->Count(q), 0);
  EXPECT_TRUE(store_->Query(q)->empty());
  q = All("team-a");
  q.tags_none = {"rare"};
  EXPECT_EQ(*store_->Count(q), 8);
  q = All("team-a");
  q.values = {"h100.example", "h101.example"};
  EXPECT_EQ(*store_->Count(q), 2);
  q = All("team-a");
  q.sources = {"other"};
  EXPECT_EQ(*store_->Count(q), 0);
  q = All("team-c");
  EXPECT_EQ(*store_->Count(q), 0);

  q = All("team-a");
  q.sort = SortField::kLastSeen;
  q.ascending = false;
  q.skip = 2;
  q.limit = 3;
  auto page = store_->Query(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 3u);
  EXPECT_EQ((*page)[0].value, "h109.example");
  EXPECT_EQ((*page)[2].value, "h107.example");
  EXPECT_EQ((*page)[0].source, kFeed);
  q.namespace_name = "team-b";
  q.skip = 0;
  page = store_->Query(q);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].source, kFeedB);
}

TEST_F(SqliteStoreTest, LedgerRecordsWhatWasPushedPerTarget) {
  LedgerTarget url{"team-a/acme", ListKind::kUrlList, "cte-feed"};
  LedgerTarget hashes{"team-a/acme", ListKind::kFileHashList, "cte-feed"};
  EXPECT_FALSE(store_->GetLedger(url)->has_value());
  MustCommit(WriteBatch()
                 .Add(LedgerReplace{url, {"team-a/sc1", At(100), {"b.example", "a.example"}}})
                 .Add(LedgerReplace{hashes, {"team-a/sc2", At(100), {std::string(32, 'f')}}}));
  MustCommit(WriteBatch().Add(LedgerAdd{url, "team-a/sc1", At(200), {"c.example", "a.example"}}));
  auto r = MustCommit(WriteBatch().Add(LedgerRemove{url, At(300), {"b.example", "zzz"}}));
  EXPECT_EQ(r.ops[0].affected, 1);
  auto ledger = store_->GetLedger(url);
  ASSERT_TRUE(ledger.ok() && ledger->has_value());
  EXPECT_EQ((*ledger)->owner, "team-a/sc1");
  EXPECT_EQ((*ledger)->pushed_at, At(300));
  EXPECT_EQ((*ledger)->entries, (std::vector<std::string>{"a.example", "c.example"}));
  EXPECT_EQ((*store_->GetLedger(hashes))->entries, std::vector<std::string>{std::string(32, 'f')});

  MustCommit(WriteBatch().Add(LedgerReplace{url, {"team-a/sc1", At(400), {"d.example"}}}));
  EXPECT_EQ((*store_->GetLedger(url))->entries, std::vector<std::string>{"d.example"});
  // A delete on behalf of an owner that no longer holds the target leaves it alone.
  MustCommit(WriteBatch().Add(LedgerDelete{url, "team-a/sc-old"}));
  EXPECT_TRUE(store_->GetLedger(url)->has_value());
  MustCommit(WriteBatch().Add(LedgerDelete{url, "team-a/sc1"}));
  EXPECT_FALSE(store_->GetLedger(url)->has_value());
  EXPECT_TRUE(store_->GetLedger(hashes)->has_value());
}

TEST_F(SqliteStoreTest, CheckpointCommitsWithTheIndicatorsItAccountsFor) {
  MustCommit(WriteBatch()
                 .Add(UpsertIndicators{{Ind("p.example")}, At(1000)})
                 .Add(PutCheckpoint{"poll/team-a/feed/malsite", R"({"phase":"incremental"})"}));
  EXPECT_EQ(store_->GetCheckpoint("poll/team-a/feed/malsite")->value_or(""),
            R"({"phase":"incremental"})");
  MustCommit(WriteBatch().Add(PutCheckpoint{"poll/team-a/feed/malsite", "2"}));
  EXPECT_EQ(store_->GetCheckpoint("poll/team-a/feed/malsite")->value_or(""), "2");
  EXPECT_FALSE(store_->GetCheckpoint("missing")->has_value());
}

// ---------------------------------------------------------------------------------------------
// Schema versions.

TEST_F(SqliteStoreTest, OlderFileIsMigratedForwardKeepingItsRows) {
  store_.reset();
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(dir_.File(std::string("indicators.db") + suffix));
  }
  Reopen(/*schema_version=*/1);  // a file as the first schema version wrote it
  Upsert({Ind("from-v1.example")});
  store_.reset();
  Reopen();
  EXPECT_EQ(store_->opened_schema_version(), 1);
  EXPECT_TRUE(store_->Get(kFeed, "from-v1.example", IndicatorType::kUrl)->has_value());
  LedgerTarget t{"team-a/acme", ListKind::kUrlList, "l"};
  MustCommit(WriteBatch().Add(LedgerReplace{t, {"o", At(1), {"x"}}}));  // version 2 tables work
  EXPECT_TRUE(store_->GetLedger(t)->has_value());
}

TEST_F(SqliteStoreTest, FileFromANewerBinaryIsRefusedWithAClearError) {
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.File("indicators.db").c_str(), &db), SQLITE_OK);
  const int newer = sqlite::LatestSchemaVersion() + 1;
  ASSERT_EQ(sqlite3_exec(db, ("PRAGMA user_version = " + std::to_string(newer)).c_str(), nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  SqliteStoreOptions options;
  options.path = dir_.File("indicators.db");
  auto opened = SqliteIndicatorStore::Open(options);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kFailedPrecondition);
  const std::string msg = opened.status().message();
  EXPECT_NE(msg.find("schema version " + std::to_string(newer)), std::string::npos) << msg;
  EXPECT_NE(msg.find("newer cte-operator"), std::string::npos) << msg;
  EXPECT_NE(msg.find("up to " + std::to_string(newer - 1)), std::string::npos) << msg;
}

// New files get 8 KiB pages (docs/store.md); a file written with other pages keeps them.
TEST_F(SqliteStoreTest, NewFilesUse8KiBPagesAndOldFilesKeepTheirs) {
  auto page_size = [&](const std::string& path) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, nullptr);
    int size = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return size;
  };
  EXPECT_EQ(page_size(dir_.File("indicators.db")), 8192);
  SqliteStoreOptions old;
  old.path = dir_.File("old.db");
  old.page_size = 4096;
  ASSERT_TRUE(SqliteIndicatorStore::Open(old).ok());
  SqliteStoreOptions now;
  now.path = old.path;
  auto reopened = SqliteIndicatorStore::Open(now);
  ASSERT_TRUE(reopened.ok());
  (*reopened).reset();
  EXPECT_EQ(page_size(old.path), 4096);
}

TEST_F(SqliteStoreTest, ForeignDatabaseIsRefused) {
  sqlite3* db = nullptr;
  const std::string path = dir_.File("other.db");
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  SqliteStoreOptions options;
  options.path = path;
  auto opened = SqliteIndicatorStore::Open(options);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.status().message().find("not a cte-operator store"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Backup.

TEST_F(SqliteStoreTest, OnlineBackupWhileWritingOpensAsAConsistentStore) {
  std::vector<Indicator> rows;
  for (int i = 0; i < 2000; ++i) {
    std::string value = "b";  // not "b" + std::to_string(i): GCC 12 at -O3 reports a false
                              // -Wrestrict (GCC PR 105329)
    value += std::to_string(i);
    rows.push_back(Ind(value + ".example"));
  }
  Upsert(rows);
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      auto r = store_->Commit(
          WriteBatch().Add(UpsertIndicators{{Ind("w" + std::to_string(i) + ".example")}, At(1)}));
      ASSERT_TRUE(r.ok());
    }
  });
  const std::string backup = dir_.File("backup.db");
  Status s = BackupSqliteStore(dir_.File("indicators.db"), backup);
  stop = true;
  writer.join();
  ASSERT_TRUE(s.ok()) << s.message();

  SqliteStoreOptions options;
  options.path = backup;
  auto copy = SqliteIndicatorStore::Open(options);
  ASSERT_TRUE(copy.ok()) << copy.status().message();
  IndicatorQuery q = All("team-a");
  q.values = {"b0.example", "b1999.example"};
  EXPECT_EQ(*(*copy)->Count(q), 2);

  Status again = BackupSqliteStore(dir_.File("indicators.db"), backup);
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_FALSE(std::filesystem::exists(backup + ".partial"));
  EXPECT_EQ(BackupSqliteStore(dir_.File("missing.db"), dir_.File("b2.db")).code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace cte::store
