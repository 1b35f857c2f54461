// Bearer tokens: claims round trip, expiry on the simulated clock, key rotation without
// invalidating live tokens, and refusal of tampered, unsigned and foreign tokens.
#include "operator/ingest/token_service.h"

#include <gtest/gtest.h>

#include "operator/core/base64.h"

namespace cte::ingest {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

const store::SourceRef kPlugin{"team-a", "feed"};

std::string B64Url(std::string_view s) {
  std::string out = Base64Encode(s);
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

TEST(TokenServiceTest, IssuedTokenVerifiesWithItsClaims) {
  SimulatedClock clock;
  TokenService tokens(clock);
  SecretString t = tokens.Issue(kPlugin, "client-1", {"cte_read", "cte_write"});
  auto claims = tokens.Verify(t.Reveal());
  ASSERT_TRUE(claims.ok()) << claims.status().message();
  EXPECT_EQ(claims->plugin, kPlugin);
  EXPECT_EQ(claims->client_id, "client-1");
  EXPECT_TRUE(claims->HasScope("cte_write"));
  EXPECT_EQ(claims->expires_at - claims->issued_at, minutes(120));
}

TEST(TokenServiceTest, ExpiresAfter120Minutes) {
  SimulatedClock clock;
  TokenService tokens(clock);
  SecretString t = tokens.Issue(kPlugin, "c", {"cte_read"});
  clock.Advance(minutes(119));
  EXPECT_TRUE(tokens.Verify(t.Reveal()).ok());
  clock.Advance(minutes(1));
  auto r = tokens.Verify(t.Reveal());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
}

TEST(TokenServiceTest, RotationKeepsLiveTokensValidUntilTheyExpire) {
  SimulatedClock clock;
  TokenServiceOptions options;
  options.rotation_interval = hours(1);
  TokenService tokens(clock, options);
  SecretString old_token = tokens.Issue(kPlugin, "c", {"cte_read"});
  clock.Advance(minutes(61));
  SecretString new_token = tokens.Issue(kPlugin, "c", {"cte_read"});  // rotates first
  EXPECT_NE(old_token.Reveal().substr(0, 40), new_token.Reveal().substr(0, 40));
  EXPECT_TRUE(tokens.Verify(old_token.Reveal()).ok()) << "signed by the retired key";
  EXPECT_TRUE(tokens.Verify(new_token.Reveal()).ok());
  clock.Advance(minutes(120));
  tokens.Rotate();  // the retired key's tokens have all expired: it is dropped
  EXPECT_FALSE(tokens.Verify(old_token.Reveal()).ok());
}

TEST(TokenServiceTest, RefusesTamperedUnsignedAndForeignTokens) {
  SimulatedClock clock;
  TokenService tokens(clock);
  TokenService other(clock);
  const std::string t = tokens.Issue(kPlugin, "c", {"cte_read"}).Reveal();
  const size_t d1 = t.find('.'), d2 = t.rfind('.');

  // Another plugin's claims with the original signature.
  std::string payload = B64Url(
      R"({"ns":"team-b","plugin":"feed","sub":"c","scopes":["cte_read","cte_write"],"iat":1800000000,"exp":1900000000})");
  std::string forged = t.substr(0, d1 + 1) + payload + t.substr(d2);
  // alg "none" with no signature.
  std::string none = B64Url(R"({"alg":"none","typ":"JWT","kid":"k1"})") + "." + payload + ".";
  // A different signature, and the same signature spelled with other unused trailing bits.
  std::string flipped = t;
  flipped[d2 + 5] = flipped[d2 + 5] == 'A' ? 'B' : 'A';
  std::string respelled = t;
  respelled.back() = respelled.back() == 'A'   ? 'B'
                     : respelled.back() == 'B' ? 'A'
                                               : respelled.back() ^ 1;
  for (const std::string& bad :
       {forged, none, flipped, respelled, other.Issue(kPlugin, "c", {"cte_read"}).Reveal(),
        std::string(), std::string("abc"), std::string("a.b.c.d"), t + "=",
        std::string(5000, 'a')}) {
    auto r = tokens.Verify(bad);
    EXPECT_FALSE(r.ok()) << bad.substr(0, 60);
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
      EXPECT_EQ(r.status().message().find(t), std::string::npos) << "never echo a token";
    }
  }
}

}  // namespace
}  // namespace cte::ingest
