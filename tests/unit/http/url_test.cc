// Tests operator/http/url.cc: the absolute URLs both transports parse, proxy credentials, and
// redaction of passwords in messages.
#include "operator/http/url.h"

#include <gtest/gtest.h>

namespace cte::http {
namespace {

TEST(UrlTest, SplitsSchemeHostPortAndTarget) {
  auto u = ParseUrl("https://acme.goskope.com/api/v2/policy/urllist?field=id,name");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_TRUE(u->tls());
  EXPECT_EQ(u->host, "acme.goskope.com");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/api/v2/policy/urllist?field=id,name");
  EXPECT_EQ(u->HostHeader(), "acme.goskope.com");
  EXPECT_EQ(u->Origin(), "https://acme.goskope.com:443");
  EXPECT_FALSE(u->has_credentials);
}

TEST(UrlTest, ReadsIpv6PortsAndDefaults) {
  auto v6 = ParseUrl("http://[::1]:8080/x");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 8080);
  EXPECT_EQ(v6->HostHeader(), "[::1]:8080");
  EXPECT_EQ(v6->Authority(), "[::1]:8080");
  auto bare = ParseUrl("HTTP://example.com");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->scheme, "http");
  EXPECT_EQ(bare->port, 80);
  EXPECT_EQ(bare->target, "/");
  auto query_only = ParseUrl("http://example.com?a=1#frag");
  ASSERT_TRUE(query_only.ok());
  EXPECT_EQ(query_only->target, "/?a=1");
}

TEST(UrlTest, ProxyCredentialsArePercentDecoded) {
  auto u = ParseUrl("http://svc%2Dce:p%40ss:w0rd@proxy.corp:3128");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_TRUE(u->has_credentials);
  EXPECT_EQ(u->user, "svc-ce");
  EXPECT_EQ(u->password, "p@ss:w0rd");
  EXPECT_EQ(u->host, "proxy.corp");
  EXPECT_EQ(u->port, 3128);
  EXPECT_EQ(BasicAuthorization(*u), "Basic c3ZjLWNlOnBAc3M6dzByZA==");
  // An unencoded '@' in the password: the last '@' ends the userinfo.
  auto raw = ParseUrl("http://user:p@ss@proxy.corp:3128");
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->password, "p@ss");
  EXPECT_EQ(raw->host, "proxy.corp");
}

TEST(UrlTest, RefusesWhatIsNotAnAbsoluteHttpUrlWithoutRepeatingThePassword) {
  for (const char* bad :
       {"acme.goskope.com", "ftp://x/", "http://", "http://:80/", "http://a:0/", "http://a:70000/",
        "http://a:8o/", "http://[::1/", "http://::1/", "http://a/b c", "http://a/b\r\nX: y"}) {
    EXPECT_FALSE(ParseUrl(bad).ok()) << bad;
  }
  auto s = ParseUrl("http://user:hunter2@:99999/").status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message().find("hunter2"), std::string::npos) << s.message();
}

TEST(UrlTest, RedactsPasswordsOnly) {
  EXPECT_EQ(RedactUrl("http://u:secret@proxy:3128/x"), "http://u:***@proxy:3128/x");
  EXPECT_EQ(RedactUrl("http://u@proxy:3128"), "http://u@proxy:3128");
  EXPECT_EQ(RedactUrl("http://proxy:3128/a@b"), "http://proxy:3128/a@b");
}

}  // namespace
}  // namespace cte::http
