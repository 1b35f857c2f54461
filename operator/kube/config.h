// Where the Kubernetes API is and how to authenticate: from a kubeconfig file or from the
// in-cluster service account. Bound service-account tokens rotate, so the token is read through a
// TokenSource that re-reads its file when it changes.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "operator/core/secret_string.h"
#include "operator/core/status.h"

namespace cte::kube {

// Supplies the bearer token for each request. Thread-safe.
class TokenSource {
 public:
  virtual ~TokenSource() = default;
  virtual SecretString Token() = 0;
};

class StaticTokenSource : public TokenSource {
 public:
  explicit StaticTokenSource(SecretString token) : token_(std::move(token)) {}
  SecretString Token() override { return token_; }

 private:
  SecretString token_;
};

// Re-reads the file when its modification time or size changes (kubelet rewrites projected
// tokens well before they expire).
class FileTokenSource : public TokenSource {
 public:
  explicit FileTokenSource(std::string path) : path_(std::move(path)) {}
  SecretString Token() override;

 private:
  std::string path_;
  std::mutex mu_;
  int64_t mtime_ns_ = -1;
  int64_t size_ = -1;
  SecretString cached_;
};

struct KubeConfig {
  std::string server;  // https://host:port or http://127.0.0.1:port
  std::string ca_pem;  // empty: system trust store
  std::string client_cert_pem;
  std::string client_key_pem;
  bool insecure_skip_tls_verify = false;
  std::shared_ptr<TokenSource> token;  // null: no bearer token
  std::string default_namespace = "default";
};

// Loads the current context (or `context` when given) of a kubeconfig file. An exec or
// auth-provider user gets a clear "not supported" error naming the user.
StatusOr<KubeConfig> LoadKubeconfig(const std::string& path, const std::string& context = "");

// Paths the in-cluster loader reads; tests point them at a temporary directory.
struct InClusterPaths {
  std::string token = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string ca = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  std::string ns = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
};

// Uses KUBERNETES_SERVICE_HOST/PORT, the service-account CA and a FileTokenSource.
StatusOr<KubeConfig> LoadInCluster(const InClusterPaths& paths = {});

// --kubeconfig if given, else $KUBECONFIG, else in-cluster, else ~/.kube/config.
StatusOr<KubeConfig> LoadDefault(const std::string& kubeconfig_flag);

}  // namespace cte::kube
