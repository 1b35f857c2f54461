#include "hack/tenant-simulator/validation.h"

#include <gtest/gtest.h>

#include "hack/tenant-simulator/window_limiter.h"

namespace cte::tenantsim {
namespace {

struct EntryCase {
  std::string entry;
  EntryVerdict want;
};

// Names the case by its entry in test output (the default prints raw bytes, pointers included).
void PrintTo(const EntryCase& c, std::ostream* os) { *os << '"' << c.entry << '"'; }

class ExactEntryTest : public ::testing::TestWithParam<EntryCase> {};

TEST_P(ExactEntryTest, FollowsTheDocumentedSyntax) {
  EntryCheck check = CheckExactEntry(GetParam().entry);
  EXPECT_EQ(check.verdict, GetParam().want) << GetParam().entry << ": " << check.reason;
  if (check.verdict == EntryVerdict::kInvalid) {
    EXPECT_FALSE(check.reason.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Reference32, ExactEntryTest,
    ::testing::Values(EntryCase{"bad.example", EntryVerdict::kValid},
                      EntryCase{"bad.example/some/path?x=1", EntryVerdict::kValid},
                      EntryCase{"https://bad.example:8443/login", EntryVerdict::kValid},
                      EntryCase{"HTTP://bad.example/", EntryVerdict::kValid},
                      EntryCase{"*.evil.example", EntryVerdict::kValid},
                      EntryCase{"localhost", EntryVerdict::kValid},
                      EntryCase{"192.0.2.10", EntryVerdict::kValid},
                      EntryCase{"10.0.0.0/8", EntryVerdict::kValid},
                      EntryCase{"10.0.0.1-10.0.0.9", EntryVerdict::kValid},
                      EntryCase{"xn--bcher-kva.example", EntryVerdict::kValid},
                      EntryCase{"", EntryVerdict::kIgnored},
                      EntryCase{"# a comment", EntryVerdict::kIgnored},
                      EntryCase{"; another", EntryVerdict::kIgnored},
                      EntryCase{"www.example.com/*", EntryVerdict::kInvalid},
                      EntryCase{"bad example.com", EntryVerdict::kInvalid},
                      EntryCase{" bad.example", EntryVerdict::kInvalid},
                      EntryCase{"b\xc3\xbc"
                                "cher.example",
                                EntryVerdict::kInvalid},
                      EntryCase{"user:pass@bad.example", EntryVerdict::kInvalid},
                      EntryCase{"ftp://bad.example", EntryVerdict::kInvalid},
                      EntryCase{"-bad.example", EntryVerdict::kInvalid},
                      EntryCase{"bad-.example", EntryVerdict::kInvalid},
                      EntryCase{"bad_host.example", EntryVerdict::kInvalid},
                      EntryCase{"bad..example", EntryVerdict::kInvalid},
                      EntryCase{"ba*d.example", EntryVerdict::kInvalid},
                      EntryCase{"999.1.1.1", EntryVerdict::kInvalid},
                      EntryCase{"2001:db8::1", EntryVerdict::kInvalid},
                      EntryCase{"http://[2001:db8::1]/", EntryVerdict::kInvalid},
                      EntryCase{"bad.example:8080", EntryVerdict::kInvalid},
                      EntryCase{"https://bad.example:99999/", EntryVerdict::kInvalid},
                      EntryCase{"10.0.0.0/33", EntryVerdict::kInvalid}));

class RegexEntryTest : public ::testing::TestWithParam<EntryCase> {};

TEST_P(RegexEntryTest, AcceptsRe2AndRefusesPcreOnlyFeaturesAndSchemes) {
  EXPECT_EQ(CheckRegexEntry(GetParam().entry).verdict, GetParam().want) << GetParam().entry;
}

INSTANTIATE_TEST_SUITE_P(
    Reference32, RegexEntryTest,
    ::testing::Values(EntryCase{R"(.*\.evil\.example)", EntryVerdict::kValid},
                      EntryCase{R"(bad[0-9]+\.example/login)", EntryVerdict::kValid},
                      EntryCase{"", EntryVerdict::kIgnored},
                      EntryCase{R"(https?://bad\.example)", EntryVerdict::kInvalid},
                      EntryCase{R"(bad(?=x)\.example)", EntryVerdict::kInvalid},
                      EntryCase{R"((a)\1\.example)", EntryVerdict::kInvalid},
                      EntryCase{R"(bad[\.example)", EntryVerdict::kInvalid},
                      EntryCase{R"(a b)", EntryVerdict::kInvalid}));

TEST(ListNameTest, RefusesTheDocumentedCharacters) {
  EXPECT_FALSE(ListNameProblem("cte-malsites_01").has_value());
  EXPECT_FALSE(ListNameProblem("CTE Malsites").has_value());
  EXPECT_TRUE(ListNameProblem("").has_value());
  for (char c : std::string("<>/!@#$%^&*(){};+=,?.|:'\"")) {
    EXPECT_TRUE(ListNameProblem(std::string("cte") + c + "x").has_value()) << c;
  }
}

TEST(FileHashTest, AcceptsMd5AndSha256InEitherCase) {
  EXPECT_TRUE(IsFileHash(std::string(32, 'a')));
  EXPECT_TRUE(IsFileHash(std::string(64, 'F')));
  EXPECT_FALSE(IsFileHash(std::string(40, 'a')));  // sha1 is not accepted
  EXPECT_FALSE(IsFileHash(std::string(31, 'a') + "g"));
  EXPECT_FALSE(IsFileHash(""));
}

TEST(JsonArrayBytesTest, CountsLikePythonJsonDumps) {
  EXPECT_EQ(JsonArrayBytes({}), 2u);            // []
  EXPECT_EQ(JsonArrayBytes({"a"}), 5u);         // ["a"]
  EXPECT_EQ(JsonArrayBytes({"a", "bc"}), 11u);  // ["a", "bc"]
  EXPECT_EQ(JsonArrayBytes({"q\"x"}), std::string(R"(["q\"x"])").size());
}

TEST(WindowLimiterTest, AllowsNInAnyWindowAndSaysWhenTheNextSlotFrees) {
  WindowLimiter limiter(4, std::chrono::seconds(1));
  MonoTime t0(std::chrono::hours(1));
  for (int i = 0; i < 4; ++i) {
    auto d = limiter.Check(t0 + std::chrono::milliseconds(100 * i));
    ASSERT_TRUE(d.allowed);
    EXPECT_EQ(d.remaining, 3 - i);
    limiter.Record(t0 + std::chrono::milliseconds(100 * i));
  }
  auto refused = limiter.Check(t0 + std::chrono::milliseconds(500));
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.remaining, 0);
  EXPECT_NEAR(refused.retry_after_seconds, 0.5, 1e-9);
  EXPECT_TRUE(limiter.Check(t0 + std::chrono::seconds(1)).allowed);
  WindowLimiter unlimited(0, std::chrono::seconds(1));
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(unlimited.Check(t0).allowed);
    unlimited.Record(t0);
  }
}

}  // namespace
}  // namespace cte::tenantsim
