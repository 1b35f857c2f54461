#include "hack/local-apiserver/selectors.h"

#include <gtest/gtest.h>

namespace cte::apiserver {
namespace {

using nlohmann::json;

TEST(LabelSelectorTest, SupportsEveryOperator) {
  const json labels = {{"app", "cte"}, {"tier", "backend"}};
  struct Case {
    const char* selector;
    bool matches;
  };
  const Case cases[] = {
      {"", true},
      {"app=cte", true},
      {"app==cte", true},
      {"app!=cte", false},
      {"app=other", false},
      {"app in (x, cte)", true},
      {"app notin (cte)", false},
      {"tier", true},
      {"!tier", false},
      {"missing", false},
      {"!missing", true},
      {"app=cte,tier=backend", true},
      {"app=cte,tier=frontend", false},
      {"missing!=x", true},
  };
  for (const auto& c : cases) {
    auto sel = LabelSelector::Parse(c.selector);
    ASSERT_TRUE(sel.ok()) << c.selector;
    EXPECT_EQ(sel->Matches(labels), c.matches) << c.selector;
  }
}

TEST(LabelSelectorTest, RejectsUnknownSetOperator) {
  EXPECT_FALSE(LabelSelector::Parse("app within (x)").ok());
}

TEST(FieldSelectorTest, MatchesNameAndNamespace) {
  const json obj = {{"metadata", {{"name", "a"}, {"namespace", "ns1"}}}};
  EXPECT_TRUE(FieldSelector::Parse("metadata.name=a")->Matches(obj));
  EXPECT_FALSE(FieldSelector::Parse("metadata.name=b")->Matches(obj));
  EXPECT_TRUE(FieldSelector::Parse("metadata.namespace!=ns2")->Matches(obj));
  EXPECT_FALSE(FieldSelector::Parse("metadata.name=a,metadata.namespace=ns2")->Matches(obj));
}

TEST(FieldSelectorTest, UnsupportedFieldIsAnError) {
  auto sel = FieldSelector::Parse("spec.x=1");
  ASSERT_FALSE(sel.ok());
  EXPECT_NE(sel.status().message().find("spec.x"), std::string::npos);
}

}  // namespace
}  // namespace cte::apiserver
