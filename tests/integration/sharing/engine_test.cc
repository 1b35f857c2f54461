// The sharing engine end to end below the controllers: the real SQLite store, the real tenant
// client (cpprestsdk) and the tenant simulator on 127.0.0.1:0. What a user would see on the
// tenant (the lists as deployed), and what the tenant was sent (the simulator's request log).
#include "operator/sharing/engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "hack/tenant-simulator/tenant_simulator.h"
#include "operator/netskope/netskope_client.h"
#include "operator/netskope/transport_options.h"
#include "operator/store/sqlite_store.h"
#include "tests/unit/store/store_test_support.h"

extern "C" const char* __lsan_default_suppressions() { return "leak:libcrypto.so\n"; }

namespace cte::sharing {
namespace {

using nlohmann::json;
using store::testing::Ind;
using State = SyncOutcome::State;

constexpr const char* kV1 = "engine-v1-token";
constexpr const char* kV2 = "engine-v2-token";
const std::string kTenant = "team-a/acme";
const store::SourceRef kFeed{"team-a", "feed"};

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tenantsim::SimulatorOptions o;
    o.tokens.push_back(tenantsim::FullAccessToken(kV1, tenantsim::TokenApi::kV1));
    o.tokens.push_back(tenantsim::FullAccessToken(kV2, tenantsim::TokenApi::kV2));
    o.file_hash_lists.push_back({"cte-hashes", {}});
    o.url_lists.push_back({"shared-list", "exact", {"admin.example"}});
    o.limits.v2_requests_per_second = 50;
    sim_ = std::make_unique<tenantsim::TenantSimulator>(o, clock_);
    ASSERT_TRUE(sim_->Start("127.0.0.1", 0).ok());
    transport_ = netskope::NewTenantTransport({});
    client_ = MakeClient();
    auto opened = store::SqliteIndicatorStore::Open({dir_.File("indicators.db")});
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
    engine_ = std::make_unique<SharingEngine>(*store_, clock_, NullLogger());
    everything_ = std::make_shared<const CompiledRule>(*CompiledRule::Compile({}));
  }
  void TearDown() override { sim_->Stop(); }

  void Push(std::vector<store::Indicator> rows) {
    const WallTime now = clock_.WallNow();
    for (auto& r : rows) {
      r.last_seen = now;
      r.first_seen = now;
    }
    store::WriteBatch b;
    b.Add(store::UpsertIndicators{std::move(rows), now});
    ASSERT_TRUE(store_->Commit(std::move(b)).ok());
  }

  // The source retracts `value` (PATCH retracted: true on the ingest API).
  void Retract(const std::string& value) {
    store::WriteBatch b;
    store::UpdateIndicators u;
    u.source = kFeed;
    u.value = value;
    u.update.retracted = true;
    u.now = clock_.WallNow();
    b.Add(u);
    ASSERT_TRUE(store_->Commit(std::move(b)).ok());
  }

  ResolvedSharing Config(const std::string& name, const std::string& list,
                         store::ListKind kind = store::ListKind::kUrlList) {
    ResolvedSharing c;
    c.key = "team-a/" + name;
    c.generation = 1;
    c.creation_timestamp = "2026-01-01T00:00:00Z";
    c.uid = "uid-" + name;
    c.target = {kTenant, kind, list};
    c.source = kFeed;
    c.rule = everything_;
    c.caps = kind == store::ListKind::kUrlList ? ListCaps{} : ListCaps{kMaxListEntries, 8u << 20};
    return c;
  }

  SyncOutcome Cycle(std::vector<ResolvedSharing> configs) {
    std::string key = configs.front().key;
    engine_->RunCycle(kTenant, *client_, std::move(configs));
    return *engine_->Outcome(key);
  }

  // The deployed content of a URL list (what takes effect on the tenant).
  std::vector<std::string> Deployed(const std::string& name) {
    const json snapshot = sim_->UrlListsSnapshot();  // named: a temporary's element would dangle
    for (const auto& l : snapshot["urlLists"]) {
      if (l["name"] == name && !l["deleted"].get<bool>() && !l["applied"].is_null()) {
        return Sorted(l["applied"]["urls"].get<std::vector<std::string>>());
      }
    }
    return {"<missing>"};
  }
  int Requests(const std::string& endpoint) {
    const json log = sim_->RequestLog();
    int n = 0;
    for (const auto& e : log["requests"]) n += e["endpoint"] == endpoint;
    return n;
  }
  int Writes() {
    const json log = sim_->RequestLog();
    int n = 0;
    for (const auto& e : log["requests"]) {
      n += e["method"] != "GET" && e["status"].get<int>() / 100 == 2;
    }
    return n;
  }

  RealClock clock_;
  RealRandom random_;
  store::testing::TempDir dir_;
  std::unique_ptr<tenantsim::TenantSimulator> sim_;
  std::unique_ptr<http::HttpTransport> transport_;
  std::unique_ptr<netskope::NetskopeClient> client_;

  // A client of the simulator; max_attempts 1 for a failure the test wants at once (the
  // default retries back off for seconds of real time).
  std::unique_ptr<netskope::NetskopeClient> MakeClient(int max_attempts = 4) {
    netskope::TenantRateLimits limits;
    limits.v2.requests = 50;
    netskope::NetskopeClientOptions co;
    co.tenant = "acme";
    co.base_url = sim_->url();
    co.v1_token = SecretString(kV1);
    co.v2_token = SecretString(kV2);
    co.retry.max_attempts = max_attempts;
    return std::make_unique<netskope::NetskopeClient>(
        co, *transport_, clock_, random_,
        std::make_shared<netskope::TenantRateLimiter>(clock_, limits));
  }
  std::unique_ptr<store::SqliteIndicatorStore> store_;
  std::unique_ptr<SharingEngine> engine_;
  std::shared_ptr<const CompiledRule> everything_;
};

const char* kDeploy = "POST /api/v2/policy/urllist/deploy";
const char* kPatch = "PATCH /api/v2/policy/urllist/{id}/{action}";

TEST_F(EngineTest, AFirstSyncCreatesTheListAndDeploysOnceThenAnUnchangedListCostsOneRead) {
  Push({Ind("a.example", store::IndicatorType::kUrl, kFeed),
        Ind("10.1.2.3", store::IndicatorType::kIpv4, kFeed),
        Ind(std::string(32, 'a'), store::IndicatorType::kMd5, kFeed)});
  SyncOutcome out = Cycle({Config("to-urls", "cte-malsites")});
  EXPECT_EQ(out.state, State::kSynced) << out.message;
  EXPECT_EQ(Deployed("cte-malsites"), (std::vector<std::string>{"10.1.2.3", "a.example"}));
  EXPECT_EQ(Requests(kDeploy), 1);
  EXPECT_EQ(out.result.owned, 2u);
  EXPECT_TRUE(out.last_write.has_value());

  sim_->ClearRequestLog();
  out = Cycle({Config("to-urls", "cte-malsites")});
  EXPECT_EQ(out.state, State::kSynced);
  EXPECT_EQ(Writes(), 0) << sim_->RequestLog().dump();
  EXPECT_EQ(out.result.action, ListChange::Action::kNone);
  // The list is read by the id of the last sync: no listing to find it by name again.
  EXPECT_EQ(sim_->RequestLog()["requests"].size(), 1u) << sim_->RequestLog().dump();
  EXPECT_EQ(Requests("GET /api/v2/policy/urllist/{id}"), 1);
}

TEST_F(EngineTest, AListDeletedOnTheTenantIsFoundMissingAndCreatedAgain) {
  Push({Ind("a.example", store::IndicatorType::kUrl, kFeed)});
  SyncOutcome out = Cycle({Config("to-urls", "cte-malsites")});
  ASSERT_EQ(out.state, State::kSynced) << out.message;
  ASSERT_TRUE(out.result.list_id.has_value());
  const int64_t first_id = *out.result.list_id;
  // An administrator deletes the list (and deploys): the id the engine knows is gone.
  ASSERT_TRUE(client_->DeleteUrlList(first_id).ok());
  ASSERT_TRUE(client_->DeployUrlLists().ok());
  ASSERT_EQ(Deployed("cte-malsites"), (std::vector<std::string>{"<missing>"}));

  out = Cycle({Config("to-urls", "cte-malsites")});
  EXPECT_EQ(out.state, State::kSynced) << out.message;
  EXPECT_EQ(Deployed("cte-malsites"), (std::vector<std::string>{"a.example"}));
  ASSERT_TRUE(out.result.list_id.has_value());
  EXPECT_NE(*out.result.list_id, first_id);
}

TEST_F(EngineTest, NewIndicatorsAreAppendedAloneAndWithdrawnOnesReplaced) {
  Push({Ind("a.example", store::IndicatorType::kUrl, kFeed)});
  Cycle({Config("to-urls", "cte-malsites")});
  sim_->ClearRequestLog();
  Push({Ind("b.example", store::IndicatorType::kUrl, kFeed)});
  SyncOutcome out = Cycle({Config("to-urls", "cte-malsites")});
  EXPECT_EQ(out.result.action, ListChange::Action::kAppend);
  const json patches = sim_->RequestLog()["requests"];
  int appends = 0;
  for (const auto& e : patches) {
    if (e["endpoint"] == kPatch) {
      ++appends;
      EXPECT_NE(e["path"].get<std::string>().find("/append"), std::string::npos);
      EXPECT_LT(e["requestBytes"].get<int>(), 200);  // only the new entry travelled
    }
  }
  EXPECT_EQ(appends, 1);
  EXPECT_EQ(Deployed("cte-malsites"), (std::vector<std::string>{"a.example", "b.example"}));

  // The source retracts one: it leaves the list.
  Retract("a.example");
  out = Cycle({Config("to-urls", "cte-malsites")});
  EXPECT_EQ(out.result.action, ListChange::Action::kReplace);
  EXPECT_EQ(Deployed("cte-malsites"), std::vector<std::string>{"b.example"});
}

TEST_F(EngineTest, SharedOwnershipKeepsAnAdministratorsEntryAndExclusiveRemovesIt) {
  Push({Ind("ours.example", store::IndicatorType::kUrl, kFeed)});
  ResolvedSharing c = Config("to-shared", "shared-list");
  EXPECT_EQ(Cycle({c}).state, State::kSynced);
  EXPECT_EQ(Deployed("shared-list"), (std::vector<std::string>{"admin.example", "ours.example"}));
  c.ownership = api::Ownership::kExclusive;
  c.generation = 2;
  EXPECT_EQ(Cycle({c}).state, State::kSynced);
  EXPECT_EQ(Deployed("shared-list"), std::vector<std::string>{"ours.example"});
}

TEST_F(EngineTest, ARuleChangeRemovesWhatNoLongerMatches) {
  store::Indicator high = Ind("high.example", store::IndicatorType::kUrl, kFeed);
  high.reputation = 9;
  store::Indicator low = Ind("low.example", store::IndicatorType::kUrl, kFeed);
  low.reputation = 2;
  Push({high, low});
  ResolvedSharing c = Config("to-urls", "cte-malsites");
  Cycle({c});
  EXPECT_EQ(Deployed("cte-malsites"), (std::vector<std::string>{"high.example", "low.example"}));
  auto spec = api::BusinessRuleSpec::FromJson(
      json::parse(
          R"({"filter":{"all":[{"field":"reputation","operator":"GreaterThan","value":5}]}})"),
      "spec");
  c.rule = std::make_shared<const CompiledRule>(*CompiledRule::Compile(*spec));
  c.generation = 2;
  Cycle({c});
  EXPECT_EQ(Deployed("cte-malsites"), std::vector<std::string>{"high.example"});
}

TEST_F(EngineTest, AnEntryTheTenantRefusesIsMarkedInvalidAndNeverSentAgain) {
  Push({Ind("good.example", store::IndicatorType::kUrl, kFeed),
        Ind("2001:db8::1", store::IndicatorType::kIpv6, kFeed)});  // the tenant refuses IPv6
  SyncOutcome out = Cycle({Config("to-urls", "cte-malsites")});
  EXPECT_EQ(out.state, State::kSynced) << out.message;
  EXPECT_EQ(out.result.rejected, 1u);
  EXPECT_EQ(Deployed("cte-malsites"), std::vector<std::string>{"good.example"});
  auto row = store_->Get(kFeed, "2001:db8::1", store::IndicatorType::kIpv6);
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_TRUE((*row)->invalid_at.has_value());
  sim_->ClearRequestLog();
  out = Cycle({Config("to-urls", "cte-malsites")});
  EXPECT_EQ(Writes(), 0);
  EXPECT_EQ(out.result.invalid, 1u);
}

// An append the tenant partly refuses: the ledger claimed the refused entry before the write
// (write-ahead) and must not keep it, or it would pass for ours on the list.
TEST_F(EngineTest, AnEntryRefusedOnAppendLeavesTheLedger) {
  Push({Ind("good.example", store::IndicatorType::kUrl, kFeed)});
  ResolvedSharing c = Config("to-urls", "cte-malsites");
  ASSERT_EQ(Cycle({c}).state, State::kSynced);
  Push({Ind("2001:db8::2", store::IndicatorType::kIpv6, kFeed)});  // the tenant refuses IPv6
  SyncOutcome out = Cycle({c});
  EXPECT_EQ(out.state, State::kSynced) << out.message;
  EXPECT_EQ(out.result.rejected, 1u);
  auto ledger = store_->GetLedger(c.target);
  ASSERT_TRUE(ledger.ok() && ledger->has_value());
  EXPECT_EQ((*ledger)->entries, std::vector<std::string>{"good.example"});
}

TEST_F(EngineTest, FileHashListsUseTheLedgerForWhatTheTenantCannotReadBack) {
  Push({Ind(std::string(32, 'a'), store::IndicatorType::kMd5, kFeed),
        Ind(std::string(64, 'b'), store::IndicatorType::kSha256, kFeed),
        Ind("not-a-hash.example", store::IndicatorType::kUrl, kFeed)});
  ResolvedSharing c = Config("to-hashes", "cte-hashes", store::ListKind::kFileHashList);
  SyncOutcome out = Cycle({c});
  EXPECT_EQ(out.state, State::kSynced) << out.message;
  auto lists = sim_->FileHashListsSnapshot()["fileHashLists"];
  ASSERT_EQ(lists.size(), 1u);
  EXPECT_EQ(Sorted(lists[0]["hashes"].get<std::vector<std::string>>()),
            (std::vector<std::string>{std::string(32, 'a'), std::string(64, 'b')}));
  sim_->ClearRequestLog();
  Cycle({c});
  EXPECT_EQ(Writes(), 0);  // the ledger says the list already holds exactly this

  c.deleting = true;  // deletionPolicy Retract
  out = Cycle({c});
  EXPECT_EQ(out.state, State::kFinalized);
  lists = sim_->FileHashListsSnapshot()["fileHashLists"];
  EXPECT_EQ(lists[0]["hashes"], json::array({kPlaceholderFileHash}));
  auto ledger = store_->GetLedger(c.target);
  ASSERT_TRUE(ledger.ok());
  EXPECT_FALSE(ledger->has_value());
}

TEST_F(EngineTest, TwoConfigurationsOnOneListTheLaterGetsAConflict) {
  Push({Ind("a.example", store::IndicatorType::kUrl, kFeed)});
  ResolvedSharing first = Config("first", "cte-malsites");
  ResolvedSharing second = Config("second", "cte-malsites");
  second.creation_timestamp = "2026-02-01T00:00:00Z";
  engine_->RunCycle(kTenant, *client_, {second, first});
  EXPECT_EQ(engine_->Outcome("team-a/first")->state, State::kSynced);
  auto lost = *engine_->Outcome("team-a/second");
  EXPECT_EQ(lost.state, State::kConflict);
  EXPECT_EQ(lost.conflict_with, "team-a/first");
}

TEST_F(EngineTest, RetractTakesBackOnlyOurEntriesAndDeploys) {
  Push({Ind("ours.example", store::IndicatorType::kUrl, kFeed)});
  ResolvedSharing c = Config("to-shared", "shared-list");
  Cycle({c});
  sim_->ClearRequestLog();
  c.deleting = true;
  SyncOutcome out = Cycle({c});
  EXPECT_EQ(out.state, State::kFinalized) << out.message;
  EXPECT_EQ(Deployed("shared-list"), std::vector<std::string>{"admin.example"});
  EXPECT_EQ(Requests(kDeploy), 1);
}

TEST_F(EngineTest, WhatDoesNotFitIsCountedAndTheNewestAreKept) {
  std::vector<store::Indicator> rows;
  for (int i = 0; i < 5; ++i) {
    rows.push_back(Ind("h" + std::to_string(i) + ".example", store::IndicatorType::kUrl, kFeed));
  }
  Push(rows);
  ResolvedSharing c = Config("to-urls", "cte-malsites");
  c.caps.max_entries = 3;
  SyncOutcome out = Cycle({c});
  EXPECT_EQ(out.result.matched, 5u);
  EXPECT_EQ(out.result.truncated, 2u);
  EXPECT_EQ(Deployed("cte-malsites").size(), 3u);
}

TEST_F(EngineTest, AWriteTheTenantAppliedButNeverAnsweredStaysOurs) {
  // The tenant applies an append whose answer never arrives (as when the operator is killed
  // while it is in flight): on the next sync its entry is still this configuration's, so when the
  // source withdraws it, Shared ownership takes it off instead of keeping it as an
  // administrator's.
  Push({Ind("a.example", store::IndicatorType::kUrl, kFeed)});
  ResolvedSharing c = Config("to-urls", "cte-malsites");
  ASSERT_EQ(Cycle({c}).state, State::kSynced);
  Push({Ind("b.example", store::IndicatorType::kUrl, kFeed)});
  tenantsim::Fault f;
  f.method = "PATCH";
  f.path = "/api/v2/policy/urllist/*";
  f.kind = tenantsim::Fault::Kind::kResetAfter;
  f.count = -1;
  sim_->AddFault(f);
  engine_->RunCycle(kTenant, *MakeClient(1), {c});
  EXPECT_EQ(engine_->Outcome(c.key)->state, State::kFailed);
  sim_->ClearFaults();

  SyncOutcome out = Cycle({c});
  ASSERT_EQ(out.state, State::kSynced) << out.message;
  EXPECT_EQ(out.result.owned, 2u);
  EXPECT_EQ(Deployed("cte-malsites"), (std::vector<std::string>{"a.example", "b.example"}));
  Retract("b.example");
  out = Cycle({c});
  EXPECT_EQ(out.state, State::kSynced) << out.message;
  EXPECT_EQ(Deployed("cte-malsites"), std::vector<std::string>{"a.example"});
}

TEST_F(EngineTest, SuspendedSendsNothingAndAFailedDeployIsRetried) {
  client_ = MakeClient(1);  // the next cycle retries the deploy, not the client
  Push({Ind("a.example", store::IndicatorType::kUrl, kFeed)});
  ResolvedSharing c = Config("to-urls", "cte-malsites");
  c.suspended = true;
  EXPECT_EQ(Cycle({c}).state, State::kSuspended);
  EXPECT_EQ(Writes(), 0);

  c.suspended = false;
  tenantsim::Fault f;
  f.method = "POST";
  f.path = "/api/v2/policy/urllist/deploy";
  f.status = 500;
  f.count = -1;
  sim_->AddFault(f);
  SyncOutcome out = Cycle({c});
  EXPECT_EQ(out.state, State::kFailed);
  EXPECT_TRUE(out.deploy_failed);
  sim_->ClearFaults();
  out = Cycle({c});
  EXPECT_EQ(out.state, State::kSynced) << out.message;
  EXPECT_EQ(Deployed("cte-malsites"), std::vector<std::string>{"a.example"});
}

TEST_F(EngineTest, ARetractionWhoseDeployFailedIsDeployedBeforeItFinishes) {
  client_ = MakeClient(1);  // the next cycle deploys again, not the client
  Push({Ind("ours.example", store::IndicatorType::kUrl, kFeed)});
  ResolvedSharing c = Config("to-shared", "shared-list");
  ASSERT_EQ(Cycle({c}).state, State::kSynced);
  c.deleting = true;
  tenantsim::Fault f;
  f.method = "POST";
  f.path = "/api/v2/policy/urllist/deploy";
  f.count = -1;
  sim_->AddFault(f);
  EXPECT_EQ(Cycle({c}).state, State::kFailed);  // staged, not in effect: not finished
  EXPECT_EQ(Deployed("shared-list"), (std::vector<std::string>{"admin.example", "ours.example"}));
  sim_->ClearFaults();
  SyncOutcome out = Cycle({c});
  EXPECT_EQ(out.state, State::kFinalized) << out.message;
  EXPECT_EQ(Deployed("shared-list"), std::vector<std::string>{"admin.example"});
  auto ledger = store_->GetLedger(c.target);
  ASSERT_TRUE(ledger.ok());
  EXPECT_FALSE(ledger->has_value());  // forgotten only once the retraction took effect
}

TEST_F(EngineTest, ThePlaceholderValueIsNeverSharedSoTheListSettles) {
  Push({Ind(kPlaceholderUrl, store::IndicatorType::kDomain, kFeed)});
  ResolvedSharing c = Config("to-urls", "cte-malsites");
  SyncOutcome out = Cycle({c});
  EXPECT_EQ(out.result.invalid, 1u);
  sim_->ClearRequestLog();
  out = Cycle({c});
  EXPECT_EQ(out.state, State::kSynced) << out.message;
  EXPECT_EQ(Writes(), 0);
}

TEST_F(EngineTest, AnInterruptedCycleSendsNothing) {
  Push({Ind("a.example", store::IndicatorType::kUrl, kFeed)});
  ResolvedSharing c = Config("to-urls", "cte-malsites");
  engine_->RunCycle(kTenant, *client_, {c}, [] { return true; });
  EXPECT_EQ(engine_->Outcome(c.key)->state, State::kFailed);
  EXPECT_EQ(Writes(), 0);
}

TEST_F(EngineTest, SharedOwnershipNeverChangesTheTypeOfAnAdministratorsList) {
  Push({Ind("a.example", store::IndicatorType::kUrl, kFeed)});
  ResolvedSharing c = Config("to-shared", "shared-list");  // the list is exact
  c.url_list_type = netskope::UrlListType::kRegex;
  SyncOutcome out = Cycle({c});
  EXPECT_EQ(out.state, State::kFailed);
  EXPECT_NE(out.message.find("does not change the type"), std::string::npos) << out.message;
  EXPECT_EQ(Writes(), 0);
  EXPECT_EQ(Deployed("shared-list"), std::vector<std::string>{"admin.example"});
}

// A configuration that moves to another list keeps the old one until its entries there are
// taken back: one that waited for that list (in conflict) must not take it, and its ledger, over
// first, or the mover's entries would stay on it for good.
TEST_F(EngineTest, AListIsHandedOverOnlyAfterTheMoverTookItsEntriesBack) {
  const store::SourceRef other{"team-a", "other-feed"};
  Push({Ind("x.example", store::IndicatorType::kUrl, kFeed),
        Ind("y.example", store::IndicatorType::kUrl, other)});
  ResolvedSharing x = Config("x", "cte-a");
  ResolvedSharing y = Config("y", "cte-a");
  y.creation_timestamp = "2026-02-01T00:00:00Z";  // newer: waits while x writes cte-a
  y.source = other;
  engine_->RunCycle(kTenant, *client_, {x, y});
  EXPECT_EQ(engine_->Outcome(y.key)->state, State::kConflict);
  ResolvedSharing moved = x;
  moved.target.list_name = "cte-b";
  for (int i = 0; i < 2; ++i) engine_->RunCycle(kTenant, *client_, {moved, y});
  EXPECT_EQ(engine_->Outcome(moved.key)->state, State::kSynced);
  EXPECT_EQ(engine_->Outcome(y.key)->state, State::kSynced) << engine_->Outcome(y.key)->message;
  EXPECT_EQ(Deployed("cte-b"), std::vector<std::string>{"x.example"});
  EXPECT_EQ(Deployed("cte-a"), std::vector<std::string>{"y.example"});
  auto ledger = store_->GetLedger(y.target);
  ASSERT_TRUE(ledger.ok() && ledger->has_value());
  EXPECT_EQ((*ledger)->owner, y.key);
}

// deletionPolicy Orphan while a cycle is writing the list: the cycle must not write the ledger
// back after Orphan forgot it (the finalizer would go and leave a ledger nobody owns).
TEST_F(EngineTest, OrphanDuringACycleLeavesNoLedgerBehind) {
  Push({Ind("a.example", store::IndicatorType::kUrl, kFeed)});
  ResolvedSharing c = Config("to-urls", "cte-slow");
  tenantsim::Fault slow;
  slow.method = "POST";
  slow.path = "/api/v2/policy/urllist";
  slow.kind = tenantsim::Fault::Kind::kLatency;
  slow.latency = std::chrono::milliseconds(300);
  slow.count = 1;
  sim_->AddFault(slow);
  std::thread cycle([&] { engine_->RunCycle(kTenant, *client_, {c}); });
  // The ledger is claimed ahead of the (slow) create: the cycle is inside its write now.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!store_->GetLedger(c.target)->has_value()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the cycle never claimed the list";
    std::this_thread::yield();
  }
  Status during = engine_->Orphan(c.key, c.uid);
  EXPECT_EQ(during.code(), StatusCode::kUnavailable) << during.ToString();
  cycle.join();
  ASSERT_TRUE(engine_->Orphan(c.key, c.uid).ok());  // the reconciler's retry
  EXPECT_FALSE(store_->GetLedger(c.target)->has_value());
  engine_->Forget(c.key);  // the finalizer went, the object is gone
  // A cycle that resolved it as live before the deletion, starting only now: it only forgets.
  engine_->RunCycle(kTenant, *client_, {c});
  EXPECT_EQ(engine_->Outcome(c.key)->state, State::kFinalized);
  EXPECT_FALSE(store_->GetLedger(c.target)->has_value());
  EXPECT_EQ(Deployed("cte-slow"), std::vector<std::string>{"a.example"});  // left as it is
  // Re-created under the same name: a new configuration that syncs.
  ResolvedSharing again = c;
  again.uid = "uid-again";
  EXPECT_EQ(Cycle({again}).state, State::kSynced);
  EXPECT_TRUE(store_->GetLedger(c.target)->has_value());
}

// A configuration deleted while its current list is another's (it moved there and met a
// conflict) still takes its entries back from the list it wrote before.
TEST_F(EngineTest, ADeletionInConflictRetractsFromItsEarlierList) {
  const store::SourceRef other{"team-a", "other-feed"};
  Push({Ind("x.example", store::IndicatorType::kUrl, kFeed),
        Ind("y.example", store::IndicatorType::kUrl, other)});
  ResolvedSharing x = Config("x", "cte-a");
  ResolvedSharing y = Config("y", "cte-b");
  y.creation_timestamp = "2025-01-01T00:00:00Z";  // older: keeps cte-b
  y.source = other;
  engine_->RunCycle(kTenant, *client_, {x, y});
  ASSERT_EQ(Deployed("cte-a"), std::vector<std::string>{"x.example"});
  ResolvedSharing moved = x;
  moved.target.list_name = "cte-b";
  engine_->RunCycle(kTenant, *client_, {moved, y});
  ASSERT_EQ(engine_->Outcome(x.key)->state, State::kConflict);
  moved.deleting = true;  // deletionPolicy Retract
  engine_->RunCycle(kTenant, *client_, {moved, y});
  EXPECT_EQ(engine_->Outcome(x.key)->state, State::kFinalized);
  EXPECT_EQ(Deployed("cte-a"), std::vector<std::string>{"cedefaultpush.io"});  // x's entry left
  EXPECT_FALSE(store_->GetLedger(x.target)->has_value());
  EXPECT_EQ(Deployed("cte-b"), std::vector<std::string>{"y.example"});
}

TEST_F(EngineTest, ARenamedListTakesItsEntriesBackFromTheOldOne) {
  Push({Ind("a.example", store::IndicatorType::kUrl, kFeed)});
  ResolvedSharing c = Config("to-shared", "shared-list");
  ASSERT_EQ(Cycle({c}).state, State::kSynced);
  ResolvedSharing renamed = c;
  renamed.target.list_name = "cte-renamed";
  SyncOutcome out = Cycle({renamed});
  EXPECT_EQ(out.state, State::kSynced) << out.message;
  EXPECT_EQ(Deployed("cte-renamed"), std::vector<std::string>{"a.example"});
  EXPECT_EQ(Deployed("shared-list"), std::vector<std::string>{"admin.example"});
  auto old = store_->GetLedger(c.target);
  ASSERT_TRUE(old.ok());
  EXPECT_FALSE(old->has_value());

  // Orphan leaves the old list as it is, and forgets it too.
  renamed.deletion_policy = api::DeletionPolicy::kOrphan;
  ResolvedSharing again = renamed;
  again.target.list_name = "cte-third";
  EXPECT_EQ(Cycle({again}).state, State::kSynced);
  EXPECT_EQ(Deployed("cte-renamed"), std::vector<std::string>{"a.example"});
  auto targets = store_->LedgerTargetsOf(c.key);
  ASSERT_TRUE(targets.ok());
  ASSERT_EQ(targets->size(), 1u);
  EXPECT_EQ(targets->front().list_name, "cte-third");
}

TEST_F(EngineTest, TwoTenantObjectsOfOneHostNeverFightOverAList) {
  // Namespaces a and b each have a NetskopeTenant for the same tenant, and a configuration on
  // the same list name: the older writes, the newer is told who holds the list.
  Push({Ind("a.example", store::IndicatorType::kUrl, kFeed)});
  ResolvedSharing older = Config("to-urls", "cte-malsites");
  older.key = "ns-a/to-urls";
  older.host = "acme.goskope.com";
  older.target.tenant = "ns-a/acme";
  older.ownership = api::Ownership::kExclusive;
  ResolvedSharing newer = older;
  newer.key = "ns-b/to-urls";
  newer.creation_timestamp = "2026-02-01T00:00:00Z";
  newer.target.tenant = "ns-b/acme";
  engine_->RunCycle("ns-b/acme", *client_, {newer});  // the newer one happens to run first
  engine_->RunCycle("ns-a/acme", *client_, {older});
  EXPECT_EQ(engine_->Outcome(older.key)->state, State::kSynced);
  sim_->ClearRequestLog();
  engine_->RunCycle("ns-b/acme", *client_, {newer});
  SyncOutcome out = *engine_->Outcome(newer.key);
  EXPECT_EQ(out.state, State::kConflict);
  EXPECT_EQ(out.conflict_with, older.key);
  EXPECT_EQ(Writes(), 0);
  // Once the older one is gone, the newer takes the list over.
  engine_->Forget(older.key);
  engine_->RunCycle("ns-b/acme", *client_, {newer});
  EXPECT_EQ(engine_->Outcome(newer.key)->state, State::kSynced);
}

TEST_F(EngineTest, ARenameThatCannotBeWrittenLeavesTheOldListAlone) {
  Push({Ind("a.example", store::IndicatorType::kUrl, kFeed)});
  ResolvedSharing c = Config("to-urls", "cte-old");
  ASSERT_EQ(Cycle({c}).state, State::kSynced);
  ResolvedSharing renamed = c;
  renamed.target.list_name = "cte-new";
  renamed.suspended = true;  // nothing may be written, on either list
  EXPECT_EQ(Cycle({renamed}).state, State::kSuspended);
  EXPECT_EQ(Deployed("cte-old"), std::vector<std::string>{"a.example"});
  EXPECT_EQ(Writes(), 2);  // the first sync's create and deploy only
}

TEST_F(EngineTest, AConfigurationThatMovedAwayLetsGoOfItsClaim) {
  Push({Ind("a.example", store::IndicatorType::kUrl, kFeed)});
  ResolvedSharing holder = Config("holder", "cte-y");  // oldest, behind another tenant object
  holder.key = "ns-c/holder";
  holder.host = "acme.goskope.com";
  holder.creation_timestamp = "2025-01-01T00:00:00Z";
  holder.target.tenant = "ns-c/acme";
  ResolvedSharing mover = Config("mover", "cte-x");
  mover.host = "acme.goskope.com";
  ASSERT_EQ(Cycle({mover}).state, State::kSynced);
  engine_->RunCycle("ns-c/acme", *client_, {holder});
  mover.target.list_name = "cte-y";  // moves onto the holder's list: a conflict
  EXPECT_EQ(Cycle({mover}).state, State::kConflict);
  ResolvedSharing newcomer = Config("newcomer", "cte-x");
  newcomer.host = "acme.goskope.com";
  newcomer.creation_timestamp = "2026-06-01T00:00:00Z";
  EXPECT_EQ(Cycle({newcomer}).state, State::kSynced);  // cte-x is free again
}

TEST_F(EngineTest, ACycleCutShortStillDeploysWhatItStaged) {
  Push({Ind("a.example", store::IndicatorType::kUrl, kFeed)});
  ResolvedSharing first = Config("a-first", "cte-one");
  ResolvedSharing second = Config("b-second", "cte-two");
  int asked = 0;
  engine_->RunCycle(kTenant, *client_, {first, second}, [&] { return ++asked > 1; });
  EXPECT_EQ(engine_->Outcome(first.key)->state, State::kSynced);
  EXPECT_EQ(engine_->Outcome(second.key)->state, State::kFailed);  // not reached
  EXPECT_EQ(Deployed("cte-one"), std::vector<std::string>{"a.example"});
  EXPECT_EQ(Requests(kDeploy), 1);
}

}  // namespace
}  // namespace cte::sharing
