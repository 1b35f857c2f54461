#include "operator/sharing/planner.h"

#include <gtest/gtest.h>

namespace cte::sharing {
namespace {

const WallTime kNow = WallTime(std::chrono::seconds(1'800'000'000));

store::Indicator Row(std::string value, store::IndicatorType type = store::IndicatorType::kUrl) {
  store::Indicator i;
  i.source = {"ns", "feed"};
  i.value = std::move(value);
  i.type = type;
  return i;
}

CompiledRule Everything() { return *CompiledRule::Compile(api::BusinessRuleSpec{}); }

TEST(PlannerTest, KeepsFittingTypesAndShareableRowsOnceEachInArrivalOrder) {
  CompiledRule rule = Everything();
  Planner p(rule, api::ListType::kUrlList, {}, kNow);
  p.Add(Row("new.example"));
  p.Add(Row("d41d8cd98f00b204e9800998ecf8427e", store::IndicatorType::kMd5));  // not for URL lists
  p.Add(Row("new.example", store::IndicatorType::kDomain));                    // same value again
  store::Indicator test = Row("test.example");
  test.test = true;
  p.Add(test);
  store::Indicator retracted = Row("gone.example");
  retracted.retracted = true;
  p.Add(retracted);
  store::Indicator refused = Row("refused.example");
  refused.invalid_at = kNow;
  p.Add(refused);
  p.Add(Row("10.0.0.1", store::IndicatorType::kIpv4));
  Plan plan = p.Finish();
  EXPECT_EQ(plan.entries, (std::vector<std::string>{"new.example", "10.0.0.1"}));
  EXPECT_EQ(plan.matched, 2u);
  EXPECT_EQ(plan.truncated, 0u);
  EXPECT_EQ(plan.invalid, 1u);
  EXPECT_EQ(plan.bytes, ListBytes(plan.entries));
  EXPECT_EQ(plan.bytes, std::string(R"(["new.example", "10.0.0.1"])").size());
}

TEST(PlannerTest, TheEntryCapKeepsTheNewestAndCountsTheRest) {
  CompiledRule rule = Everything();
  ListCaps caps;
  caps.max_entries = 3;
  Planner p(rule, api::ListType::kUrlList, caps, kNow);
  for (int i = 0; i < 10; ++i) {
    std::string value = "h";  // not "h" + std::to_string(i): GCC 12 at -O3 reports a false
                              // -Wrestrict (GCC PR 105329)
    value += std::to_string(i);
    p.Add(Row(value + ".example"));
  }
  Plan plan = p.Finish();
  EXPECT_EQ(plan.entries, (std::vector<std::string>{"h0.example", "h1.example", "h2.example"}));
  EXPECT_EQ(plan.matched, 10u);
  EXPECT_EQ(plan.truncated, 7u);
}

TEST(PlannerTest, TheByteCapCountsTheJsonOfTheListIncludingWhatIsReserved) {
  CompiledRule rule = Everything();
  // Three 10-character values: ["aaaaaaaaaa", "bbbbbbbbbb"] is 28 bytes; a third makes 42.
  ListCaps caps;
  caps.max_bytes = 41;
  Planner p(rule, api::ListType::kUrlList, caps, kNow);
  for (char c : std::string("abc")) p.Add(Row(std::string(10, c)));
  Plan plan = p.Finish();
  EXPECT_EQ(plan.entries.size(), 2u);
  EXPECT_EQ(plan.bytes, 28u);
  EXPECT_EQ(plan.truncated, 1u);
  // Room taken by an administrator's entries counts against the same cap.
  caps.max_bytes = 42;
  caps.reserved_entries = 1;
  caps.reserved_bytes = EntryBytes(std::string(10, 'z'));
  Planner q(rule, api::ListType::kUrlList, caps, kNow);
  for (char c : std::string("abc")) q.Add(Row(std::string(10, c)));
  EXPECT_EQ(q.Finish().entries.size(), 2u);
}

TEST(PlannerTest, EscapedCharactersCountAsTheyAreSent) {
  EXPECT_EQ(EntryBytes("a\"b"), std::string(R"("a\"b", )").size());
  EXPECT_EQ(ListBytes({}), 2u);
}

TEST(PlannerTest, FileHashListsTakeOnlyHashesThroughTheRule) {
  auto rule = CompiledRule::Compile(*api::BusinessRuleSpec::FromJson(
      nlohmann::json::parse(
          R"({"filter":{"all":[{"field":"reputation","operator":"GreaterThan","value":5}]}})"),
      "spec"));
  ASSERT_TRUE(rule.ok());
  Planner p(*rule, api::ListType::kFileHashList, ListCaps{300000, 8u << 20, 0, 0}, kNow);
  store::Indicator good = Row(std::string(64, 'a'), store::IndicatorType::kSha256);
  good.reputation = 9;
  store::Indicator low = Row(std::string(32, 'b'), store::IndicatorType::kMd5);
  low.reputation = 2;
  store::Indicator url = Row("x.example");
  url.reputation = 9;
  p.Add(good);
  p.Add(low);
  p.Add(url);
  Plan plan = p.Finish();
  EXPECT_EQ(plan.entries, std::vector<std::string>{std::string(64, 'a')});
  EXPECT_EQ(plan.matched, 1u);
}

}  // namespace
}  // namespace cte::sharing
