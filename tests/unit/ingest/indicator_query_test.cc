// GET parameters and CE's filters subset mapped onto store queries.
#include "operator/ingest/indicator_query.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace cte::ingest {
namespace {

using store::IndicatorType;
using store::Severity;

TEST(IndicatorQueryTest, PagingSortingAndCeDefaults) {
  auto r = ParseListRequest({}, "team-a");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->query.namespace_name, "team-a");
  EXPECT_EQ(r->query.limit, 10);
  EXPECT_TRUE(r->query.ascending);
  EXPECT_FALSE(r->aggregate);
  r = ParseListRequest({{"skip", "20"},
                        {"limit", "100"},
                        {"sort", "sources.lastSeen"},
                        {"ascending", "false"},
                        {"aggregate", "true"}},
                       "team-a");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->query.skip, 20);
  EXPECT_EQ(r->query.limit, 100);
  EXPECT_EQ(r->query.sort, store::SortField::kLastSeen);
  EXPECT_FALSE(r->query.ascending);
  EXPECT_TRUE(r->aggregate);
}

TEST(IndicatorQueryTest, RefusalsCarryCloudExchangesMessages) {
  struct Case {
    http::QueryParams params;
    const char* message;
  };
  const Case cases[] = {
      {{{"limit", "500"}}, "Limit cannot be greater than 100. Provided limit: 500."},
      {{{"filters", "{nope"}}, "Invalid JSON query provided."},
      {{{"filters", R"({"internalHits":{"$gt":1}})"}}, "Invalid query provided."},
      {{{"filters", R"({"value":{"$regex":"x"}})"}}, "Invalid query provided."},
      {{{"filters", R"({"type":"nope"})"}}, "Invalid query provided."},
      {{{"filters", std::string(20, '[')}}, "Invalid query provided."},
      {{{"skip", "-1"}}, "skip"},
      {{{"sort", "internalHits"}}, "Invalid sort field"},
  };
  for (const auto& c : cases) {
    auto r = ParseListRequest(c.params, "ns");
    ASSERT_FALSE(r.ok()) << c.params[0].second;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.message), std::string::npos) << r.status().message();
  }
}

TEST(IndicatorQueryTest, FiltersMapOntoTheStoreQuery) {
  store::IndicatorQuery q;
  Status s = ApplyFilters(
      R"({"value":{"$in":["a.example","b.example"]},"type":{"$nin":["md5"]},"active":true,)"
      R"("sources":{"$elemMatch":{"source":"feed","severity":{"$in":["high","critical"]},)"
      R"("reputation":{"$gte":3,"$lt":8},"tags":{"$in":["apt"]}}},)"
      R"("$and":[{"sources.tags":{"$nin":["fp"]}},{"test":{"$ne":true}}]})",
      q);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(q.values, (std::vector<std::string>{"a.example", "b.example"}));
  EXPECT_EQ(q.not_types, std::vector<IndicatorType>{IndicatorType::kMd5});
  EXPECT_EQ(q.active, true);
  EXPECT_EQ(q.test, false);
  EXPECT_EQ(q.sources, std::vector<std::string>{"feed"});
  EXPECT_EQ(q.severities, (std::vector<Severity>{Severity::kHigh, Severity::kCritical}));
  EXPECT_EQ(q.reputation_min, 3);
  EXPECT_EQ(q.reputation_max, 7);
  EXPECT_EQ(q.tags_any, std::vector<std::vector<std::string>>{{"apt"}});
  EXPECT_EQ(q.tags_none, std::vector<std::string>{"fp"});
}

TEST(IndicatorQueryTest, TheSameFieldTwiceMustHoldBothTimes) {
  auto parse = [](const char* filters) {
    store::IndicatorQuery q;
    Status s = ApplyFilters(filters, q);
    EXPECT_TRUE(s.ok()) << s.message();
    return q;
  };
  // "any of" lists narrow to what both allow.
  store::IndicatorQuery q = parse(
      R"({"value":{"$in":["a","b","c"]},"$and":[{"value":{"$in":["b","c","d"]}},{"value":"c"}]})");
  EXPECT_EQ(q.values, std::vector<std::string>{"c"});
  EXPECT_FALSE(q.match_nothing);
  q = parse(R"({"type":"url","$and":[{"type":{"$in":["url","md5"]}}]})");
  EXPECT_EQ(q.types, std::vector<IndicatorType>{IndicatorType::kUrl});
  // Disjoint values, opposite booleans, an empty $in: nothing matches.
  EXPECT_TRUE(parse(R"({"$and":[{"value":"a"},{"value":"b"}]})").match_nothing);
  EXPECT_TRUE(parse(R"({"active":true,"$and":[{"active":false}]})").match_nothing);
  EXPECT_TRUE(
      parse(R"({"sources.source":"x","sources":{"$elemMatch":{"source":"y"}}})").match_nothing);
  EXPECT_TRUE(parse(R"({"value":{"$in":[]}})").match_nothing);
  // Tags are many per row: each constraint is a group the row must meet.
  q = parse(R"({"$and":[{"sources.tags":"a"},{"sources.tags":{"$in":["b","c"]}}]})");
  EXPECT_EQ(q.tags_any, (std::vector<std::vector<std::string>>{{"a"}, {"b", "c"}}));
  // Exclusions add up.
  q = parse(R"({"type":{"$nin":["md5"]},"$and":[{"type":{"$ne":"sha256"}}]})");
  std::sort(q.not_types.begin(), q.not_types.end());
  EXPECT_EQ(q.not_types, (std::vector<IndicatorType>{IndicatorType::kMd5, IndicatorType::kSha256}));
  EXPECT_TRUE(q.types.empty());
}

TEST(IndicatorQueryTest, TwoFiltersParametersMustBothHold) {
  auto r =
      ParseListRequest({{"filters", R"({"value":"a"})"}, {"filters", R"({"value":"b"})"}}, "ns");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->query.match_nothing);
  r = ParseListRequest(
      {{"filters", R"({"value":{"$in":["a","b"]}})"}, {"filters", R"({"value":"b"})"}}, "ns");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->query.match_nothing);
  EXPECT_EQ(r->query.values, std::vector<std::string>{"b"});
}

TEST(IndicatorQueryTest, FractionalReputationBoundsRoundInwards) {
  auto parse = [](const std::string& filters) {
    store::IndicatorQuery q;
    Status s = ApplyFilters(filters, q);
    EXPECT_TRUE(s.ok()) << s.message();
    return q;
  };
  store::IndicatorQuery q = parse(R"({"sources.reputation":{"$gte":5.5,"$lt":8.5}})");
  EXPECT_EQ(q.reputation_min, 6);
  EXPECT_EQ(q.reputation_max, 8);
  q = parse(R"({"sources.reputation":{"$gt":5.5,"$lte":8.5}})");
  EXPECT_EQ(q.reputation_min, 6);
  EXPECT_EQ(q.reputation_max, 8);
  q = parse(R"({"sources.reputation":{"$gt":5,"$lt":8}})");
  EXPECT_EQ(q.reputation_min, 6);
  EXPECT_EQ(q.reputation_max, 7);
  EXPECT_TRUE(parse(R"({"sources.reputation":5.5})").match_nothing);
  EXPECT_TRUE(parse(R"({"sources.reputation":{"$eq":5.5}})").match_nothing);
  EXPECT_FALSE(parse(R"({"sources.reputation":{"$eq":5}})").match_nothing);
}

// The store turns each tag into a term of its own; a query carries at most 100, counted across
// $and parts, so SQLite's expression depth limit is never what refuses it.
TEST(IndicatorQueryTest, TagTermsAreBoundedPerQuery) {
  auto tags = [](int n, const char* op) {
    std::string list;
    for (int i = 0; i < n; ++i) list += (i ? ",\"t" : "\"t") + std::to_string(i) + "\"";
    return std::string(R"({"sources.tags":{")") + op + R"(":[)" + list + "]}}";
  };
  store::IndicatorQuery q;
  EXPECT_TRUE(ApplyFilters(tags(100, "$in"), q).ok());
  store::IndicatorQuery over;
  Status s = ApplyFilters(tags(101, "$in"), over);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("at most 100 tags"), std::string::npos) << s.message();
  std::string parts;
  for (int i = 0; i < 101; ++i) parts += (i ? "," : "") + std::string(R"({"sources.tags":"x"})");
  store::IndicatorQuery split;
  EXPECT_EQ(ApplyFilters(R"({"$and":[)" + parts + "]}", split).code(),
            StatusCode::kInvalidArgument);
  store::IndicatorQuery mixed;
  EXPECT_EQ(ApplyFilters(tags(60, "$nin"), mixed).code(), StatusCode::kOk);
  EXPECT_EQ(ApplyFilters(tags(41, "$in"), mixed).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cte::ingest
