#include "operator/netskope/transport_options.h"

#include <gtest/gtest.h>

#include <map>

namespace cte::netskope {
namespace {

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) {
    auto it = vars.find(name);
    return it == vars.end() ? std::string() : it->second;
  };
}

TEST(TenantTransportOptionsTest, SystemProxyOnlyWhenTheTenantAsksForIt) {
  auto env = FakeEnv({{"HTTPS_PROXY", "http://proxy:3128"}, {"NO_PROXY", ".internal,10.0.0.1"}});
  auto direct = TenantTransportOptions({false, ""}, env);
  EXPECT_EQ(direct.proxy_url, "");
  auto proxied = TenantTransportOptions({true, ""}, env);
  EXPECT_EQ(proxied.proxy_url, "http://proxy:3128");
  EXPECT_EQ(proxied.no_proxy, ".internal,10.0.0.1");
}

TEST(TenantTransportOptionsTest, LowerCaseVariablesAreTheFallback) {
  auto env = FakeEnv({{"https_proxy", "http://p:1"}, {"no_proxy", "localhost"}});
  auto o = TenantTransportOptions({true, ""}, env);
  EXPECT_EQ(o.proxy_url, "http://p:1");
  EXPECT_EQ(o.no_proxy, "localhost");
}

TEST(TenantTransportOptionsTest, CaBundleAddsToTheSystemRootsAndVerificationIsAlwaysOn) {
  auto o = TenantTransportOptions({false, "-----BEGIN CERTIFICATE-----\n..."}, FakeEnv({}));
  EXPECT_EQ(o.tls.ca_bundle_pem, "-----BEGIN CERTIFICATE-----\n...");
  EXPECT_TRUE(o.tls.ca_bundle_adds_to_system_roots);
  EXPECT_FALSE(o.tls.insecure_skip_verify);
  EXPECT_FALSE(TenantTransportOptions({true, ""}, FakeEnv({})).tls.insecure_skip_verify);
}

TEST(TenantTransportOptionsTest, NoProxyMatchingFollowsTheTransport) {
  // The transport decides per host with http::HostBypassesProxy; the tenant hosts we care about:
  EXPECT_TRUE(http::HostBypassesProxy("acme.goskope.com", ".goskope.com"));
  EXPECT_TRUE(http::HostBypassesProxy("127.0.0.1", "localhost,127.0.0.1"));
  EXPECT_FALSE(http::HostBypassesProxy("acme.goskope.com", "example.com"));
}

}  // namespace
}  // namespace cte::netskope
