// The HTTP/1.1 server of every listener in the project: /metrics and the probes, the ingest API,
// the local API server and the tenant simulator. Parsing, framing and serialization are
// Boost.Beast's; connections are Asio async operations on a small io_context pool, so idle
// keep-alive connections cost no thread. TLS (OpenSSL through Asio) is optional per server.
//
// Every listener is treated as internet-facing: a header-size limit, per-route body limits
// checked from the headers before a body byte is read, deadlines for the TLS handshake, the
// header, the body, keep-alive idleness and every write, a connection cap answered with 503,
// strict framing (anything Beast refuses, duplicate Content-Length, Content-Length with
// Transfer-Encoding, trailers: 400 and close), no exception text sent to clients, and response
// header values checked for CR, LF and NUL.
//
// Threading: handlers block (a watch writes chunks for minutes), so a request, once its headers
// (and, for routes without a before_body hook, its body) are read, runs on a thread of its own
// from a pool that grows with the number of *active* requests (bounded by the connection cap) and
// shrinks when they end. Handlers are called concurrently for different connections, never for
// two requests of one connection. Stop() closes every connection, so a blocked
// ResponseWriter::WriteChunk returns false and the handler unwinds, then waits for handlers and
// I/O threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "operator/core/log.h"
#include "operator/core/status.h"
#include "operator/http/http_types.h"

namespace cte::http {

// Handed to a handler to answer one request, either at once (Send) or as a stream (StartStream,
// WriteChunk..., then return). Not thread-safe; use it from the handler's thread. Writes are
// queued to the connection's I/O thread; a write that does not complete within the server's
// write timeout closes the connection (a peer that stops reading a watch is cut).
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  // Sends a complete response. Framing headers in `response` (Content-Length,
  // Transfer-Encoding, Connection) are replaced by the server's own. A header whose name is not
  // a token or whose value holds CR, LF or NUL is refused: the client gets a 500 instead.
  // Responses to HEAD carry the Content-Length of `response.body` but no body.
  virtual void Send(const HttpResponse& response) = 0;
  // Sends the status line and headers of a streamed body: chunked for HTTP/1.1 clients; for
  // HTTP/1.0 clients the body is delimited by closing the connection. For HEAD nothing follows
  // and WriteChunk returns false.
  virtual bool StartStream(int status, const Headers& headers) = 0;
  // Queues one piece of the body; false once the connection is closed (peer gone, write timeout,
  // server stopping, CloseAllConnections). Blocks only while more than a few hundred KiB wait.
  virtual bool WriteChunk(std::string_view data) = 0;
  // True when the server is stopping or the connection was closed (by the peer included); a
  // streaming handler polls this between events so it can stop promptly.
  virtual bool Closed() = 0;
  // Drops the connection without a proper end: a TCP reset (fault injection's "reset").
  virtual void Abort() = 0;
};

// Path parameters captured from the pattern: `{name}` matches one segment, `{name...}` the rest.
using PathParams = std::vector<std::pair<std::string, std::string>>;

using Handler = std::function<void(const HttpRequest&, const PathParams&, ResponseWriter&)>;

struct RouteOptions {
  // Largest body this route accepts. A Content-Length above it gets 413 before any body byte is
  // read (after before_body, when there is one); a chunked body that grows past it gets 413 as
  // soon as it does.
  size_t max_body_bytes = 1 << 20;
  // The 413 answer; nullopt: a plain-text one. The connection is closed after it.
  std::optional<HttpResponse> too_large;
  // Runs on the request line and headers (HttpRequest with an empty body, remote_address set),
  // before the body is read and before the declared length is compared with max_body_bytes.
  // Returning a response refuses the request without reading the body.
  std::function<std::optional<HttpResponse>(const HttpRequest& head)> before_body;
  // Runs when the server itself answers a request routed here instead of the handler: 413 for a
  // body over max_body_bytes, 400 for a malformed body or trailers (`head` has no body). For
  // metrics; it must not block.
  std::function<void(const HttpRequest& head, int status)> on_refused;
};

// TLS for a listener: PEM files as cert-manager (or any Kubernetes Secret volume) provides them.
// The files are checked for a change at most every `reload_check_interval`, when a connection
// arrives, and reloaded when they changed (rotation in place); a pair that fails to load keeps
// the previous one serving. TLS 1.2 and 1.3 only, ECDHE AEAD ciphers for 1.2, no renegotiation.
struct TlsServerOptions {
  std::string cert_file;  // certificate chain, leaf first
  std::string key_file;   // private key of the leaf
  std::chrono::milliseconds reload_check_interval{std::chrono::seconds(1)};
};

struct HttpServerOptions {
  // Request line plus header fields; more gets 431.
  size_t max_header_bytes = 16 * 1024;
  // From accept to the end of the TLS handshake.
  std::chrono::milliseconds handshake_timeout{std::chrono::seconds(10)};
  // From the first byte of a request (or accept, for the first request) to the end of its
  // headers: what cuts a slowloris client.
  std::chrono::milliseconds header_timeout{std::chrono::seconds(10)};
  // The whole body of one request.
  std::chrono::milliseconds body_timeout{std::chrono::seconds(60)};
  // A keep-alive connection waiting for its next request.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(90)};
  // One queued write (response or stream piece) reaching the peer's socket.
  std::chrono::milliseconds write_timeout{std::chrono::seconds(30)};
  // Open connections; one more is answered 503 (plain HTTP) or closed (TLS) at once.
  size_t max_connections = 10000;
  // Threads running Asio I/O (handlers run on their own threads).
  int io_threads = 2;
  std::optional<TlsServerOptions> tls;
  // Where TLS reload failures, accept errors and handler exceptions are reported; none if unset.
  std::optional<Logger> log;
};

class HttpServer {
 public:
  HttpServer();
  explicit HttpServer(HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Registers a handler for a method ("*" for any) and a path pattern. Routes are tried in the
  // order they were added; a GET route also answers HEAD (without a body). Register before
  // Start(): a route added later aborts the process (sessions refer into the route table).
  void Route(std::string method, std::string pattern, Handler handler, RouteOptions options = {});

  // Binds host:port (an IPv4 or IPv6 literal, brackets optional; port 0 picks a free one) and
  // starts serving. With TLS options, the certificate and key must load now.
  Status Start(const std::string& host, int port);
  int port() const;
  bool tls() const;

  // Closes the listener and every open connection, waits for running handlers and the I/O
  // threads. Idempotent.
  void Stop();

  // Closes every open connection (handlers see Closed()) but keeps accepting new ones.
  void CloseAllConnections();

  // Connections accepted since Start() (lets tests check that clients reuse connections).
  uint64_t connections_accepted() const;
  // Connections open now.
  size_t open_connections() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace cte::http
