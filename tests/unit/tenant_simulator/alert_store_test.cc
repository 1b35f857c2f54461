#include "hack/tenant-simulator/alert_store.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace cte::tenantsim {
namespace {

constexpr int64_t kNow = 1'800'000'000;

std::vector<std::string> Ids(const AlertStore::Page& page) {
  std::vector<std::string> out;
  for (const auto& a : page.result) out.push_back(a["_id"].get<std::string>());
  return out;
}

class AlertStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<nlohmann::json> alerts;
    for (int i = 0; i < 5; ++i) {
      std::string id = "a";  // not "a" + std::to_string(i): GCC 12 at -O3 reports a false
                             // -Wrestrict (GCC PR 105329)
      id += std::to_string(i);
      alerts.push_back({{"_id", id}, {"timestamp", 1000 + i * 10}});
    }
    store_.Add("malware", alerts, kNow);
  }
  AlertStore::Page Run(const std::string& op, const std::string& index = "idx") {
    auto page = store_.Iterate("malware", index, op, kNow);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? *page : AlertStore::Page{};
  }
  AlertStore store_{2, 5};  // pages of two, wait 5 s once caught up
};

TEST_F(AlertStoreTest, EpochStartsAtThatTimeAndNextPagesOn) {
  auto first = Run("1010");
  EXPECT_EQ(Ids(first), (std::vector<std::string>{"a1", "a2"}));
  EXPECT_EQ(first.wait_time, 0);         // more to come
  EXPECT_EQ(first.timestamp_hwm, 1020);  // last delivered
  auto second = Run("next");
  EXPECT_EQ(Ids(second), (std::vector<std::string>{"a3", "a4"}));
  EXPECT_EQ(second.wait_time, 5);         // caught up
  EXPECT_EQ(second.timestamp_hwm, kNow);  // caught up to now
  EXPECT_TRUE(Run("next").result.empty());
}

TEST_F(AlertStoreTest, ResendRepeatsThePreviousPageWithoutMoving) {
  Run("head");
  EXPECT_EQ(Ids(Run("resend")), (std::vector<std::string>{"a0", "a1"}));
  EXPECT_EQ(Ids(Run("resend")), (std::vector<std::string>{"a0", "a1"}));
  EXPECT_EQ(Ids(Run("next")), (std::vector<std::string>{"a2", "a3"}));
}

TEST_F(AlertStoreTest, TailSkipsEverythingThatExists) {
  auto tail = Run("tail");
  EXPECT_TRUE(tail.result.empty());
  EXPECT_EQ(tail.timestamp_hwm, kNow);
  store_.Add("malware", {{{"_id", "late"}, {"timestamp", 2000}}}, kNow);
  EXPECT_EQ(Ids(Run("next")), std::vector<std::string>{"late"});
}

TEST_F(AlertStoreTest, IndexesAreIndependent) {
  Run("head", "one");
  Run("next", "one");
  EXPECT_EQ(Ids(Run("head", "two")), (std::vector<std::string>{"a0", "a1"}));
}

TEST_F(AlertStoreTest, NextOnAnIndexThatWasNeverStartedIsRefused) {
  EXPECT_EQ(store_.Iterate("malware", "new", "next", kNow).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_.Iterate("malware", "new", "resend", kNow).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_.Iterate("malware", "new", "sideways", kNow).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(AlertStoreTest, SeededAlertsGetTheCommonFields) {
  auto page = Run("head");
  const auto& a = page.result[0];
  EXPECT_EQ(a["alert_type"], "Malware");
  EXPECT_TRUE(a.contains("severity"));
  EXPECT_TRUE(a["incident_id"].is_number_unsigned());
  EXPECT_GT(a["incident_id"].get<uint64_t>(), uint64_t{1} << 53);
}

TEST(AlertStoreGenerateTest, GeneratesCompleteMalwareAndMalsiteAlerts) {
  AlertStore store(kMaxIteratorPage, 5);
  EXPECT_EQ(store.Generate("malware", 3, 100, 60), 3u);
  EXPECT_EQ(store.Generate("malsite", 2, 100, 60), 2u);
  auto malware = store.Iterate("malware", "i", "head", kNow);
  ASSERT_TRUE(malware.ok());
  ASSERT_EQ(malware->result.size(), 3u);
  for (const char* field : {"md5", "sha256", "local_md5", "local_sha256", "local_sha1",
                            "malware_name", "malware_type", "object", "timestamp", "_id"}) {
    EXPECT_TRUE(malware->result[0].contains(field)) << field;
  }
  EXPECT_EQ(malware->result[0]["md5"].get<std::string>().size(), 32u);
  EXPECT_EQ(malware->result[2]["timestamp"], 220);
  auto malsite = store.Iterate("malsite", "i", "head", kNow);
  ASSERT_TRUE(malsite.ok());
  EXPECT_EQ(malsite->result[0]["alert_type"], "malsite");
  EXPECT_TRUE(malsite->result[0]["malsite_category"].is_array());
  EXPECT_TRUE(malsite->result[0]["url"].is_string());
}

TEST(AlertStoreTimestampTest, OutOfRangeTimestampsSaturateInsteadOfWrapping) {
  AlertStore store(10, 5);
  store.Add("malsite",
            {{{"_id", "huge"}, {"timestamp", 1e300}},
             {{"_id", "normal"}, {"timestamp", 100}},
             {{"_id", "tiny"}, {"timestamp", -1e300}},
             {{"_id", "big-unsigned"}, {"timestamp", 18446744073709551615ULL}},
             {{"_id", "nan"}, {"timestamp", std::nan("")}}},
            kNow);
  auto page = store.Iterate("malsite", "i", "head", kNow);
  ASSERT_TRUE(page.ok());
  // In order: -inf side first, then 100, then "now" for NaN, then the saturated ones by arrival.
  EXPECT_EQ(Ids(*page),
            (std::vector<std::string>{"tiny", "normal", "nan", "huge", "big-unsigned"}));
  EXPECT_EQ(TimestampOf(nlohmann::json(1e300), 0), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(TimestampOf(nlohmann::json(-1e300), 0), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(TimestampOf(nlohmann::json(12.9), 0), 12);
  EXPECT_EQ(TimestampOf(nlohmann::json("soon"), 7), 7);
}

TEST(AlertStoreTimestampTest, GeneratedTimestampsSaturateRatherThanOverflow) {
  AlertStore store(10, 5);
  store.Generate("malware", 3, std::numeric_limits<int64_t>::max() - 1, 1);
  auto page = store.Iterate("malware", "i", "head", kNow);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->result.size(), 3u);
  EXPECT_EQ(page->result[2]["timestamp"].get<int64_t>(), std::numeric_limits<int64_t>::max());
}

TEST(AlertStoreGenerateTest, PagesNeverExceedTenThousand) {
  AlertStore store(50000, 5);
  store.Generate("malware", 10001, 0, 1);
  auto page = store.Iterate("malware", "i", "head", kNow);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->result.size(), 10000u);
  EXPECT_EQ(page->wait_time, 0);
}

}  // namespace
}  // namespace cte::tenantsim
