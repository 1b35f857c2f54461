// The store and ingest flags of the operator process: defaults, parsing, and the combinations
// that are refused with a message naming the flag.
#include <gtest/gtest.h>

#include "operator/app/operator_app.h"

namespace cte::app {
namespace {

TEST(OperatorFlagsTest, StoreAndIngestDefaults) {
  auto f = ParseFlags({});
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->store_url.empty()) << "no store unless asked for";
  EXPECT_EQ(f->ingest_bind_address, ":8443");
  EXPECT_FALSE(f->ingest_insecure);
  EXPECT_EQ(f->aging_sweep_interval, std::chrono::minutes(1));
  EXPECT_EQ(f->purge_inactive_after, Duration::zero());
}

TEST(OperatorFlagsTest, ParsesEveryStoreAndIngestFlag) {
  auto f = ParseFlags({"--store", "sqlite:///var/lib/cte/indicators.db", "--ingest-bind-address",
                       "127.0.0.1:9443", "--ingest-tls-cert=/tls/tls.crt", "--ingest-tls-key",
                       "/tls/tls.key", "--ingest-credentials-file", "/etc/creds.yaml",
                       "--aging-sweep-interval", "30s", "--purge-inactive-after=30d"});
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->store_url, "sqlite:///var/lib/cte/indicators.db");
  EXPECT_EQ(f->ingest_bind_address, "127.0.0.1:9443");
  EXPECT_EQ(f->ingest_tls_cert, "/tls/tls.crt");
  EXPECT_EQ(f->ingest_tls_key, "/tls/tls.key");
  EXPECT_EQ(f->ingest_credentials_file, "/etc/creds.yaml");
  EXPECT_EQ(f->aging_sweep_interval, std::chrono::seconds(30));
  EXPECT_EQ(f->purge_inactive_after, std::chrono::hours(24 * 30));
  auto insecure = ParseFlags({"--store", "sqlite:///x.db", "--ingest-insecure"});
  ASSERT_TRUE(insecure.ok());
  EXPECT_TRUE(insecure->ingest_insecure);
}

TEST(OperatorFlagsTest, RefusedCombinationsNameTheFlag) {
  struct Case {
    std::vector<std::string> args;
    const char* flag;
  };
  const Case cases[] = {
      {{"--store", "postgres://u:p@db/x"}, "--store"},
      {{"--store", "/var/x.db"}, "--store"},
      {{"--store", "sqlite:///x.db"}, "--ingest-bind-address"},  // neither TLS nor insecure
      {{"--ingest-tls-cert", "/c"}, "--ingest-tls-cert and --ingest-tls-key"},
      {{"--ingest-tls-cert", "/c", "--ingest-tls-key", "/k", "--ingest-insecure"},
       "--ingest-insecure"},
      {{"--ingest-insecure=true"}, "--ingest-insecure"},
      {{"--ingest-bind-address", "nowhere"}, "--ingest-bind-address"},
      {{"--aging-sweep-interval", "0s"}, "--aging-sweep-interval"},
      {{"--purge-inactive-after", "soon"}, "--purge-inactive-after"},
  };
  for (const auto& c : cases) {
    auto f = ParseFlags(c.args);
    ASSERT_FALSE(f.ok()) << c.args[0];
    EXPECT_EQ(f.status().message().rfind(c.flag, 0), 0u) << f.status().message();
    EXPECT_EQ(f.status().message().find("u:p@"), std::string::npos) << "no credentials echoed";
  }
  EXPECT_TRUE(ParseFlags({"--store", "sqlite:///x.db", "--ingest-bind-address", "0"}).ok())
      << "a store without the ingest API needs no TLS";
}

TEST(OperatorFlagsTest, TenantSyncWorkersDefaultAndRange) {
  auto f = ParseFlags({});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->tenant_sync_workers, 16);
  auto set = ParseFlags({"--tenant-sync-workers", "64"});
  ASSERT_TRUE(set.ok()) << set.status().message();
  EXPECT_EQ(set->tenant_sync_workers, 64);
  for (const char* bad : {"0", "257", "ten", "", "4x"}) {
    auto refused = ParseFlags({"--tenant-sync-workers", bad});
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.status().message(), "--tenant-sync-workers: must be 1 to 256");
  }
}

TEST(ReplicaIdentityTest, KeepsOnlyCharactersSafeInAHeaderOrALabel) {
  EXPECT_EQ(ReplicaIdentity("cte-operator-7d9f.example", 0xab),
            "cte-operator-7d9f.example_000000ab");
  // A host name with CR/LF (or any other byte a header must not carry) cannot inject a header into
  // the tenant requests' User-Agent or break the Lease's holderIdentity.
  EXPECT_EQ(ReplicaIdentity("pod\r\nX-Evil: 1", 1), "pod--X-Evil--1_00000001");
  EXPECT_EQ(ReplicaIdentity("", 2), "cte-operator_00000002");
  EXPECT_EQ(ReplicaIdentity(std::string(300, 'a'), 3).size(), 200u + 9u);
}

}  // namespace
}  // namespace cte::app
