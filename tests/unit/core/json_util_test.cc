#include "operator/core/json_util.h"

#include <gtest/gtest.h>

namespace cte {
namespace {

TEST(JsonUtilTest, YamlScalarsBecomeTypedJson) {
  auto docs = ParseYamlDocuments(R"(
a: 1
b: 1.5
c: true
d: "1"
e: hello
f: ~
g: [x, 2]
)");
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  ASSERT_EQ(docs->size(), 1u);
  const auto& j = (*docs)[0];
  EXPECT_EQ(j["a"], 1);
  EXPECT_EQ(j["b"], 1.5);
  EXPECT_EQ(j["c"], true);
  EXPECT_EQ(j["d"], "1");
  EXPECT_EQ(j["e"], "hello");
  EXPECT_TRUE(j["f"].is_null());
  EXPECT_EQ(j["g"], nlohmann::json::parse(R"(["x", 2])"));
}

TEST(JsonUtilTest, MultiDocumentStreamSkipsEmptyDocuments) {
  auto docs = ParseYamlDocuments("---\na: 1\n---\n---\nb: 2\n");
  ASSERT_TRUE(docs.ok());
  EXPECT_EQ(docs->size(), 2u);
}

TEST(JsonUtilTest, SyntaxErrorsAreInvalidArgument) {
  EXPECT_EQ(ParseYamlDocuments("a: [1, 2").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseJson("{\"a\":").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cte
