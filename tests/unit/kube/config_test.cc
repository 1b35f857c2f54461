#include "operator/kube/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "operator/core/base64.h"

namespace cte::kube {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cte-config-test.XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& content) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << content;
    return path;
  }
  std::string Kubeconfig(const std::string& user) {
    return Write("kubeconfig", R"(apiVersion: v1
kind: Config
current-context: dev
contexts:
- name: dev
  context: {cluster: c1, user: u1, namespace: team-a}
- name: other
  context: {cluster: c1, user: u1}
clusters:
- name: c1
  cluster:
    server: https://10.0.0.1:6443/
    certificate-authority: ca.pem
users:
- name: u1
  user:
)" + user);
  }
  std::string dir_;
};

TEST_F(ConfigTest, ReadsServerCaFileTokenAndNamespace) {
  Write("ca.pem", "CA-PEM");
  auto c = LoadKubeconfig(Kubeconfig("    token: abc123\n"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, "https://10.0.0.1:6443");
  EXPECT_EQ(c->ca_pem, "CA-PEM");  // relative to the kubeconfig's folder
  EXPECT_EQ(c->default_namespace, "team-a");
  ASSERT_TRUE(c->token);
  EXPECT_EQ(c->token->Token().Reveal(), "abc123");
}

TEST_F(ConfigTest, ReadsInlineClientCertificate) {
  Write("ca.pem", "CA");
  auto c = LoadKubeconfig(Kubeconfig("    client-certificate-data: " + Base64Encode("CERT") +
                                     "\n    client-key-data: " + Base64Encode("KEY") + "\n"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->client_cert_pem, "CERT");
  EXPECT_EQ(c->client_key_pem, "KEY");
  EXPECT_FALSE(c->token);
}

TEST_F(ConfigTest, ExecPluginIsRejectedClearly) {
  Write("ca.pem", "CA");
  auto c = LoadKubeconfig(Kubeconfig("    exec:\n      command: aws\n"));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("exec credential plugin"), std::string::npos);
  EXPECT_NE(c.status().message().find("u1"), std::string::npos);
}

TEST_F(ConfigTest, MissingContextOrCaFileNamesTheProblem) {
  Write("ca.pem", "CA");
  auto c = LoadKubeconfig(Kubeconfig("    token: x\n"), "nope");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("context \"nope\""), std::string::npos);
  std::filesystem::remove(dir_ + "/ca.pem");
  auto d = LoadKubeconfig(Kubeconfig("    token: x\n"));
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("certificate-authority"), std::string::npos);
}

TEST_F(ConfigTest, InClusterTokenIsReReadWhenTheFileChanges) {
  std::string token = Write("token", "first\n");
  std::string ca = Write("ca.crt", "CA");
  setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto c = LoadInCluster({token, ca, dir_ + "/namespace-missing"});
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, "https://10.96.0.1:443");
  EXPECT_EQ(c->token->Token().Reveal(), "first");
  Write("token", "second-rotated\n");  // a different size, as a rotated token has
  EXPECT_EQ(c->token->Token().Reveal(), "second-rotated");
}

TEST_F(ConfigTest, NotInClusterIsNotFound) {
  unsetenv("KUBERNETES_SERVICE_HOST");
  EXPECT_EQ(LoadInCluster().status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace cte::kube
