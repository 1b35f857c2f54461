#include "hack/local-apiserver/table.h"

#include <gtest/gtest.h>

namespace cte::apiserver {
namespace {

using nlohmann::json;

TEST(JsonPathTest, EvaluatesPrinterColumnPaths) {
  json obj = json::parse(R"({"spec":{"target":{"listName":"l1"}},
    "status":{"conditions":[{"type":"Reconciling","status":"False"},{"type":"Ready","status":"True"}],
              "items":[1,2,3]}})");
  EXPECT_EQ(EvaluateJsonPath(obj, ".spec.target.listName"), std::vector<json>{"l1"});
  EXPECT_EQ(EvaluateJsonPath(obj, ".status.conditions[?(@.type==\"Ready\")].status"),
            std::vector<json>{"True"});
  EXPECT_EQ(EvaluateJsonPath(obj, ".status.items[1]"), std::vector<json>{2});
  EXPECT_EQ(EvaluateJsonPath(obj, ".status.items[*]").size(), 3u);
  EXPECT_TRUE(EvaluateJsonPath(obj, ".spec.missing").empty());
}

TEST(HumanDurationTest, MatchesKubectlAges) {
  struct Case {
    int64_t seconds;
    const char* text;
  };
  const Case cases[] = {
      {0, "0s"},           {59, "59s"},         {119, "119s"},           {200, "3m20s"},
      {600, "10m"},        {7200, "120m"},      {3 * 3600 + 60, "3h1m"}, {10 * 3600, "10h"},
      {50 * 3600, "2d2h"}, {30 * 86400, "30d"}, {800 * 86400, "2y70d"}};
  for (const auto& c : cases) {
    EXPECT_EQ(HumanDuration(std::chrono::seconds(c.seconds)), c.text) << c.seconds;
  }
}

TEST(TableTest, CustomResourceRowsFollowPrinterColumns) {
  ResourceType t;
  t.kind = "SharingConfiguration";
  t.custom = true;
  t.columns = {{"READY", "string", "", "", ".status.conditions[?(@.type==\"Ready\")].status", 0},
               {"SHARED", "integer", "", "", ".status.sharedCount", 0},
               {"LIST", "string", "", "", ".spec.target.listName", 1}};
  json obj = json::parse(R"({"metadata":{"name":"s1","namespace":"default"},
    "spec":{"target":{}},"status":{"sharedCount":12,"conditions":[{"type":"Ready","status":"True"}]}})");
  auto cols = TableColumns(t);
  ASSERT_EQ(cols.size(), 4u);
  EXPECT_EQ(cols[0]["format"], "name");
  EXPECT_EQ(cols[3]["priority"], 1);
  auto row = TableRow(t, obj, "Metadata", std::chrono::system_clock::now());
  EXPECT_EQ(row["cells"], json::parse(R"(["s1","True",12,null])"));
  EXPECT_EQ(row["object"]["kind"], "PartialObjectMetadata");
  EXPECT_EQ(row["object"]["metadata"]["namespace"], "default");
}

}  // namespace
}  // namespace cte::apiserver
