#include "operator/core/json_util.h"

#include <gtest/gtest.h>

#include "operator/core/secret_string.h"

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
  // The message says where, never what was read: a cut-off Secret must not reach a log.
  auto cut = ParseJson(R"({"data":{"token":"c2VjcmV0LXRva2Vu)");
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.status().message().find("column"), std::string::npos) << cut.status().message();
  EXPECT_EQ(cut.status().message().find("c2Vj"), std::string::npos) << cut.status().message();
}

TEST(JsonUtilTest, DeepNestingIsRefusedWhileParsing) {
  // 65,000 nested arrays: copying or dumping the value would recurse that deep.
  std::string deep = std::string(65000, '[') + std::string(65000, ']');
  auto refused = ParseJson(deep);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("nested more than 256 levels"), std::string::npos)
      << refused.status().message();
  std::string objects;
  for (int i = 0; i < 300; ++i) objects += "{\"a\":";
  objects += '1';  // not `"1" + std::string(...)`: a GCC 12 -O3 -Wrestrict false positive
  objects.append(300, '}');
  EXPECT_FALSE(ParseJson(objects).ok());
  // At the limit everything still works, including a copy and a dump.
  std::string fine = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  auto parsed = ParseJson(fine);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  nlohmann::json copy = *parsed;
  EXPECT_EQ(copy.dump(), fine);
  EXPECT_TRUE(ParseJson("[[1]]", 2).ok());
  EXPECT_FALSE(ParseYamlDocuments(std::string(1000, '[') + std::string(1000, ']')).ok());
  EXPECT_FALSE(ParseJson("[[[1]]]", 2).ok());
}

TEST(ConstantTimeEqualsTest, ComparesLikeEquality) {
  EXPECT_TRUE(ConstantTimeEquals("t0k3n", "t0k3n"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals("t0k3n", "t0k3m"));
  EXPECT_FALSE(ConstantTimeEquals("t0k3n", "t0k3"));
  EXPECT_FALSE(ConstantTimeEquals("t0k3", "t0k3n"));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
  EXPECT_FALSE(ConstantTimeEquals("x", ""));
  EXPECT_FALSE(ConstantTimeEquals("abab", "ab"));  // a repeated prefix is not a match
  EXPECT_TRUE(SecretString("s3cr3t").Matches("s3cr3t"));
  EXPECT_FALSE(SecretString("s3cr3t").Matches("s3cr3"));
}

}  // namespace
}  // namespace cte
