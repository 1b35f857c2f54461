// The local Kubernetes API server: discovery, OpenAPI v3, CRUD with Kubernetes semantics, watch,
// server-side printing, and an admin endpoint for fault injection. See docs/local-apiserver.md
// for what it does and where it knowingly differs from a real cluster.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "hack/local-apiserver/object_store.h"
#include "hack/local-apiserver/resource_types.h"
#include "operator/core/status.h"
#include "operator/http/http_server.h"

namespace cte::apiserver {

struct ApiServerOptions {
  // How often a watch that asked for bookmarks gets one.
  std::chrono::milliseconds bookmark_interval{std::chrono::seconds(5)};
  // Events kept for watches; older resourceVersions get 410 Gone.
  size_t history_limit = 20000;
};

class ApiServer {
 public:
  explicit ApiServer(ApiServerOptions options = {});
  ~ApiServer();

  Status Start(const std::string& host, int port);
  void Stop();
  int port() const { return http_.port(); }
  std::string url() const;

  // Writes a kubeconfig for this server (no auth, plain HTTP, context "local").
  Status WriteKubeconfig(const std::string& path) const;

 private:
  struct ResourceRequest;  // a parsed /api or /apis request
  struct Fault {
    std::string path_prefix;
    std::string method;  // empty: any
    int code = 500;
    int remaining = 1;
    double retry_after_seconds = 1;
    int delay_ms = 0;  // "delay": answer normally, but only after this long
  };

  void Handle(const http::HttpRequest& req, http::ResponseWriter& w);
  void HandleAdmin(const http::HttpRequest& req, http::ResponseWriter& w);
  bool ApplyFault(const http::HttpRequest& req, http::ResponseWriter& w);
  // Rewrites the timestamps of built-in kinds in the server's spelling; InvalidArgument naming
  // the field when one does not parse.
  static Status NormalizeTimes(const ResourceType& t, nlohmann::json& object);

  // Discovery and OpenAPI.
  void ServeDiscovery(const http::HttpRequest& req, http::ResponseWriter& w);
  nlohmann::json ResourceList(const std::string& group, const std::string& version) const;
  void ServeOpenApi(const http::HttpRequest& req, http::ResponseWriter& w);
  nlohmann::json OpenApiDocument(const std::string& group, const std::string& version) const;

  // Resource verbs.
  void Get(const ResourceRequest& r, http::ResponseWriter& w);
  void List(const ResourceRequest& r, http::ResponseWriter& w);
  void Watch(const ResourceRequest& r, http::ResponseWriter& w);
  void Create(const ResourceRequest& r, http::ResponseWriter& w);
  void Update(const ResourceRequest& r, http::ResponseWriter& w);
  void Patch(const ResourceRequest& r, http::ResponseWriter& w);
  void Delete(const ResourceRequest& r, http::ResponseWriter& w);
  void DeleteCollection(const ResourceRequest& r, http::ResponseWriter& w);

  // Shared write path: validates `next` against the type's rules, computes metadata, stores it.
  // `existing` is null for a create. Requires the store lock. On success returns the stored
  // object; on failure the metav1.Status to send.
  struct WriteResult {
    WriteResult() = default;
    WriteResult(int c, nlohmann::json b, std::vector<std::string> w = {})
        : code(c), body(std::move(b)), warnings(std::move(w)) {}
    int code = 200;
    nlohmann::json body;
    std::vector<std::string> warnings;
  };
  WriteResult CommitWrite(const ResourceRequest& r, const nlohmann::json* existing,
                          nlohmann::json next, const std::string& manager,
                          const std::string& operation);
  WriteResult DeleteLocked(const ResourceRequest& r, const nlohmann::json& existing,
                           const nlohmann::json& options);
  void RemoveCrdObjects(const ResourceTypePtr& type);

  void SendObject(const ResourceRequest& r, http::ResponseWriter& w, int code,
                  const nlohmann::json& obj, const std::vector<std::string>& warnings = {});

  ApiServerOptions options_;
  http::HttpServer http_;
  ResourceRegistry registry_;
  ObjectStore store_;

  std::mutex faults_mu_;
  std::vector<Fault> faults_;
  std::map<std::string, int> request_counts_;  // "METHOD path" -> count
  std::atomic<uint64_t> watch_close_generation_{0};
  std::atomic<uint64_t> watch_silence_generation_{0};
  std::atomic<bool> stopping_{false};
};

}  // namespace cte::apiserver
