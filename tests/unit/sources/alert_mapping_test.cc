// Alert -> indicator mapping, case by case as reference/netskope-api.md §5.2 describes it.
#include "operator/sources/alert_mapping.h"

#include <gtest/gtest.h>

namespace cte::sources {
namespace {

using netskope::Alert;
using netskope::AlertType;
using store::IndicatorType;

const std::string kMd5A(32, 'a');
const std::string kMd5B(32, 'b');
const std::string kShaC(64, 'c');

MappingOptions Options(bool hashes = true, bool urls = true) {
  MappingOptions o;
  o.plugin = {"team-a", "acme-netskope"};
  o.tenant_name = "acme.goskope.com";
  o.hashes = hashes;
  o.urls = urls;
  o.now = WallTime(std::chrono::seconds(1'800'000'000));
  return o;
}

std::vector<std::pair<IndicatorType, std::string>> Values(
    const std::vector<store::Indicator>& inds) {
  std::vector<std::pair<IndicatorType, std::string>> out;
  for (const auto& i : inds) out.emplace_back(i.type, i.value);
  return out;
}

TEST(AlertMappingTest, MalwareHashesFollowTheLocalAndCloudRules) {
  struct Case {
    const char* name;
    std::string local_md5, md5, local_sha256, sha256;
    std::vector<std::pair<IndicatorType, std::string>> want;
  };
  const Case cases[] = {
      {"equal local and cloud md5: one", kMd5A, kMd5A, "", "", {{IndicatorType::kMd5, kMd5A}}},
      {"different: one each",
       kMd5A,
       kMd5B,
       "",
       "",
       {{IndicatorType::kMd5, kMd5A}, {IndicatorType::kMd5, kMd5B}}},
      {"only cloud md5", "", kMd5B, "", "", {{IndicatorType::kMd5, kMd5B}}},
      {"md5 and sha256",
       "",
       kMd5A,
       kShaC,
       kShaC,
       {{IndicatorType::kMd5, kMd5A}, {IndicatorType::kSha256, kShaC}}},
      {"upper case is folded",
       "",
       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
       "",
       "",
       {{IndicatorType::kMd5, kMd5A}}},
      {"not hex: skipped", "", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "", "", {}},
      {"wrong length: skipped", "", "abc", "", std::string(63, 'c'), {}},
  };
  for (const auto& c : cases) {
    Alert a;
    a.local_md5 = c.local_md5;
    a.md5 = c.md5;
    a.local_sha256 = c.local_sha256;
    a.sha256 = c.sha256;
    std::vector<store::Indicator> out;
    MapAlert(a, AlertType::kMalware, Options(), out);
    EXPECT_EQ(Values(out), c.want) << c.name;
  }
}

TEST(AlertMappingTest, MalwareCommentSeverityAndTimes) {
  Alert a;
  a.md5 = kMd5A;
  a.object = "invoice.exe";
  a.malware_name = "Trojan.Gen";
  a.malware_type = "Trojan";
  a.severity = "High";
  a.timestamp = 1'799'000'000;
  std::vector<store::Indicator> out;
  ASSERT_EQ(MapAlert(a, AlertType::kMalware, Options(), out), 1u);
  const auto& i = out[0];
  EXPECT_EQ(i.comments,
            "acme.goskope.com - invoice.exe, Malware Name: Trojan.Gen, Malware Type: Trojan");
  EXPECT_EQ(i.severity, store::Severity::kHigh);
  EXPECT_EQ(i.first_seen, WallTime(std::chrono::seconds(1'799'000'000)));
  EXPECT_EQ(i.last_seen, i.first_seen);
  EXPECT_EQ(i.reputation, store::kDefaultReputation);
  EXPECT_EQ(i.source, (store::SourceRef{"team-a", "acme-netskope"}));

  Alert bare;
  bare.md5 = kMd5B;
  bare.severity = "bogus";
  out.clear();
  MapAlert(bare, AlertType::kMalware, Options(), out);
  EXPECT_EQ(out[0].comments, "acme.goskope.com");
  EXPECT_EQ(out[0].severity, store::Severity::kUnknown);
  EXPECT_EQ(out[0].first_seen, Options().now) << "no timestamp: now";
}

TEST(AlertMappingTest, MalsiteGivesOneUrlWithItsCategories) {
  Alert a;
  a.url = "http://bad.example/login";
  a.malsite_category = {"Phishing", "Malware"};
  a.severity = "medium";
  std::vector<store::Indicator> out;
  ASSERT_EQ(MapAlert(a, AlertType::kMalsite, Options(), out), 1u);
  EXPECT_EQ(out[0].type, IndicatorType::kUrl);
  EXPECT_EQ(out[0].value, "http://bad.example/login");
  EXPECT_EQ(out[0].comments, "acme.goskope.com - Phishing, Malware");
  EXPECT_EQ(out[0].severity, store::Severity::kMedium);

  Alert no_url;
  out.clear();
  EXPECT_EQ(MapAlert(no_url, AlertType::kMalsite, Options(), out), 0u);
}

TEST(AlertMappingTest, ThreatDataTypeGatesEachAlertType) {
  Alert malware;
  malware.md5 = kMd5A;
  Alert malsite;
  malsite.url = "http://x.example/";
  std::vector<store::Indicator> out;
  EXPECT_EQ(MapAlert(malware, AlertType::kMalware, Options(false, true), out), 0u);
  EXPECT_EQ(MapAlert(malsite, AlertType::kMalsite, Options(true, false), out), 0u);
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace cte::sources
