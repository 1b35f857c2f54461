// A Netskope tenant for development and tests, following reference/netskope-api.md: v1 and v2
// tokens with per-endpoint scopes, v2 URL lists with pending changes and deploy, the v1 file-hash
// list update, the v2 data-export alert iterator, size and entry caps, the published rate limits
// with RateLimit-* headers, and a test-only control plane under /__sim/ (read back every list,
// request log, seed alerts, create file-hash lists, inject faults, reset).
//
// Threading: the HTTP server calls handlers on one thread per connection; all tenant state is
// guarded by one mutex. Faults that hang or delay a request wait outside that mutex, on the
// injected Clock (so Stop() can wake them).
#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hack/tenant-simulator/alert_store.h"
#include "hack/tenant-simulator/sim_options.h"
#include "hack/tenant-simulator/window_limiter.h"
#include "operator/core/clock.h"
#include "operator/http/http_server.h"

namespace cte::tenantsim {

// One injected fault: the next `count` requests whose path matches answer as `kind` says.
struct Fault {
  enum class Kind {
    kStatus,   // answer `status` with `body` (429 and 500 get the tenant's bodies by default)
    kHang,     // hold the request until the client gives up (or max_hang), then reset it
    kReset,    // reset the connection without answering
    kLatency,  // wait `latency`, then serve the request normally
    // serve the request (it takes effect), then reset the connection instead of answering: what
    // a client sees when a connection dies after the tenant processed the request
    kResetAfter,
  };
  Kind kind = Kind::kStatus;
  std::string method = "*";
  // Exact path, or a prefix when it ends with '*'.
  std::string path;
  int count = 1;  // < 0: every matching request until cleared
  int status = 500;
  std::optional<std::string> body;
  double retry_after_seconds = 1;  // 429 only
  Duration latency{0};

  static StatusOr<Fault> FromJson(const nlohmann::json& j);
  nlohmann::json ToJson() const;
};

class TenantSimulator {
 public:
  TenantSimulator(SimulatorOptions options, Clock& clock);
  ~TenantSimulator();
  TenantSimulator(const TenantSimulator&) = delete;
  TenantSimulator& operator=(const TenantSimulator&) = delete;

  Status Start(const std::string& host, int port);
  void Stop();
  int port() const { return server_.port(); }
  // http://HOST:PORT, or https:// when serving TLS (no trailing slash).
  std::string url() const { return url_; }

  // The /__sim/ control plane, callable in-process as well (same JSON as the HTTP answers).
  nlohmann::json UrlListsSnapshot() const;
  nlohmann::json FileHashListsSnapshot() const;
  nlohmann::json RequestLog() const;
  void ClearRequestLog();
  void AddFault(Fault fault);
  void ClearFaults();
  Status CreateFileHashList(const std::string& name, const std::vector<std::string>& hashes,
                            bool pending);
  size_t SeedAlerts(const std::string& type, const std::vector<nlohmann::json>& alerts);
  size_t GenerateAlerts(const std::string& type, size_t count, int64_t start, int64_t interval);
  void SetLimits(const SimulatorLimits& limits);
  SimulatorLimits limits() const;
  // Back to the state the simulator started with: lists, alerts, cursors, log, faults, windows.
  void Reset();

 private:
  struct UrlListState {
    int64_t id = 0;
    std::string name;
    std::string type = "exact";
    std::vector<std::string> urls;  // staged (what reads return)
    struct Applied {
      std::string name;
      std::string type;
      std::vector<std::string> urls;
    };
    std::optional<Applied> applied;  // as last deployed; nullopt until the first deploy
    bool pending = false;
    bool deleted = false;
    std::string modify_type = "Created";
    std::string modify_time;
    std::string modify_by;
  };
  struct FileHashListState {
    std::vector<std::string> hashes;
    bool pending = false;
    int updates = 0;
  };
  struct LogEntry {
    uint64_t seq = 0;
    double time = 0;  // seconds since the simulator started, on its clock
    double wall = 0;  // epoch seconds
    std::string method;
    std::string path;
    std::string endpoint;  // method + path template, the key of the per-endpoint counts
    int status = 0;        // 0: the connection was reset or hung up without an answer
    size_t request_bytes = 0;
    size_t response_bytes = 0;
    std::string fault;
    std::string user_agent;  // the User-Agent header, cut at kMaxLoggedUserAgent bytes
    std::string operation;   // an iterator request's `operation` (next, resend, an epoch...)
  };
  // The route context: which endpoint template, which API, which scope key.
  struct EndpointInfo {
    std::string method;
    std::string pattern;
    TokenApi api = TokenApi::kV2;
    std::string scope;            // v2 scope key
    std::string iterator_bucket;  // non-empty for iterator endpoints
  };
  using Inner = std::function<http::HttpResponse(const http::HttpRequest&, const http::PathParams&,
                                                 const TokenSpec&)>;

  void RegisterRoutes();
  void Register(EndpointInfo info, Inner inner);
  void RegisterSim(
      const std::string& method, const std::string& pattern,
      std::function<http::HttpResponse(const http::HttpRequest&, const http::PathParams&)> handler);
  void Serve(const EndpointInfo& info, const Inner& inner, const http::HttpRequest& req,
             const http::PathParams& params, http::ResponseWriter& w);
  std::optional<Fault> TakeFault(const http::HttpRequest& req);
  // Token checks; nullopt when allowed (then `token` is set), else the answer to send.
  std::optional<http::HttpResponse> AuthorizeV2(const EndpointInfo& info,
                                                const http::HttpRequest& req,
                                                const TokenSpec** token) const;
  std::optional<http::HttpResponse> AuthorizeV1(const std::string& token_value,
                                                const TokenSpec** token) const;
  // Rate limits (caller holds mu_). Adds RateLimit-* headers to `headers`; a 429 when refused.
  std::optional<http::HttpResponse> Admit(const EndpointInfo& info, http::Headers& headers);
  void Log(LogEntry entry);
  void ResetStateLocked();

  // Endpoint handlers (called with mu_ held).
  http::HttpResponse ListUrlLists(const http::HttpRequest& req);
  http::HttpResponse GetUrlList(const http::PathParams& params, const http::HttpRequest& req);
  // The body of a create or PUT: {name, data: {urls, type}}, validated against the name rules,
  // the entry syntax, the caps and the other lists' names (`self` is the list being replaced, 0
  // for a create). Requires mu_.
  struct ListBody {
    std::string name;
    std::string type;
    std::vector<std::string> urls;  // cleaned entries
  };
  std::optional<ListBody> ValidListBody(const http::HttpRequest& req, int64_t self,
                                        std::optional<http::HttpResponse>* error);
  http::HttpResponse CreateUrlList(const http::HttpRequest& req, const TokenSpec& token);
  http::HttpResponse PutUrlList(const http::PathParams& params, const http::HttpRequest& req,
                                const TokenSpec& token);
  http::HttpResponse PatchUrlList(const http::PathParams& params, const http::HttpRequest& req,
                                  const TokenSpec& token);
  http::HttpResponse DeleteUrlList(const http::PathParams& params, const TokenSpec& token);
  http::HttpResponse Deploy();
  http::HttpResponse UpdateFileHashList(const std::map<std::string, std::string>& params);
  http::HttpResponse IterateAlerts(const http::PathParams& params, const http::HttpRequest& req);

  // Validates URLs for a list of `type` and applies the caps; on success `out` holds the entries
  // to store (comments and blanks dropped, duplicates removed, order kept).
  std::optional<http::HttpResponse> CheckUrls(const std::vector<std::string>& urls,
                                              const std::string& type,
                                              std::vector<std::string>* out) const;
  UrlListState* FindList(const std::string& id_text, std::optional<http::HttpResponse>* error);
  nlohmann::json ListJson(const UrlListState& list, bool applied_view) const;
  std::string NowIso() const;
  int64_t NowEpoch() const;

  SimulatorOptions options_;
  SimulatorLimits initial_limits_;  // what /__sim/reset restores after SetLimits
  Clock& clock_;
  MonoTime started_;
  http::HttpServer server_;
  std::string url_;
  std::atomic<bool> stopping_{false};

  mutable std::mutex mu_;
  std::map<int64_t, UrlListState> url_lists_;
  int64_t next_list_id_ = 1;
  std::map<std::string, FileHashListState> file_hash_lists_;
  AlertStore alerts_;
  WindowLimiter v1_limiter_;
  WindowLimiter v2_limiter_;
  std::map<std::string, WindowLimiter> iterator_limiters_;
  std::vector<Fault> faults_;
  std::deque<LogEntry> log_;
  uint64_t next_log_seq_ = 1;
};

}  // namespace cte::tenantsim
