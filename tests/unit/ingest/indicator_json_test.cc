// IndicatorIn parsing and CE's validation: every bad field of every item is named; body-level
// problems (broken JSON, depth, size, item count) come alone.
#include "operator/ingest/indicator_json.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <random>
#include <set>
#include <string_view>

#include "operator/ingest/indicator_output.h"

namespace cte::ingest {
namespace {

using store::IndicatorType;

// Joins its parts. Tests build bodies with it rather than `"[" + Item(...)`: GCC 12 at -O3 reports
// a false -Wrestrict on `const char* + std::string&&` (GCC PR 105329), an error in CI.
std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p);
  return out;
}

std::string Item(const std::string& value, const std::string& type, const std::string& extra = "") {
  return R"({"value":")" + value + R"(","type":")" + type + R"(","source":"feed")" + extra + "}";
}

TEST(IndicatorJsonTest, ValidItemsWithEveryField) {
  std::string body = "[";
  body += Item("  http://bad.example/x  ", "url",
               R"(,"severity":"high","reputation":9,"tags":["a","b"],)"
               R"("comments":" c ","extendedInformation":"https://intel.example/1",)"
               R"("firstSeen":"2027-01-15T08:00:00Z","lastSeen":1800000100,)"
               R"("expiresAt":null,"active":false,"test":true,"safe":true,"x":{"y":1})");
  body += ',';
  body += Item("ABCDEFABCDEFABCDEFABCDEFABCDEFAB", "md5");
  body += ']';
  auto parsed = ParseIndicatorArray(body, {});
  ASSERT_TRUE(parsed.errors.empty()) << DetailJson(parsed.errors);
  ASSERT_EQ(parsed.items.size(), 2u);
  const auto& a = parsed.items[0];
  EXPECT_EQ(a.value, "http://bad.example/x") << "trimmed";
  EXPECT_EQ(a.type, IndicatorType::kUrl);
  EXPECT_EQ(a.severity, store::Severity::kHigh);
  EXPECT_EQ(a.reputation, 9);
  EXPECT_EQ(a.tags, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(a.comments, "c");
  EXPECT_EQ(a.first_seen, WallTime(std::chrono::seconds(1'800'000'000)));
  EXPECT_EQ(a.last_seen, WallTime(std::chrono::seconds(1'800'000'100)));
  ASSERT_TRUE(a.expires_at.has_value());
  EXPECT_FALSE(a.expires_at->has_value()) << "explicit null";
  EXPECT_EQ(a.active, false);
  EXPECT_EQ(parsed.items[1].value, "abcdefabcdefabcdefabcdefabcdefab") << "hashes lower-cased";

  store::Indicator ind = ToIndicator(parsed.items[1], {"team-a", "feed"});
  EXPECT_EQ(ind.reputation, 5);
  EXPECT_EQ(ind.severity, store::Severity::kUnknown);
  EXPECT_TRUE(ind.active);
  EXPECT_FALSE(ind.test);
}

TEST(IndicatorJsonTest, CloudExchangeValueRules) {
  using namespace std::string_view_literals;
  struct Case {
    std::string_view value;
    IndicatorType type;
    bool ok;
  };
  const Case cases[] = {
      {"d41d8cd98f00b204e9800998ecf8427e", IndicatorType::kMd5, true},
      {"d41d8cd98f00b204e9800998ecf8427", IndicatorType::kMd5, false},
      {"g41d8cd98f00b204e9800998ecf8427e", IndicatorType::kMd5, false},
      {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", IndicatorType::kSha256,
       true},
      {"e3b0c44298fc1c149afbf4c8996fb924", IndicatorType::kSha256, false},
      {"192.0.2.1", IndicatorType::kIpv4, true},
      {"192.0.2.256", IndicatorType::kIpv4, false},
      {"192.0.02.1", IndicatorType::kIpv4, false},
      {"2001:db8::1", IndicatorType::kIpv4, false},
      {"2001:db8::1", IndicatorType::kIpv6, true},
      {"2001:db8:::1", IndicatorType::kIpv6, false},
      // An embedded NUL must not end the address early (inet_pton reads C strings).
      {"192.0.2.1\0<script>"sv, IndicatorType::kIpv4, false},
      {"2001:db8::1\0x"sv, IndicatorType::kIpv6, false},
      {"bad.example\0x"sv, IndicatorType::kDomain, false},
      {"a.io", IndicatorType::kDomain, true},
      {"a.b", IndicatorType::kDomain, false},
      {"abc", IndicatorType::kUrl, false},
      {"host", IndicatorType::kHostname, true},
      {"x.example.com", IndicatorType::kFqdn, true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(ValueError(c.value, c.type).empty(), c.ok)
        << c.value << " as " << store::IndicatorTypeName(c.type);
  }
}

TEST(IndicatorJsonTest, EveryBadItemAndFieldIsNamed) {
  std::string body = Cat({"[", Item("ok.example", "url"), ",",
                          R"({"type":"md5","source":"feed","value":"zz","reputation":11})", ",",
                          R"({"value":"x.example","type":"URL","source":7,"severity":"severe",)",
                          R"("tags":"t","extendedInformation":"ftp://x","firstSeen":"yesterday",)",
                          R"("active":"yes","comments":5})", ",", R"({"source":"feed"})", ",",
                          R"("not an object")", "]"});
  auto parsed = ParseIndicatorArray(body, {});
  std::set<std::pair<size_t, std::string>> got;
  for (const auto& e : parsed.errors) {
    ASSERT_TRUE(e.index.has_value()) << e.field;
    EXPECT_FALSE(e.reason.empty());
    got.insert({*e.index, e.field});
  }
  const std::set<std::pair<size_t, std::string>> want = {{1, "value"},
                                                         {1, "reputation"},
                                                         {2, "type"},
                                                         {2, "source"},
                                                         {2, "severity"},
                                                         {2, "tags"},
                                                         {2, "extendedInformation"},
                                                         {2, "firstSeen"},
                                                         {2, "active"},
                                                         {2, "comments"},
                                                         {3, "value"},
                                                         {3, "type"},
                                                         {4, "item"}};
  EXPECT_EQ(got, want) << DetailJson(parsed.errors);
  EXPECT_EQ(parsed.items.size(), 1u) << "only the valid item is kept (the caller refuses all)";
}

TEST(IndicatorJsonTest, BodyProblemsComeAloneWithFieldBody) {
  IngestLimits small;
  small.max_items = 3;
  small.max_depth = 5;
  small.max_body_bytes = 1000;
  struct Case {
    std::string body;
    const char* reason_part;
  };
  std::string deep = std::string(20, '[') + std::string(20, ']');
  const Case cases[] = {
      {"[{\"value\":", "invalid JSON"},
      {"{\"value\":\"x\"}", "JSON array"},
      {"[1,2,3,4]", "at most 3"},
      {deep, "nested deeper"},
      {Cat({"[\"", std::string(2000, 'a'), "\"]"}), "larger than 1000"},
      {"[\"\xff\xfe\"]", "invalid JSON"},
      {"", "invalid JSON"},
      {"[1,]", "invalid JSON"},
  };
  for (const auto& c : cases) {
    auto parsed = ParseIndicatorArray(c.body, small);
    ASSERT_EQ(parsed.errors.size(), 1u) << c.body.substr(0, 40);
    EXPECT_EQ(parsed.errors[0].field, "body");
    EXPECT_FALSE(parsed.errors[0].index.has_value());
    EXPECT_NE(parsed.errors[0].reason.find(c.reason_part), std::string::npos)
        << parsed.errors[0].reason;
  }
}

TEST(IndicatorJsonTest, HugeFieldsAndTooManyTagsAreRefused) {
  IngestLimits limits;
  std::string tags = "[";
  for (int i = 0; i < 101; ++i) tags += Cat({i ? ",\"t" : "\"t", std::to_string(i), "\""});
  tags += "]";
  std::string body =
      Cat({"[", Item(std::string(9000, 'a'), "url"), ",",
           Item("ok.example", "url", Cat({",\"tags\":", tags})), ",",
           Item("ok.example", "url", Cat({",\"comments\":\"", std::string(20000, 'c'), "\""})), ",",
           Item("ok.example", "url", ",\"tags\":[\"a\\nb\"]"), "]"});
  auto parsed = ParseIndicatorArray(body, limits);
  ASSERT_EQ(parsed.errors.size(), 4u) << DetailJson(parsed.errors);
  EXPECT_EQ(parsed.errors[0].field, "value");
  EXPECT_EQ(parsed.errors[1].field, "tags");
  EXPECT_EQ(parsed.errors[2].field, "comments");
  EXPECT_EQ(parsed.errors[3].field, "tags");
}

TEST(IndicatorJsonTest, RetractionShapeNeedsNoType) {
  auto parsed = ParseIndicatorObject(R"({"value":"x.example","source":"feed","retracted":true})",
                                     {}, ItemShape::kRetract);
  ASSERT_TRUE(parsed.errors.empty()) << DetailJson(parsed.errors);
  EXPECT_EQ(parsed.items[0].retracted, true);
  EXPECT_FALSE(parsed.items[0].type.has_value());
  auto full =
      ParseIndicatorObject(R"({"value":"x.example","source":"feed"})", {}, ItemShape::kFull);
  ASSERT_EQ(full.errors.size(), 1u);
  EXPECT_EQ(full.errors[0].field, "type");
}

// Mutations of a valid body (byte flips, cuts, inserted brackets, quotes and escapes) never crash
// the parser (run under the asan preset too) and always end in items or named errors.
TEST(IndicatorJsonTest, RandomlyMutatedBodiesNeverCrash) {
  std::string valid = "[";
  for (int i = 0; i < 20; ++i) {
    // Not `(i ? "," : "") + Item("h" + ...)`: GCC 12 at -O3 reports a false -Wrestrict (GCC PR
    // 105329).
    if (i) valid += ',';
    std::string value = "h";
    value += std::to_string(i);
    value += ".example";
    valid += Item(value, "domain",
                  R"(,"tags":["a","b"],"reputation":3,"firstSeen":"2027-01-01T00:00:00Z")");
  }
  valid += "]";
  std::mt19937 rng(7);
  const std::vector<char> specials = {'[', ']', '{', '}', '"', ',', ':', '\\', '\0', '\xff',
                                      '0', '-', 'e', 'E', '.', 't', 'f', 'n',  ' '};
  for (int round = 0; round < 3000; ++round) {
    std::string body = valid;
    const int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits && !body.empty(); ++e) {
      size_t at = rng() % body.size();
      switch (rng() % 4) {
        case 0:
          body[at] = specials[rng() % specials.size()];
          break;
        case 1:
          body.insert(at, 1, specials[rng() % specials.size()]);
          break;
        case 2:
          body.erase(at, 1 + rng() % 16);
          break;
        default:
          body.resize(at);
      }
    }
    auto array = ParseIndicatorArray(body, {});
    for (const auto& err : array.errors) EXPECT_FALSE(err.field.empty() || err.reason.empty());
    auto object = ParseIndicatorObject(body, {}, ItemShape::kFull);
    EXPECT_TRUE(!object.errors.empty() || object.items.size() == 1);
  }
}

TEST(IndicatorJsonTest, DepthScannerSkipsStrings) {
  EXPECT_EQ(JsonDepth(R"({"a":[1,{"b":"[[[["}]})"), 3u);
  EXPECT_EQ(JsonDepth(R"("\"[[")"), 0u);
  EXPECT_EQ(JsonDepth(std::string(100, '[')), 100u);
}

TEST(IndicatorOutputTest, DetailShapesAndEscaping) {
  EXPECT_EQ(DetailJson("Not enough permissions."), R"({"detail":"Not enough permissions."})");
  EXPECT_EQ(DetailJson({{2, "value", "bad \"x\"\n"}, {std::nullopt, "body", "b"}}),
            R"({"detail":[{"index":2,"field":"value","reason":"bad \"x\"\n"},)"
            R"({"field":"body","reason":"b"}]})");
}

}  // namespace
}  // namespace cte::ingest
