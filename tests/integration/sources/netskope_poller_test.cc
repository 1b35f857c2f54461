// The Netskope alert poller against the tenant simulator on 127.0.0.1:0: the real tenant client
// (socket transport, rate limiter) and a real SQLite store, with time on a SimulatedClock shared
// by the simulator, the client and the poller. The test moves time forward only while the poller
// waits on the clock (wait_time, poll interval, rate limiter), so it never sleeps for correctness.
#include "operator/sources/netskope_poller.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <thread>

#include "hack/tenant-simulator/tenant_simulator.h"
#include "operator/core/random.h"
#include "operator/http/socket_transport.h"
#include "operator/netskope/netskope_client.h"
#include "operator/store/sqlite_store.h"
#include "tests/unit/store/store_test_support.h"

namespace cte::sources {
namespace {

using nlohmann::json;
using std::chrono::hours;
using std::chrono::seconds;
using store::IndicatorType;

constexpr const char* kToken = "poller-v2-token-51ab";
const store::SourceRef kPlugin{"team-a", "acme-netskope"};
constexpr int64_t kDay = 86400;

class PollerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StartTenant(/*page_size=*/50, /*wait_seconds=*/10);  // several pages per pull
    OpenStore();
    now_ = std::chrono::duration_cast<seconds>(clock_.WallNow().time_since_epoch()).count();
  }
  void TearDown() override {
    pollers_.reset();
    StopTenant();
  }

  // A fresh simulated tenant (its iterator's page size and wait_time) and a client for it.
  void StartTenant(int page_size, int wait_seconds) {
    StopTenant();
    tenantsim::SimulatorOptions options;
    options.tokens.push_back(tenantsim::FullAccessToken(kToken, tenantsim::TokenApi::kV2));
    options.iterator_page_size = page_size;
    options.iterator_wait_seconds = wait_seconds;
    sim_ = std::make_unique<tenantsim::TenantSimulator>(options, clock_);
    ASSERT_TRUE(sim_->Start("127.0.0.1", 0).ok());
    limiter_ = std::make_shared<netskope::TenantRateLimiter>(clock_, netskope::TenantRateLimits{});
    netskope::NetskopeClientOptions co;
    co.tenant = "acme";
    co.base_url = sim_->url();
    co.v2_token = SecretString(kToken);
    client_ =
        std::make_shared<netskope::NetskopeClient>(co, *transport_, clock_, random_, limiter_);
  }
  void StopTenant() {
    if (client_) client_->Shutdown();
    if (sim_) sim_->Stop();
  }

  void OpenStore() {
    store::SqliteStoreOptions so;
    so.path = dir_.File("poller.db");
    auto opened = store::SqliteIndicatorStore::Open(so);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    store_ = std::move(opened).value();
  }

  NetskopePollerSpec Spec(bool hashes = true, bool urls = true, int days = 7) {
    NetskopePollerSpec s;
    s.plugin = kPlugin;
    s.tenant_name = "acme.goskope.com";
    s.hashes = hashes;
    s.urls = urls;
    s.initial_range_days = days;
    s.poll_interval = std::chrono::minutes(5);
    s.policy.aging_days = 30;
    s.policy.override_reputation = 8;
    s.client = client_;
    return s;
  }

  void Start(const NetskopePollerSpec& spec) {
    pollers_ = std::make_unique<NetskopePollers>(*store_, clock_, random_);
    pollers_->Ensure(spec);
  }

  // Seeds one malware alert with its own md5 and one malsite alert, `offset` seconds from now.
  void SeedPair(int i, int64_t offset) {
    char md5[33];
    std::snprintf(md5, sizeof(md5), "%032x", i);
    sim_->SeedAlerts("malware", {json{{"timestamp", now_ + offset}, {"md5", md5}}});
    sim_->SeedAlerts("malsite", {json{{"timestamp", now_ + offset},
                                      {"url", "http://m" + std::to_string(i) + ".example/"},
                                      {"malsite_category", {"Phishing"}}}});
  }

  int64_t Count(IndicatorType type) {
    store::IndicatorQuery q;
    q.namespace_name = kPlugin.namespace_name;
    q.sources = {kPlugin.name};
    q.types = {type};
    q.limit = 0;
    auto n = store_->Count(q);
    return n.ok() ? *n : -1;
  }

  // Advances the clock whenever every consumer waits on it, until `cond` holds (20 s real-time
  // deadline) or `max_simulated` has passed. Time never moves while a consumer works (a request
  // in flight, a commit), as if those took no time: a step taken then would make a request
  // arrive later than the limiter let it go, or let a wait_time pass unseen.
  template <typename F>
  bool DriveUntil(F cond, Duration max_simulated = hours(2)) {
    const int waiting =
        std::max<int>(1, pollers_ ? static_cast<int>(pollers_->Status(kPlugin).size()) : 0);
    auto deadline = std::chrono::steady_clock::now() + seconds(20);
    Duration moved{0};
    while (!cond()) {
      if (std::chrono::steady_clock::now() > deadline || moved > max_simulated) return false;
      if (clock_.waiters() >= waiting && clock_.due_waiters() == 0) {
        clock_.Advance(std::chrono::milliseconds(500));
        moved += std::chrono::milliseconds(500);
      } else {
        std::this_thread::yield();
      }
    }
    return true;
  }

  int CountRequests(int status) {
    int n = 0;
    const json log = sim_->RequestLog();
    for (const auto& e : log["requests"]) n += e["status"] == status ? 1 : 0;
    return n;
  }

  store::testing::TempDir dir_;
  SimulatedClock clock_;
  FixedRandom random_;
  std::unique_ptr<tenantsim::TenantSimulator> sim_;
  std::unique_ptr<store::SqliteIndicatorStore> store_;
  std::unique_ptr<http::HttpTransport> transport_ = http::NewSocketTransport();
  std::shared_ptr<netskope::TenantRateLimiter> limiter_;
  std::shared_ptr<netskope::NetskopeClient> client_;
  std::unique_ptr<NetskopePollers> pollers_;
  int64_t now_ = 0;
};

TEST_F(PollerTest, HistoricalPullCoversInitialRangeThenIncrementalFollows) {
  for (int i = 0; i < 60; ++i) SeedPair(i, -3 * kDay + i);  // inside 7 days: pulled
  SeedPair(1000, -10 * kDay);                               // outside: never pulled
  Start(Spec());
  ASSERT_TRUE(DriveUntil(
      [&] { return Count(IndicatorType::kMd5) == 60 && Count(IndicatorType::kUrl) == 60; }));

  // New alerts after enabling arrive through the incremental index.
  for (int i = 2000; i < 2005; ++i) SeedPair(i, 60);
  ASSERT_TRUE(DriveUntil([&] { return Count(IndicatorType::kMd5) == 65; }));
  ASSERT_TRUE(DriveUntil([&] { return Count(IndicatorType::kUrl) == 65; }));

  auto url = store_->Get(kPlugin, "http://m2001.example/", IndicatorType::kUrl);
  ASSERT_TRUE(url.ok() && url->has_value());
  EXPECT_EQ((*url)->comments, "acme.goskope.com - Phishing");
  EXPECT_EQ((*url)->reputation, 8) << "overrideReputation applied";
  ASSERT_TRUE((*url)->expires_at.has_value()) << "agingDays applied";
  EXPECT_FALSE(store_->Get(kPlugin, "http://m1000.example/", IndicatorType::kUrl)->has_value());

  EXPECT_EQ(CountRequests(429), 0) << "the client's limiter keeps within the tenant's limits";
  // One index per alert type and phase, named after the plugin.
  auto summary = transport_->Send({"GET", sim_->url() + "/__sim/alerts", {}, "", seconds(5)});
  ASSERT_TRUE(summary.ok());
  std::set<std::string> indexes;
  const json parsed = json::parse(summary->body);
  for (const auto& i : parsed["indexes"]) {
    indexes.insert(i["index"].get<std::string>());
  }
  EXPECT_EQ(indexes, (std::set<std::string>{"cte_team-a_acme-netskope_malware",
                                            "cte_team-a_acme-netskope_malware_historical",
                                            "cte_team-a_acme-netskope_malsite",
                                            "cte_team-a_acme-netskope_malsite_historical"}));
  auto statuses = pollers_->Status(kPlugin);
  ASSERT_EQ(statuses.size(), 2u);
  for (const auto& s : statuses) {
    EXPECT_EQ(s.phase, "incremental");
    EXPECT_TRUE(s.last_error.empty()) << s.last_error;
    EXPECT_TRUE(s.last_success.has_value());
  }
}

// Without wait_time and with small pages, the historical pull runs as fast as the client's limiter
// lets it: the tenant (which answers 429 past four requests a second per iterator endpoint and
// past its v2 budget) must never have to refuse one.
TEST_F(PollerTest, AFastPullStaysWithinTheTenantsRateLimit) {
  StartTenant(/*page_size=*/10, /*wait_seconds=*/0);
  for (int i = 0; i < 200; ++i) SeedPair(i, -3 * kDay + i);
  Start(Spec());
  ASSERT_TRUE(DriveUntil(
      [&] { return Count(IndicatorType::kMd5) == 200 && Count(IndicatorType::kUrl) == 200; }));
  EXPECT_EQ(CountRequests(429), 0);
  // Twenty pages per endpoint.
  std::map<std::string, int> per_endpoint;
  const json log = sim_->RequestLog();
  for (const auto& e : log["requests"]) ++per_endpoint[e["endpoint"].get<std::string>()];
  ASSERT_EQ(per_endpoint.size(), 2u) << log.dump();
  for (const auto& [endpoint, n] : per_endpoint) EXPECT_GE(n, 20) << endpoint;
  // Within any one second (on the simulated clock) the tenant saw at most four requests (its
  // v2 budget, shared by both iterator endpoints), and at some point exactly four: the limiter,
  // not the pacing of the test, set the pace.
  auto busiest = [&](const std::string& endpoint) {
    std::vector<double> times;
    for (const auto& e : log["requests"]) {
      if (endpoint.empty() || e["endpoint"] == endpoint) times.push_back(e["time"].get<double>());
    }
    size_t most = 0;
    for (size_t a = 0, b = 0; b < times.size(); ++b) {
      while (times[b] - times[a] >= 1.0) ++a;
      most = std::max(most, b - a + 1);
    }
    return most;
  };
  EXPECT_EQ(busiest(""), 4u);
  for (const auto& [endpoint, n] : per_endpoint) EXPECT_LE(busiest(endpoint), 4u) << endpoint;
}

// The connection dies after the tenant handed out a page (its iterator moved on) and before the
// poller stored it: the poller asks for that page again with `resend` and loses nothing (a
// `next` would skip it).
TEST_F(PollerTest, APageLostInFlightIsFetchedAgainWithResend) {
  for (int i = 0; i < 50; ++i) SeedPair(i, -kDay + i);  // one full page, and nothing more
  Start(Spec());
  // The first page is stored and, as it was the last, the tenant asked for its wait_time: the
  // consumer waits on the simulated clock, so the alerts and the fault below meet its `next`.
  ASSERT_TRUE(DriveUntil([&] { return Count(IndicatorType::kMd5) >= 50; }));
  for (int i = 50; i < 120; ++i) SeedPair(i, -kDay + 100 + i);  // pages of 50 and 20
  tenantsim::Fault fault;
  fault.path = "/api/v2/events/dataexport/alerts/malware";
  fault.kind = tenantsim::Fault::Kind::kResetAfter;
  fault.count = 1;
  sim_->AddFault(fault);
  ASSERT_TRUE(DriveUntil(
      [&] { return Count(IndicatorType::kMd5) == 120 && Count(IndicatorType::kUrl) == 120; }));
  for (int i = 0; i < 120; ++i) {
    char md5[33];
    std::snprintf(md5, sizeof(md5), "%032x", i);
    EXPECT_TRUE(store_->Get(kPlugin, md5, IndicatorType::kMd5)->has_value()) << md5;
  }
  // The request whose answer was lost, then the resend that recovered it.
  std::vector<std::string> after_reset;
  bool reset = false;
  const json log = sim_->RequestLog();
  for (const auto& e : log["requests"]) {
    if (e["path"] != "/api/v2/events/dataexport/alerts/malware") continue;
    if (reset) after_reset.push_back(e["operation"].get<std::string>());
    if (e["fault"] == "reset-after") {
      EXPECT_EQ(e["operation"], "next");
      reset = true;
    }
  }
  ASSERT_TRUE(reset) << log.dump();
  ASSERT_FALSE(after_reset.empty());
  EXPECT_EQ(after_reset.front(), "resend");
}

TEST_F(PollerTest, ThreatDataTypeChoosesTheConsumers) {
  SeedPair(1, -kDay);
  Start(Spec(/*hashes=*/false, /*urls=*/true));
  ASSERT_TRUE(DriveUntil([&] { return Count(IndicatorType::kUrl) == 1; }));
  EXPECT_EQ(pollers_->Status(kPlugin).size(), 1u);
  EXPECT_EQ(Count(IndicatorType::kMd5), 0);
  const json log = sim_->RequestLog();
  for (const auto& e : log["requests"]) {
    EXPECT_EQ(e["path"].get<std::string>().find("/malware"), std::string::npos)
        << "no malware consumer for threatDataType URL";
  }
}

TEST_F(PollerTest, ZeroInitialRangeSkipsHistory) {
  SeedPair(1, -kDay);
  Start(Spec(true, true, /*days=*/0));
  SeedPair(2, 30);
  ASSERT_TRUE(DriveUntil([&] { return Count(IndicatorType::kMd5) == 1; }));
  char md5[33];
  std::snprintf(md5, sizeof(md5), "%032x", 2);
  EXPECT_TRUE(store_->Get(kPlugin, md5, IndicatorType::kMd5)->has_value());
}

TEST_F(PollerTest, RestartResumesFromTheStoredProgressWithoutLosingAlerts) {
  for (int i = 0; i < 120; ++i) SeedPair(i, -kDay + i);
  Start(Spec());
  // Every alert stored and both historical pulls finished (the page after the last one says so).
  auto history_done = [&](netskope::AlertType type) {
    auto c = store_->GetCheckpoint(PollerCheckpointKey(kPlugin, "acme.goskope.com", type));
    return c.ok() && c->has_value() && (*c)->find("\"done\":true") != std::string::npos;
  };
  ASSERT_TRUE(DriveUntil([&] {
    return Count(IndicatorType::kMd5) == 120 && Count(IndicatorType::kUrl) == 120 &&
           history_done(netskope::AlertType::kMalware) &&
           history_done(netskope::AlertType::kMalsite);
  }));

  // Stop (as a restart would), add alerts meanwhile, start again from a reopened store.
  pollers_.reset();
  for (int i = 500; i < 530; ++i) SeedPair(i, 100 + i);
  store_.reset();
  OpenStore();
  sim_->ClearRequestLog();
  Start(Spec());
  ASSERT_TRUE(DriveUntil([&] { return Count(IndicatorType::kMd5) == 150; }));
  ASSERT_TRUE(DriveUntil([&] { return Count(IndicatorType::kUrl) == 150; }));
  // Resumed indexes answer (resend, then next); the historical pull did not run again, which
  // the alert count below shows (it would bring back the 120 old alerts per type).
  const json log = sim_->RequestLog();
  for (const auto& e : log["requests"]) {
    EXPECT_EQ(e["status"], 200) << e.dump();
  }
  auto statuses = pollers_->Status(kPlugin);
  int64_t alerts = 0;
  for (const auto& s : statuses) alerts += s.alerts;
  // 30 new alerts per type, plus at most the one page each that resend hands back again.
  EXPECT_LE(alerts, 2 * (30 + 50));
}

// Progress belongs to the tenant it was made on: a plugin pointed at another tenant pulls that
// tenant's history instead of resuming at the old tenant's high-water mark.
TEST_F(PollerTest, APluginMovedToAnotherTenantPullsThatTenantsHistory) {
  for (int i = 0; i < 10; ++i) SeedPair(i, -kDay + i);
  Start(Spec());
  ASSERT_TRUE(DriveUntil([&] { return Count(IndicatorType::kMd5) == 10; }));
  for (int i = 0; i < 10; ++i) SeedPair(100 + i, 60 + i);  // the old tenant's stream moves on
  ASSERT_TRUE(DriveUntil(
      [&] { return Count(IndicatorType::kMd5) == 20 && Count(IndicatorType::kUrl) == 20; }));

  pollers_.reset();
  StartTenant(/*page_size=*/50, /*wait_seconds=*/10);
  for (int i = 0; i < 10; ++i) SeedPair(200 + i, -2 * kDay + i);  // older than the old mark
  NetskopePollerSpec moved = Spec();
  moved.tenant_name = "beta.goskope.com";
  Start(moved);
  ASSERT_TRUE(DriveUntil([&] { return Count(IndicatorType::kMd5) == 30; }));
  ASSERT_TRUE(DriveUntil([&] { return Count(IndicatorType::kUrl) == 30; }));
  auto url = store_->Get(kPlugin, "http://m205.example/", IndicatorType::kUrl);
  ASSERT_TRUE(url.ok() && url->has_value());
  EXPECT_EQ((*url)->comments, "beta.goskope.com - Phishing");
  auto old = store_->GetCheckpoint(
      PollerCheckpointKey(kPlugin, "acme.goskope.com", netskope::AlertType::kMalware));
  ASSERT_TRUE(old.ok() && old->has_value()) << "the old tenant's progress is kept";
}

// A store written before checkpoint keys named the tenant host: the old progress is taken over
// (no second historical pull), once; a mark keeps a later tenant move from taking it again, and
// the old key stays as it was for a rollback.
TEST_F(PollerTest, ProgressUnderTheOldKeyIsTakenOverOnce) {
  const std::string legacy = "netskope-poller/" + kPlugin.Key() + "/malware";
  const std::string progress =
      json{{"enabledAt", now_},
           {"historical", {{"started", true}, {"done", true}, {"hwm", now_}}},
           {"incremental", {{"started", false}, {"done", false}, {"hwm", 0}}}}
          .dump();
  ASSERT_TRUE(store_->Commit(store::WriteBatch().Add(store::PutCheckpoint{legacy, progress})).ok());
  SeedPair(1, -kDay);  // history, already pulled before the upgrade
  SeedPair(2, 60);     // after enabledAt: the incremental pull's
  Start(Spec(/*hashes=*/true, /*urls=*/false));
  ASSERT_TRUE(DriveUntil([&] { return Count(IndicatorType::kMd5) == 1; }));
  char md5[33];
  std::snprintf(md5, sizeof(md5), "%032x", 2);
  EXPECT_TRUE(store_->Get(kPlugin, md5, IndicatorType::kMd5)->has_value());
  // No historical index was ever started on the tenant.
  auto summary = transport_->Send({"GET", sim_->url() + "/__sim/alerts", {}, "", seconds(5)});
  ASSERT_TRUE(summary.ok());
  const json parsed = json::parse(summary->body);
  ASSERT_FALSE(parsed["indexes"].empty());
  for (const auto& i : parsed["indexes"]) {
    EXPECT_EQ(i["index"].get<std::string>().find("historical"), std::string::npos) << i.dump();
  }
  auto moved = store_->GetCheckpoint(
      PollerCheckpointKey(kPlugin, "acme.goskope.com", netskope::AlertType::kMalware));
  ASSERT_TRUE(moved.ok() && moved->has_value());
  EXPECT_EQ(json::parse(**moved)["enabledAt"], now_);
  EXPECT_EQ(store_->GetCheckpoint(legacy)->value_or("gone"), progress) << "kept for a rollback";

  // Moved to another tenant later: a first enable there (history included), not the old mark.
  pollers_.reset();
  StartTenant(/*page_size=*/50, /*wait_seconds=*/10);
  SeedPair(3, -kDay);
  NetskopePollerSpec on_beta = Spec(/*hashes=*/true, /*urls=*/false);
  on_beta.tenant_name = "beta.goskope.com";
  Start(on_beta);
  // Alert 3 is a day old: only a historical pull brings it (the old progress says history done).
  ASSERT_TRUE(DriveUntil([&] { return Count(IndicatorType::kMd5) == 2; }));
}

// Progress under the old key that cannot be read does not block polling: it starts afresh
// (the day-old alert comes with the historical pull of a first enable).
TEST_F(PollerTest, UnreadableProgressUnderTheOldKeyStartsAfresh) {
  const std::string legacy = "netskope-poller/" + kPlugin.Key() + "/malware";
  ASSERT_TRUE(
      store_->Commit(store::WriteBatch().Add(store::PutCheckpoint{legacy, "{broken"})).ok());
  SeedPair(1, -kDay);
  Start(Spec(/*hashes=*/true, /*urls=*/false));
  ASSERT_TRUE(DriveUntil([&] { return Count(IndicatorType::kMd5) == 1; }));
}

TEST_F(PollerTest, TenantErrorsAreRetriedAndReported) {
  SeedPair(1, -kDay);
  tenantsim::Fault fault;
  fault.path = "/api/v2/events/dataexport/alerts/*";
  fault.kind = tenantsim::Fault::Kind::kStatus;
  fault.status = 401;
  fault.body = R"({"status":"error","message":"Invalid token"})";
  fault.count = 2;
  sim_->AddFault(fault);
  Start(Spec());
  ASSERT_TRUE(DriveUntil(
      [&] {
        for (const auto& s : pollers_->Status(kPlugin)) {
          if (!s.last_error.empty()) return true;
        }
        return false;
      },
      hours(1)));
  // After the fault clears, polling recovers on its own (after the longer token-error pause).
  ASSERT_TRUE(
      DriveUntil([&] { return Count(IndicatorType::kMd5) == 1 && Count(IndicatorType::kUrl) == 1; },
                 hours(1)));
}

// Moves the clock by `total` in `step`s, only while both consumers sleep on it (and no woken one
// is still on its way out of a wait), then returns the times (on the simulator's clock) of the
// requests to each iterator endpoint.
std::map<std::string, std::vector<double>> DriveAndCollect(SimulatedClock& clock,
                                                           tenantsim::TenantSimulator& sim,
                                                           Duration total, Duration step) {
  auto start = std::chrono::steady_clock::now();
  Duration moved{0};
  while (moved < total && std::chrono::steady_clock::now() - start < seconds(20)) {
    if (clock.waiters() == 2 && clock.due_waiters() == 0) {
      clock.Advance(step);
      moved += step;
    } else {
      std::this_thread::yield();
    }
  }
  EXPECT_GE(moved, total);
  const json log = sim.RequestLog();
  std::map<std::string, std::vector<double>> times;
  for (const auto& e : log["requests"]) {
    times[e["endpoint"].get<std::string>()].push_back(e["time"].get<double>());
  }
  return times;
}

// Once caught up, a consumer asks again only after the poll interval: it keeps polling, and never
// sooner than five minutes after its last request.
TEST_F(PollerTest, CaughtUpConsumersWaitThePollIntervalBetweenRequests) {
  Start(Spec(true, true, /*days=*/0));
  auto times = DriveAndCollect(clock_, *sim_, hours(1), seconds(10));
  ASSERT_EQ(times.size(), 2u);
  for (const auto& [endpoint, t] : times) {
    EXPECT_GE(t.size(), 11u) << endpoint << " " << ::testing::PrintToString(t);
    for (size_t i = 1; i < t.size(); ++i) {
      EXPECT_GE(t[i] - t[i - 1], 300) << endpoint << " " << ::testing::PrintToString(t);
    }
  }
}

// With a poll interval shorter than the tenant's wait_time (10 s here), the wait_time wins.
TEST_F(PollerTest, TheTenantsWaitTimeIsHonoured) {
  NetskopePollerSpec spec = Spec(true, true, /*days=*/0);
  spec.poll_interval = seconds(1);
  Start(spec);
  auto times = DriveAndCollect(clock_, *sim_, std::chrono::minutes(5), seconds(1));
  ASSERT_EQ(times.size(), 2u);
  for (const auto& [endpoint, t] : times) {
    EXPECT_GE(t.size(), 25u) << endpoint << " " << ::testing::PrintToString(t);
    for (size_t i = 1; i < t.size(); ++i) {
      EXPECT_GE(t[i] - t[i - 1], 10) << endpoint << " " << ::testing::PrintToString(t);
    }
  }
}

TEST_F(PollerTest, StopEndsPollingPromptly) {
  Start(Spec());
  ASSERT_TRUE(DriveUntil([&] { return clock_.waiters() > 0; }));
  pollers_->Stop(kPlugin);
  EXPECT_TRUE(pollers_->Status(kPlugin).empty());
}

// The tenant's budget is paused for an hour (as after a 429 with a long Retry-After): stopping
// the plugin's polling ends the consumers' waits for the limiter instead of outlasting the pause.
TEST_F(PollerTest, StopDoesNotWaitOutAPausedRateLimit) {
  SeedPair(1, -kDay);
  limiter_->PauseFor(netskope::Bucket::kV2, hours(1));
  Start(Spec());
  const auto deadline = std::chrono::steady_clock::now() + seconds(20);
  while (clock_.waiters() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_EQ(clock_.waiters(), 2) << "both consumers wait for the limiter";
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    pollers_->Stop(kPlugin);
    stopped = true;
  });
  while (!stopped && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  const bool prompt = stopped;
  if (!prompt) clock_.Advance(hours(2));  // let a broken stop finish instead of hanging
  stopper.join();
  EXPECT_TRUE(prompt) << "Stop waited for the limiter's pause";
  EXPECT_EQ(sim_->RequestLog()["requests"].size(), 0u);
}

// Leadership ends (StopAll) while a reconcile is restarting a plugin's polling and still waiting
// for the old consumer, whose request the tenant holds: the restart must not start new consumers
// after StopAll has returned.
TEST_F(PollerTest, StopAllWinsOverARestartUnderWay) {
  tenantsim::Fault fault;
  fault.path = "/api/v2/events/dataexport/alerts/malware";
  fault.kind = tenantsim::Fault::Kind::kLatency;
  fault.latency = hours(1);  // on the simulated clock: held until the test moves it
  fault.count = 1;
  sim_->AddFault(fault);
  Start(Spec(/*hashes=*/true, /*urls=*/false));
  const auto deadline = std::chrono::steady_clock::now() + seconds(20);
  // The only wait on the clock before the consumer's first answer is the tenant holding it.
  while (clock_.waiters() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_EQ(clock_.waiters(), 1);
  std::thread restart([&] { pollers_->Ensure(Spec(/*hashes=*/true, /*urls=*/false, 3)); });
  // The restart has taken the old consumers out and waits for them.
  while (!pollers_->Status(kPlugin).empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_TRUE(pollers_->Status(kPlugin).empty());
  pollers_->StopAll();
  clock_.Advance(hours(1));  // the tenant answers; the old consumer sees it must stop
  restart.join();
  EXPECT_TRUE(pollers_->Status(kPlugin).empty()) << "a consumer started after StopAll";
}

TEST_F(PollerTest, EnsureWithTheSameSpecKeepsTheConsumersAndAChangedOneRestartsThem) {
  Start(Spec(true, false));
  EXPECT_EQ(pollers_->Status(kPlugin).size(), 1u);
  pollers_->Ensure(Spec(true, false));
  EXPECT_EQ(pollers_->Status(kPlugin).size(), 1u);
  pollers_->Ensure(Spec(true, true));
  EXPECT_EQ(pollers_->Status(kPlugin).size(), 2u);
}

}  // namespace
}  // namespace cte::sources
