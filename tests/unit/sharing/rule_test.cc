#include "operator/sharing/rule.h"

#include <gtest/gtest.h>

#include "operator/core/time_format.h"

namespace cte::sharing {
namespace {

using nlohmann::json;

const WallTime kNow = WallTime(std::chrono::seconds(1'800'000'000));  // 2027-01-15T08:00:00Z

store::Indicator Ioc() {
  store::Indicator i;
  i.source = {"ns", "feed"};
  i.value = "bad.example.com/path";
  i.type = store::IndicatorType::kUrl;
  i.severity = store::Severity::kHigh;
  i.reputation = 7;
  i.tags = {"apt", "phishing"};
  i.comments = "seen in campaign X";
  i.first_seen = kNow - std::chrono::hours(24 * 40);
  i.last_seen = kNow - std::chrono::hours(24 * 2);
  i.expires_at = kNow + std::chrono::hours(24 * 10);
  return i;
}

StatusOr<CompiledRule> Compile(const std::string& spec_json) {
  auto spec = api::BusinessRuleSpec::FromJson(json::parse(spec_json), "spec");
  if (!spec.ok()) return spec.status();
  return CompiledRule::Compile(*spec);
}

bool Eval(const std::string& condition_json, const store::Indicator& ioc = Ioc()) {
  auto rule = Compile(R"({"filter":{"all":[)" + condition_json + "]}}");
  EXPECT_TRUE(rule.ok()) << condition_json << ": " << rule.status().ToString();
  return rule.ok() && rule->Matches(ioc, kNow);
}

TEST(RuleTest, EveryFieldAndOperator) {
  struct Case {
    const char* condition;
    bool want;
  };
  const Case cases[] = {
      {R"({"field":"type","operator":"Equals","value":"url"})", true},
      {R"({"field":"type","operator":"In","values":["md5","sha256"]})", false},
      {R"({"field":"type","operator":"NotIn","values":["md5","sha256"]})", true},
      {R"({"field":"value","operator":"Contains","value":"example.com"})", true},
      {R"({"field":"value","operator":"Matches","value":"^bad\\..*\\.com/"})", true},
      {R"({"field":"value","operator":"Matches","value":"^example"})", false},  // partial, anchored
      {R"({"field":"value","operator":"NotEquals","value":"bad.example.com/path"})", false},
      {R"({"field":"severity","operator":"GreaterOrEqual","value":"high"})", true},
      {R"({"field":"severity","operator":"GreaterThan","value":"high"})", false},
      {R"({"field":"severity","operator":"In","values":["critical","high"]})", true},
      {R"({"field":"reputation","operator":"GreaterThan","value":6})", true},
      {R"({"field":"reputation","operator":"LessOrEqual","value":"6"})", false},
      {R"({"field":"reputation","operator":"In","values":[1,7]})", true},
      {R"({"field":"tags","operator":"Equals","value":"apt"})", true},
      {R"({"field":"tags","operator":"NotEquals","value":"apt"})", false},
      {R"({"field":"tags","operator":"NotIn","values":["spam","benign"]})", true},
      {R"({"field":"tags","operator":"Contains","value":"phish"})", true},
      {R"({"field":"tags","operator":"Matches","value":"^ph"})", true},
      {R"({"field":"comments","operator":"Contains","value":"campaign"})", true},
      {R"({"field":"source","operator":"Equals","value":"feed"})", true},
      {R"({"field":"lastSeen","operator":"NewerThan","value":"7d"})", true},
      {R"({"field":"lastSeen","operator":"OlderThan","value":"7d"})", false},
      {R"({"field":"firstSeen","operator":"OlderThan","value":"30d"})", true},
      {R"({"field":"firstSeen","operator":"LessThan","value":"2026-12-31T00:00:00Z"})", true},
      {R"({"field":"expiresAt","operator":"GreaterThan","value":"2027-01-20T00:00:00Z"})", true},
  };
  for (const auto& c : cases) EXPECT_EQ(Eval(c.condition), c.want) << c.condition;
}

TEST(RuleTest, AnIndicatorThatNeverExpiresIsLaterThanAnyTime) {
  store::Indicator forever = Ioc();
  forever.expires_at.reset();
  EXPECT_TRUE(Eval(
      R"({"field":"expiresAt","operator":"GreaterThan","value":"9999-01-01T00:00:00Z"})", forever));
  EXPECT_FALSE(Eval(R"({"field":"expiresAt","operator":"OlderThan","value":"1s"})", forever));
  EXPECT_TRUE(Eval(R"({"field":"expiresAt","operator":"NewerThan","value":"1s"})", forever));
}

TEST(RuleTest, GroupsNegationAndAnEmptyFilter) {
  auto any = Compile(R"({"filter":{"any":[
      {"field":"type","operator":"Equals","value":"md5"},
      {"all":[{"field":"reputation","operator":"GreaterThan","value":5},
              {"field":"tags","operator":"Equals","value":"apt"}]}]}})");
  ASSERT_TRUE(any.ok()) << any.status().ToString();
  EXPECT_TRUE(any->Matches(Ioc(), kNow));
  auto negated = Compile(R"({"filter":{"not":true,"all":[
      {"field":"severity","operator":"Equals","value":"high"}]}})");
  ASSERT_TRUE(negated.ok());
  EXPECT_FALSE(negated->Matches(Ioc(), kNow));
  auto everything = Compile("{}");
  ASSERT_TRUE(everything.ok());
  EXPECT_TRUE(everything->Matches(Ioc(), kNow));
  EXPECT_FALSE(everything->muted());
  auto muted = Compile(R"({"muted":true})");
  ASSERT_TRUE(muted.ok());
  EXPECT_TRUE(muted->muted());
}

TEST(RuleTest, ExceptionsByFilterOrByTags) {
  auto by_tag = Compile(R"({"exceptions":[{"name":"vetted","tags":["benign","phishing"]}]})");
  ASSERT_TRUE(by_tag.ok()) << by_tag.status().ToString();
  EXPECT_FALSE(by_tag->Matches(Ioc(), kNow));
  store::Indicator other = Ioc();
  other.tags = {"apt"};
  EXPECT_TRUE(by_tag->Matches(other, kNow));
  auto by_filter = Compile(R"({"exceptions":[{"name":"internal","filter":{"all":[
      {"field":"value","operator":"Matches","value":"\\.corp\\.example$"}]}}]})");
  ASSERT_TRUE(by_filter.ok());
  EXPECT_TRUE(by_filter->Matches(Ioc(), kNow));
  other.value = "intranet.corp.example";
  EXPECT_FALSE(by_filter->Matches(other, kNow));
}

TEST(RuleTest, InvalidFiltersNameTheFieldAndTheReason) {
  struct Case {
    const char* spec;
    const char* path;
    const char* reason;
  };
  const Case cases[] = {
      {R"({"filter":{"all":[{"field":"value","operator":"Matches","value":"(unclosed"}]}})",
       "spec.filter.all[0].value", "invalid regular expression"},
      {R"({"filter":{"all":[{"field":"value","operator":"Matches","value":"(a)\\1"}]}})",
       "spec.filter.all[0].value", "invalid regular expression"},  // backreference: not RE2
      {R"({"filter":{"any":[{"field":"type","operator":"Equals","value":"x"},
                            {"field":"reputation","operator":"GreaterThan","value":11}]}})",
       "spec.filter.any[0].value", "must be one of md5"},
      {R"({"filter":{"all":[{"field":"reputation","operator":"GreaterThan","value":11}]}})",
       "spec.filter.all[0].value", "from 1 to 10"},
      {R"({"filter":{"all":[{"field":"tags","operator":"GreaterThan","value":"a"}]}})",
       "spec.filter.all[0].operator", "does not apply to field tags"},
      {R"({"filter":{"all":[{"field":"lastSeen","operator":"OlderThan","value":"soon"}]}})",
       "spec.filter.all[0].value", "duration"},
      {R"({"filter":{"all":[{"field":"lastSeen","operator":"GreaterThan","value":"yesterday"}]}})",
       "spec.filter.all[0].value", "RFC 3339"},
      {R"({"filter":{"all":[{"any":[{"field":"severity","operator":"Equals","value":"severe"}]}]}})",
       "spec.filter.all[0].any[0].value", "must be one of unknown"},
      {R"({"exceptions":[{"name":"x","filter":{"all":[
          {"field":"comments","operator":"Matches","value":"[z-a]"}]}}]})",
       "spec.exceptions[0].filter.all[0].value", "invalid regular expression"},
  };
  for (const auto& c : cases) {
    auto rule = Compile(c.spec);
    ASSERT_FALSE(rule.ok()) << c.spec;
    EXPECT_EQ(rule.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(rule.status().message().rfind(c.path, 0), 0u) << rule.status().message();
    EXPECT_NE(rule.status().message().find(c.reason), std::string::npos) << rule.status().message();
  }
}

TEST(RuleTest, RegexMatchingIsLinearOnHostileInput) {
  // The classic catastrophic-backtracking pattern: RE2 answers at once.
  auto rule =
      Compile(R"({"filter":{"all":[{"field":"value","operator":"Matches","value":"^(a+)+$"}]}})");
  ASSERT_TRUE(rule.ok());
  store::Indicator hostile = Ioc();
  hostile.value = std::string(100'000, 'a') + "!";
  EXPECT_FALSE(rule->Matches(hostile, kNow));
}

}  // namespace
}  // namespace cte::sharing
