// The aging sweep on a simulated clock: expiry at each interval, the optional purge, and the
// source policy that sets expiresAt and reputation at ingest.
#include "operator/store/aging_sweeper.h"

#include <gtest/gtest.h>

#include <thread>

#include "operator/store/source_policy.h"
#include "operator/store/sqlite_store.h"
#include "tests/unit/store/store_test_support.h"

namespace cte::store {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using testing::Ind;
using testing::TempDir;

const SourceRef kFeed{"team-a", "feed"};

// Waits (real time, with a deadline) until `cond` holds.
template <typename F>
bool Eventually(F cond) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

SourcePolicy Aging(int days) {
  SourcePolicy p;
  p.aging_days = days;
  return p;
}
SourcePolicy Override(int reputation) {
  SourcePolicy p;
  p.override_reputation = reputation;
  return p;
}
AgingOptions Options(Duration interval, Duration purge_after = Duration::zero()) {
  AgingOptions o;
  o.sweep_interval = interval;
  o.purge_after = purge_after;
  return o;
}

class AgingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SqliteStoreOptions options;
    options.path = dir_.File("aging.db");
    store_ = std::move(SqliteIndicatorStore::Open(options)).value();
  }

  // Ingests `value` with the plugin's policy at the clock's current time.
  void Ingest(const std::string& value, const SourcePolicy& policy, Indicator ind = {}) {
    ind.source = kFeed;
    ind.value = value;
    ApplySourcePolicy(policy, clock_.WallNow(), ind);
    ASSERT_TRUE(store_->Commit(WriteBatch().Add(UpsertIndicators{{ind}, clock_.WallNow()})).ok());
  }
  bool Active(const std::string& value) {
    auto got = store_->Get(kFeed, value, IndicatorType::kUrl);
    return got.ok() && got->has_value() && (*got)->active;
  }
  bool Exists(const std::string& value) {
    auto got = store_->Get(kFeed, value, IndicatorType::kUrl);
    return got.ok() && got->has_value();
  }

  TempDir dir_;
  SimulatedClock clock_;
  std::unique_ptr<SqliteIndicatorStore> store_;
};

TEST_F(AgingTest, AgingDaysSetExpiryAtIngestAndTheSweepDeactivatesOnTime) {
  Ingest("thirty.example", Aging(30));
  Ingest("never.example", Aging(0));
  Indicator explicit_expiry;
  explicit_expiry.expires_at = clock_.WallNow() + hours(24);
  Ingest("explicit.example", Aging(30), explicit_expiry);
  EXPECT_EQ((*store_->Get(kFeed, "thirty.example", IndicatorType::kUrl))->expires_at,
            clock_.WallNow() + hours(24 * 30));

  std::vector<ChangeEvent> events;
  std::mutex mu;
  auto sub = store_->Subscribe([&](const ChangeEvent& e) {
    std::lock_guard<std::mutex> lock(mu);
    events.push_back(e);
  });
  AgingSweeper sweeper(*store_, clock_, AgingOptions{});
  sweeper.Start();
  ASSERT_TRUE(Eventually([&] { return clock_.waiters() == 1; }));

  clock_.Advance(hours(24));  // 1440 sweeps are due; the loop runs one per wake-up
  ASSERT_TRUE(Eventually([&] { return sweeper.sweeps() >= 1; }));
  EXPECT_FALSE(Active("explicit.example"));
  EXPECT_TRUE(Active("thirty.example"));
  {
    std::lock_guard<std::mutex> lock(mu);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, ChangeKind::kExpired);
    EXPECT_EQ(events[0].source, kFeed);
    EXPECT_EQ(events[0].rows, 1);
  }

  ASSERT_TRUE(Eventually([&] { return clock_.waiters() == 1; }));
  clock_.Advance(hours(24 * 29));
  uint64_t before = sweeper.sweeps();
  ASSERT_TRUE(Eventually([&] { return sweeper.sweeps() > before; }));
  EXPECT_FALSE(Active("thirty.example"));
  EXPECT_TRUE(Active("never.example")) << "agingDays 0 never expires (CE differs, docs/store.md)";
  sweeper.Stop();
}

TEST_F(AgingTest, SweepRunsEveryIntervalNotBefore) {
  Indicator soon;
  soon.expires_at = clock_.WallNow() + std::chrono::seconds(30);
  Ingest("soon.example", {}, soon);
  AgingSweeper sweeper(*store_, clock_, Options(minutes(1)));
  sweeper.Start();
  ASSERT_TRUE(Eventually([&] { return clock_.waiters() == 1; }));
  clock_.Advance(std::chrono::seconds(59));
  EXPECT_EQ(sweeper.sweeps(), 0u);
  EXPECT_TRUE(Active("soon.example")) << "expired but not yet swept";
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(Eventually([&] { return sweeper.sweeps() == 1; }));
  EXPECT_FALSE(Active("soon.example"));
}

TEST_F(AgingTest, PurgeDeletesRowsInactiveForTheConfiguredAge) {
  Ingest("short.example", Aging(1));
  AgingSweeper sweeper(*store_, clock_, Options(minutes(1), hours(24 * 7)));
  clock_.Advance(hours(25));
  auto first = sweeper.SweepOnce();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->expired, 1);
  EXPECT_EQ(first->purged, 0);
  clock_.Advance(hours(24 * 7 - 1));  // inactive for just under seven days
  EXPECT_EQ(sweeper.SweepOnce()->purged, 0);
  EXPECT_TRUE(Exists("short.example"));
  clock_.Advance(hours(2));
  EXPECT_EQ(sweeper.SweepOnce()->purged, 1);
  EXPECT_FALSE(Exists("short.example"));
}

TEST_F(AgingTest, WithoutPurgeInactiveRowsStay) {
  Ingest("short.example", Aging(1));
  AgingSweeper sweeper(*store_, clock_, AgingOptions{});
  clock_.Advance(hours(24 * 400));
  auto r = sweeper.SweepOnce();
  EXPECT_EQ(r->expired, 1);
  EXPECT_EQ(r->purged, 0);
  EXPECT_TRUE(Exists("short.example"));
}

TEST(SourcePolicyTest, FillsWhatCloudExchangeFillsAtInsert) {
  const WallTime now = testing::At(10'000);
  struct Case {
    const char* name;
    SourcePolicy policy;
    Indicator in;
    std::optional<WallTime> want_expiry;
    int want_reputation;
  };
  Indicator plain;
  Indicator with_expiry;
  with_expiry.expires_at = testing::At(20'000);
  Indicator rep7;
  rep7.reputation = 7;
  const Case cases[] = {
      {"aging sets expiry", Aging(2), plain, now + hours(48), 5},
      {"zero aging: never", Aging(0), plain, std::nullopt, 5},
      {"own expiry kept", Aging(2), with_expiry, testing::At(20'000), 5},
      {"override replaces", Override(9), rep7, std::nullopt, 9},
      {"zero override keeps", Override(0), rep7, std::nullopt, 7},
  };
  for (const auto& c : cases) {
    Indicator ind = c.in;
    ApplySourcePolicy(c.policy, now, ind);
    EXPECT_EQ(ind.expires_at, c.want_expiry) << c.name;
    EXPECT_EQ(ind.reputation, c.want_reputation) << c.name;
    EXPECT_EQ(ind.first_seen, now) << c.name;
    EXPECT_EQ(ind.last_seen, now) << c.name;
  }
  Indicator seen;
  seen.first_seen = testing::At(5);
  ApplySourcePolicy({}, now, seen);
  EXPECT_EQ(seen.last_seen, testing::At(5)) << "lastSeen defaults to firstSeen when given";
}

}  // namespace
}  // namespace cte::store
