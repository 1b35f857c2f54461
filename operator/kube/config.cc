#include "operator/kube/config.h"

#include <sys/stat.h>

#include <cstdlib>

#include "operator/core/base64.h"
#include "operator/core/json_util.h"

namespace cte::kube {
namespace {

using nlohmann::json;

// Finds {name: ..} in the array cfg[key]; the pointer stays valid as long as `cfg` does.
const json* FindNamed(const json& cfg, const char* key, const std::string& name) {
  auto it = cfg.find(key);
  if (it == cfg.end() || !it->is_array()) return nullptr;
  for (const auto& item : *it) {
    if (item.is_object() && item.value("name", "") == name) return &item;
  }
  return nullptr;
}

std::string Dir(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::string Resolve(const std::string& base_dir, const std::string& file) {
  return !file.empty() && file[0] == '/' ? file : base_dir + "/" + file;
}

// Reads inline base64 data (`<field>-data`) or a file (`<field>`), relative to the kubeconfig.
StatusOr<std::string> DataOrFile(const json& obj, const std::string& field, const std::string& dir,
                                 const std::string& where) {
  std::string data = obj.value(field + "-data", "");
  if (!data.empty()) return Base64Decode(data);
  std::string file = obj.value(field, "");
  if (file.empty()) return std::string();
  auto content = ReadFile(Resolve(dir, file));
  if (!content.ok()) {
    return InvalidArgumentError(where + "." + field + ": cannot read " + Resolve(dir, file));
  }
  return *content;
}

}  // namespace

SecretString FileTokenSource::Token() {
  struct stat st {};
  std::lock_guard<std::mutex> lock(mu_);
  if (::stat(path_.c_str(), &st) != 0) return cached_;
  int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  if (mtime != mtime_ns_ || st.st_size != size_) {
    auto content = ReadFile(path_);
    if (content.ok()) {
      std::string token = *content;
      while (!token.empty() &&
             (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
        token.pop_back();
      }
      cached_ = SecretString(token);
      mtime_ns_ = mtime;
      size_ = st.st_size;
    }
  }
  return cached_;
}

StatusOr<KubeConfig> LoadKubeconfig(const std::string& path, const std::string& context_name) {
  auto text = ReadFile(path);
  if (!text.ok()) return NotFoundError("kubeconfig " + path + " cannot be read");
  auto docs = ParseYamlDocuments(*text);
  if (!docs.ok() || docs->empty() || !(*docs)[0].is_object()) {
    return InvalidArgumentError("kubeconfig " + path + " is not a YAML object");
  }
  const json& cfg = (*docs)[0];
  std::string ctx_name = context_name.empty() ? cfg.value("current-context", "") : context_name;
  if (ctx_name.empty()) return InvalidArgumentError("kubeconfig " + path + ": no current-context");
  const json* ctx = FindNamed(cfg, "contexts", ctx_name);
  if (!ctx || !ctx->contains("context")) {
    return InvalidArgumentError("kubeconfig " + path + ": context \"" + ctx_name + "\" not found");
  }
  const json& c = (*ctx)["context"];
  std::string cluster_name = c.value("cluster", "");
  std::string user_name = c.value("user", "");
  const json* cluster = FindNamed(cfg, "clusters", cluster_name);
  if (!cluster || !cluster->contains("cluster")) {
    return InvalidArgumentError("kubeconfig " + path + ": cluster \"" + cluster_name +
                                "\" not found");
  }
  const std::string dir = Dir(path);
  KubeConfig out;
  const json& cl = (*cluster)["cluster"];
  out.server = cl.value("server", "");
  while (!out.server.empty() && out.server.back() == '/') out.server.pop_back();
  if (out.server.empty()) {
    return InvalidArgumentError("kubeconfig " + path + ": clusters[" + cluster_name +
                                "].server is empty");
  }
  out.insecure_skip_tls_verify = cl.value("insecure-skip-tls-verify", false);
  auto ca = DataOrFile(cl, "certificate-authority", dir, "clusters[" + cluster_name + "]");
  if (!ca.ok()) return ca.status();
  out.ca_pem = *ca;
  out.default_namespace = c.value("namespace", "default");

  if (!user_name.empty()) {
    const json* user = FindNamed(cfg, "users", user_name);
    if (!user)
      return InvalidArgumentError("kubeconfig " + path + ": user \"" + user_name + "\" not found");
    const json& u = user->value("user", json::object());
    if (u.contains("exec")) {
      return InvalidArgumentError("kubeconfig user \"" + user_name +
                                  "\" uses an exec credential plugin, which cte-operator does not "
                                  "support; use a token, a token file or a client certificate");
    }
    if (u.contains("auth-provider")) {
      return InvalidArgumentError("kubeconfig user \"" + user_name +
                                  "\" uses an auth-provider, which cte-operator does not support");
    }
    std::string where = "users[" + user_name + "]";
    auto cert = DataOrFile(u, "client-certificate", dir, where);
    if (!cert.ok()) return cert.status();
    auto key = DataOrFile(u, "client-key", dir, where);
    if (!key.ok()) return key.status();
    out.client_cert_pem = *cert;
    out.client_key_pem = *key;
    if (out.client_cert_pem.empty() != out.client_key_pem.empty()) {
      return InvalidArgumentError(where +
                                  ": client-certificate and client-key must be set together");
    }
    if (u.contains("token") && u["token"].is_string()) {
      out.token = std::make_shared<StaticTokenSource>(SecretString(u["token"].get<std::string>()));
    } else if (u.contains("tokenFile") && u["tokenFile"].is_string()) {
      out.token =
          std::make_shared<FileTokenSource>(Resolve(dir, u["tokenFile"].get<std::string>()));
    }
  }
  return out;
}

StatusOr<KubeConfig> LoadInCluster(const InClusterPaths& paths) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !*host || !port || !*port) {
    return NotFoundError("not running in a cluster: KUBERNETES_SERVICE_HOST/PORT are not set");
  }
  KubeConfig out;
  std::string h = host;
  if (h.find(':') != std::string::npos) h = "[" + h + "]";  // IPv6
  out.server = "https://" + h + ":" + port;
  auto ca = ReadFile(paths.ca);
  if (!ca.ok()) return InvalidArgumentError("in-cluster CA " + paths.ca + " cannot be read");
  out.ca_pem = *ca;
  out.token = std::make_shared<FileTokenSource>(paths.token);
  if (out.token->Token().empty()) {
    return InvalidArgumentError("in-cluster token " + paths.token + " is missing or empty");
  }
  if (auto ns = ReadFile(paths.ns); ns.ok() && !ns->empty()) {
    std::string n = *ns;
    while (!n.empty() && (n.back() == '\n' || n.back() == ' ')) n.pop_back();
    out.default_namespace = n;
  }
  return out;
}

StatusOr<KubeConfig> LoadDefault(const std::string& kubeconfig_flag) {
  if (!kubeconfig_flag.empty()) return LoadKubeconfig(kubeconfig_flag);
  if (const char* env = std::getenv("KUBECONFIG"); env && *env) {
    std::string first = env;
    first = first.substr(0, first.find(':'));
    return LoadKubeconfig(first);
  }
  auto in_cluster = LoadInCluster();
  if (in_cluster.ok() || in_cluster.status().code() != StatusCode::kNotFound) return in_cluster;
  if (const char* home = std::getenv("HOME"); home && *home) {
    return LoadKubeconfig(std::string(home) + "/.kube/config");
  }
  return NotFoundError("no kubeconfig: pass --kubeconfig, set KUBECONFIG, or run in a cluster");
}

}  // namespace cte::kube
