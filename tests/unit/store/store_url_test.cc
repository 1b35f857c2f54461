#include "operator/store/store_url.h"

#include <gtest/gtest.h>

#include "operator/store/indicator.h"

namespace cte::store {
namespace {

TEST(StoreUrlTest, SqliteUrlsGiveTheFilePath) {
  auto abs = ParseStoreUrl("--store", "sqlite:///var/lib/cte/indicators.db");
  ASSERT_TRUE(abs.ok());
  EXPECT_EQ(abs->path, "/var/lib/cte/indicators.db");
  auto rel = ParseStoreUrl("--store", "sqlite://data/indicators.db");
  ASSERT_TRUE(rel.ok());
  EXPECT_EQ(rel->path, "data/indicators.db");
}

TEST(StoreUrlTest, ErrorsNameTheFlagAndNeverEchoCredentials) {
  for (const char* bad : {"", "sqlite://", "sqlite:///", "/var/lib/x.db", "sqlite:///x.db?mode=ro",
                          "mysql://admin:hunter2@db/x", "postgres://admin:hunter2@db/x"}) {
    auto r = ParseStoreUrl("--store", bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message().rfind("--store: ", 0), 0u) << r.status().message();
    EXPECT_EQ(r.status().message().find("hunter2"), std::string::npos) << r.status().message();
  }
}

TEST(IndicatorTest, NamesRoundTripAndListFit) {
  for (size_t i = 0; i < kIndicatorTypeNames.size(); ++i) {
    auto t = static_cast<IndicatorType>(i);
    EXPECT_EQ(ParseIndicatorType(IndicatorTypeName(t)), t);
  }
  EXPECT_FALSE(ParseIndicatorType("MD5").has_value()) << "CE's enum is lower case";
  EXPECT_EQ(ParseSeverity("critical"), Severity::kCritical);
  EXPECT_TRUE(FitsFileHashList(IndicatorType::kSha256));
  EXPECT_TRUE(FitsUrlList(IndicatorType::kIpv6));
  EXPECT_FALSE(FitsUrlList(IndicatorType::kMd5));
  auto ref = SourceRef::Parse("team-a/feed");
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(ref->Key(), "team-a/feed");
  EXPECT_FALSE(SourceRef::Parse("feed").ok());
  EXPECT_FALSE(SourceRef::Parse("Team/feed").ok());
}

}  // namespace
}  // namespace cte::store
