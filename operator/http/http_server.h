// A small HTTP/1.1 server with a route table, used by the local API server and the tenant
// simulator today and by the metrics, probe and ingest endpoints later.
//
// Why our own and not cpprestsdk's http_listener: Kubernetes watches are long-lived chunked
// responses that the handler writes event by event, and tests need to close or silence them at
// will. A thread per connection with blocking sockets makes that direct and easy to reason about;
// the connection counts here are small (tests, a few kubectl processes, one Prometheus).
//
// Threading: Start() spawns an accept thread; each connection gets its own thread that parses
// requests and calls the matching handler synchronously. Handlers may block (a watch does) and
// are called concurrently from different connections. Stop() shuts down every socket, so a
// blocked ResponseWriter::WriteChunk returns false and the handler unwinds, then joins all threads.
#pragma once

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "operator/core/status.h"
#include "operator/http/http_types.h"

namespace cte::http {

// Handed to a handler to answer one request, either at once (Send) or as a chunked stream
// (StartStream, WriteChunk..., then return). Not thread-safe; use it from the handler's thread.
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  virtual void Send(const HttpResponse& response) = 0;
  // Sends the status line and headers with Transfer-Encoding: chunked.
  virtual bool StartStream(int status, const Headers& headers) = 0;
  // Sends one chunk; false once the peer has gone or the server is stopping.
  virtual bool WriteChunk(std::string_view data) = 0;
  // True when the server is stopping or the peer closed the connection; a streaming handler
  // polls this between events so it can stop promptly.
  virtual bool Closed() = 0;
  // Drops the connection without a proper end (used by fault injection: "reset the connection").
  virtual void Abort() = 0;
};

// Path parameters captured from the pattern: `{name}` matches one segment, `{name...}` the rest.
using PathParams = std::vector<std::pair<std::string, std::string>>;

using Handler = std::function<void(const HttpRequest&, const PathParams&, ResponseWriter&)>;

class HttpServer {
 public:
  HttpServer();
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Registers a handler for a method ("*" for any) and a path pattern. Routes are tried in the
  // order they were added; register before Start().
  void Route(std::string method, std::string pattern, Handler handler);

  // Binds host:port (port 0 picks a free one) and starts serving.
  Status Start(const std::string& host, int port);
  int port() const { return port_; }

  // Closes the listener and every open connection and waits for their threads. Idempotent.
  void Stop();

  // Closes every open connection (handlers see Closed()) but keeps accepting new ones.
  void CloseAllConnections();

  // Connections accepted since Start() (lets tests check that clients reuse connections).
  uint64_t connections_accepted() const { return accepted_; }

 private:
  struct RouteEntry {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
  };
  struct Connection;

  void AcceptLoop();
  void Serve(const std::shared_ptr<Connection>& conn);
  void Dispatch(const HttpRequest& req, ResponseWriter& writer);
  void ReapFinished();

  std::vector<RouteEntry> routes_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> accepted_{0};
  std::thread accept_thread_;

  std::mutex mu_;
  std::list<std::shared_ptr<Connection>> connections_;
};

}  // namespace cte::http
