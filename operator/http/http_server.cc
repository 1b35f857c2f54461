#include "operator/http/http_server.h"

#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <atomic>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <future>
#include <limits>
#include <list>
#include <map>
#include <mutex>
#include <thread>

#include "operator/http/beast_util.h"

namespace cte::http {
namespace {

using internal::EqualsIgnoreCase;
using internal::IsFramingHeader;
using internal::Serialize;

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using SteadyTime = std::chrono::steady_clock::time_point;

// The read buffer of one connection never grows past this: the header limit plus room for the
// start of a body or a pipelined request.
constexpr size_t kReadBufferLimit = 64 * 1024;
// A handler's WriteChunk blocks while more than this waits to be written.
constexpr size_t kWriteHighWater = 256 * 1024;
// After answering and half-closing, read (and drop) at most this much, for at most this long, so
// the client sees the answer before the connection goes away (a close with unread input is a
// reset that can destroy the answer in the client's receive buffer).
constexpr size_t kLingerBytes = 256 * 1024;
constexpr auto kLingerTimeout = std::chrono::seconds(2);
// Connections beyond the cap that are still being answered 503; more are closed at once.
constexpr size_t kMaxRejecting = 64;
// A handler thread that found nothing to do for this long exits.
constexpr auto kWorkerIdleExit = std::chrono::seconds(30);
// TLS 1.2 suites (Mozilla "intermediate"): ECDHE key exchange with AEAD ciphers. TLS 1.3 suites
// are OpenSSL's defaults, all AEAD.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

bool MatchRoute(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
                PathParams& params) {
  params.clear();
  for (size_t i = 0; i < pattern.size(); ++i) {
    const std::string& p = pattern[i];
    bool is_param = p.size() > 2 && p.front() == '{' && p.back() == '}';
    if (is_param && p.size() > 5 && p.compare(p.size() - 4, 4, "...}") == 0) {
      std::string rest;
      for (size_t j = i; j < path.size(); ++j) rest += (j > i ? "/" : "") + path[j];
      params.emplace_back(p.substr(1, p.size() - 5), rest);
      return true;
    }
    if (i >= path.size()) return false;
    if (is_param) {
      params.emplace_back(p.substr(1, p.size() - 2), path[i]);
    } else if (p != path[i]) {
      return false;
    }
  }
  return pattern.size() == path.size();
}

std::string FormatEndpoint(const tcp::endpoint& ep) {
  const asio::ip::address a = ep.address();
  if (a.is_v6()) return "[" + a.to_string() + "]:" + std::to_string(ep.port());
  return a.to_string() + ":" + std::to_string(ep.port());
}

const std::string& ContinueBytes() {
  static const std::string kBytes = [] {
    bhttp::response<bhttp::empty_body> r{bhttp::status::continue_, 11};
    return Serialize(r, true);
  }();
  return kBytes;
}

const std::string& ConnectionCapBytes() {
  static const std::string kBytes = [] {
    bhttp::response<bhttp::string_body> r{bhttp::status::service_unavailable, 11};
    r.set(bhttp::field::content_type, "text/plain; charset=utf-8");
    r.set(bhttp::field::retry_after, "1");
    r.body() = "too many connections\n";
    r.keep_alive(false);
    r.prepare_payload();
    return Serialize(r, false);
  }();
  return kBytes;
}

// The bytes of a complete response. `head`: the request was HEAD (Content-Length of the body is
// kept, the body is not sent). `version`: the request's (10 or 11). An invalid header (not a
// token name, or a value with control characters) turns the answer into a 500, so a header value
// coming from request data can never split the response.
std::string SerializeResponse(const HttpResponse& response, bool head, unsigned version,
                              bool keep_alive, std::string* refused_header) {
  for (const auto& [k, v] : response.headers) {
    if (!IsValidHeaderName(k) || !IsValidHeaderValue(v)) {
      if (refused_header) *refused_header = k;
      return SerializeResponse(HttpResponse::Text(500, "internal server error\n"), head, version,
                               keep_alive, nullptr);
    }
  }
  int status = response.status;
  if (status < 200 || status > 599) status = 500;  // 1xx are the server's business
  bhttp::response<bhttp::string_body> r;
  r.version(version);
  r.result(static_cast<unsigned>(status));
  r.reason(ReasonPhrase(status));
  for (const auto& [k, v] : response.headers) {
    if (!IsFramingHeader(k)) r.insert(k, v);
  }
  if (status != 204 && status != 304) r.body() = response.body;
  r.keep_alive(keep_alive);
  r.prepare_payload();
  if (head) r.body().clear();  // Content-Length stays: what a GET would have carried
  return Serialize(r, false);
}

// ---------------------------------------------------------------------------------------------
// Handler threads: one per active request, reused while requests keep coming, gone after a
// while without work. Bounded by the connection cap (a connection runs one request at a time).

class WorkerPool {
 public:
  ~WorkerPool() { Shutdown(); }

  void Run(std::function<void()> task) {
    std::lock_guard<std::mutex> lock(mu_);
    ReapLocked();
    tasks_.push_back(std::move(task));
    if (idle_ >= tasks_.size()) {
      cv_.notify_one();
      return;
    }
    std::thread t([this] { Loop(); });
    std::thread::id id = t.get_id();
    threads_.emplace(id, std::move(t));
  }

  // Runs what is queued, then joins every thread.
  void Shutdown() {
    std::map<std::thread::id, std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      threads.swap(threads_);
      exited_.clear();
    }
    cv_.notify_all();
    for (auto& [id, t] : threads) t.join();
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      if (!tasks_.empty()) {
        std::function<void()> task = std::move(tasks_.front());
        tasks_.pop_front();
        lock.unlock();
        task();
        task = nullptr;  // drop what it captured (a connection) outside the lock
        lock.lock();
        continue;
      }
      if (stopping_) break;
      ++idle_;
      bool work = cv_.wait_for(lock, kWorkerIdleExit, [&] { return !tasks_.empty() || stopping_; });
      --idle_;
      if (!work) break;
    }
    if (!stopping_) exited_.push_back(std::this_thread::get_id());
  }

  void ReapLocked() {
    for (std::thread::id id : exited_) {
      auto it = threads_.find(id);
      if (it == threads_.end()) continue;
      it->second.join();  // it has left Loop(); joining is immediate
      threads_.erase(it);
    }
    exited_.clear();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  size_t idle_ = 0;
  bool stopping_ = false;
  std::map<std::thread::id, std::thread> threads_;
  std::vector<std::thread::id> exited_;
};

// ---------------------------------------------------------------------------------------------
// TLS

struct FileStamp {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = -1;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  friend bool operator==(const FileStamp&, const FileStamp&) = default;
};

FileStamp StampOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {st.st_dev, st.st_ino, st.st_size,
          int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec,
          int64_t{st.st_ctim.tv_sec} * 1000000000 + st.st_ctim.tv_nsec};
}

StatusOr<std::shared_ptr<ssl::context>> LoadTlsContext(const TlsServerOptions& tls) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::no_compression | ssl::context::single_dh_use);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    return InternalError("TLS: no usable TLS 1.2 cipher");
  }
  error_code ec;
  ctx->use_certificate_chain_file(tls.cert_file, ec);
  if (ec) {
    return InvalidArgumentError("TLS certificate " + tls.cert_file + ": " + ec.message());
  }
  ctx->use_private_key_file(tls.key_file, ssl::context::pem, ec);
  if (ec) {
    return InvalidArgumentError("TLS key " + tls.key_file + " (for certificate " + tls.cert_file +
                                "): " + ec.message());
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    return InvalidArgumentError("TLS key " + tls.key_file + " does not match certificate " +
                                tls.cert_file);
  }
  return ctx;
}

class Session;
class Rejector;

}  // namespace

// ---------------------------------------------------------------------------------------------

class HttpServer::Impl {
 public:
  struct RouteEntry {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
    RouteOptions options;
  };

  explicit Impl(HttpServerOptions options)
      : options_(std::move(options)),
        ioc_(std::max(1, options_.io_threads)),
        acceptor_strand_(asio::make_strand(ioc_)),
        accept_backoff_(acceptor_strand_) {}
  ~Impl() { Stop(); }

  Status Start(const std::string& host, int port);
  void Stop();
  void CloseAll();

  // Finds the route for a request: nullptr with `status` 404 or 405 when none matches.
  const RouteEntry* Find(const std::string& method, const std::string& path, PathParams& params,
                         int& status) const;

  void Log(LogLevel level, std::string_view message, std::vector<LogField> fields) const {
    if (options_.log) options_.log->Log(level, message, std::move(fields));
  }

  const HttpServerOptions options_;
  std::vector<RouteEntry> routes_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> accepted_{0};
  int port_ = 0;
  std::atomic<bool> started_{false};

  asio::io_context ioc_;
  WorkerPool workers_;

  // Open sessions (each removes itself when destroyed) and 503 answers in flight.
  mutable std::mutex mu_;
  std::condition_variable gone_cv_;
  std::list<Session*> sessions_;
  size_t rejecting_ = 0;

 private:
  void DoAccept();
  void OnAccept(const error_code& ec, tcp::socket socket);
  std::shared_ptr<ssl::context> CurrentTlsContext();

  asio::strand<asio::io_context::executor_type> acceptor_strand_;
  std::optional<tcp::acceptor> acceptor_;
  asio::steady_timer accept_backoff_;
  std::chrono::milliseconds backoff_{0};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> io_threads_;

  // TLS state, touched only on the acceptor strand (Start fills it before any accept).
  std::shared_ptr<ssl::context> tls_ctx_;
  FileStamp cert_stamp_, key_stamp_;
  FileStamp failed_cert_stamp_, failed_key_stamp_;
  SteadyTime next_tls_check_{};
};

namespace {

// One accepted connection. Everything that touches the socket runs on the connection's strand;
// the handler thread talks to it through the output queue (Enqueue/RequestDone), ReadBody and
// the closed flag. The socket's descriptor stays open while a handler may still look at it
// (shutdown, never close); it is closed when the Session is destroyed, or after an Abort once the
// handler is done.
class Session : public std::enable_shared_from_this<Session> {
 public:
  using RouteEntry = HttpServer::Impl::RouteEntry;

  Session(HttpServer::Impl& server, tcp::socket socket, std::shared_ptr<ssl::context> tls,
          std::string remote)
      : server_(server),
        socket_(std::move(socket)),
        fd_(socket_.native_handle()),
        timer_(socket_.get_executor()),
        tls_ctx_(std::move(tls)),
        remote_(std::move(remote)) {
    if (tls_ctx_) tls_.emplace(socket_, *tls_ctx_);
    std::lock_guard<std::mutex> lock(server_.mu_);
    registration_ = server_.sessions_.insert(server_.sessions_.end(), this);
  }

  ~Session() {
    std::lock_guard<std::mutex> lock(server_.mu_);
    server_.sessions_.erase(registration_);
    server_.gone_cv_.notify_all();
  }

  asio::any_io_executor executor() { return socket_.get_executor(); }

  // On the strand.
  void Start() {
    if (!tls_) {
      WaitForRequest(true);
      return;
    }
    ArmTimer(server_.options_.handshake_timeout);
    tls_->async_handshake(ssl::stream_base::server, [self = shared_from_this()](error_code ec) {
      self->DisarmTimer();
      if (ec) {
        self->Terminate();
        return;
      }
      self->WaitForRequest(true);
    });
  }

  // ---- Called from the handler thread -------------------------------------------------------

  // Queues bytes for the peer; false once the connection is closed. With `may_block`, waits while
  // too much is queued (the peer reads slower than the handler writes).
  bool Enqueue(std::string bytes, bool may_block) {
    std::unique_lock<std::mutex> lock(out_mu_);
    if (closed_) return false;
    if (out_pending_.empty()) {
      out_pending_ = std::move(bytes);
    } else {
      out_pending_ += bytes;
    }
    ScheduleWriteLocked();
    if (may_block) {
      out_cv_.wait(lock, [&] { return closed_.load() || out_pending_.size() <= kWriteHighWater; });
    }
    return !closed_;
  }

  // The request is answered: once the queue is written, read the next request (`keep_alive`) or
  // close. Called exactly once per request.
  void RequestDone(bool keep_alive) {
    std::lock_guard<std::mutex> lock(out_mu_);
    finish_requested_ = true;
    finish_keep_alive_ = keep_alive;
    ScheduleWriteLocked();
  }

  bool Closed() {
    if (closed_ || server_.stopping_) return true;
    // The peer half-closed or went away (readable data from a pipelining client is not a hangup).
    pollfd p{fd_, POLLRDHUP, 0};
    if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))) {
      MarkClosed();
      return true;
    }
    return false;
  }

  // A TCP reset instead of an answer: linger 0, and the descriptor is closed (sending the RST)
  // when the session goes away.
  void Abort() {
    aborted_ = true;
    MarkClosed();
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      error_code ec;
      self->socket_.set_option(asio::socket_base::linger(true, 0), ec);
      self->socket_.cancel(ec);
      self->DisarmTimer();
    });
  }

  // From any thread: no more writes, pending operations end.
  void CloseFromOutside() {
    MarkClosed();
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->Terminate(); });
  }

  // Reads the body of a request whose route has a before_body hook, after the hook let it
  // through. nullopt when it could not be read (the server already answered 413 or 400, or the
  // connection is gone); the request is then over for the handler thread.
  std::optional<HttpRequest> ReadBodyBlocking(HttpRequest head, const RouteOptions& route) {
    std::promise<std::optional<HttpRequest>> promise;
    std::future<std::optional<HttpRequest>> result = promise.get_future();
    asio::post(socket_.get_executor(),
               [self = shared_from_this(), head = std::move(head), &route, &promise]() mutable {
                 self->ReadBody(std::move(head), route, [&promise](std::optional<HttpRequest> r) {
                   promise.set_value(std::move(r));
                 });
               });
    return result.get();
  }

  HttpServer::Impl& server() { return server_; }

 private:
  // ---- Strand ---------------------------------------------------------------------------------

  template <class F>
  void WithStream(F&& f) {
    if (tls_) {
      f(*tls_);
    } else {
      f(socket_);
    }
  }

  void ArmTimer(std::chrono::milliseconds d) {
    uint64_t gen = ++timer_gen_;
    timer_.expires_after(d);
    timer_.async_wait([self = shared_from_this(), gen](error_code ec) {
      if (ec || gen != self->timer_gen_) return;
      self->Terminate();
    });
  }

  void DisarmTimer() {
    ++timer_gen_;
    timer_.cancel();
  }

  void MarkClosed() {
    {
      std::lock_guard<std::mutex> lock(out_mu_);
      closed_ = true;
    }
    out_cv_.notify_all();
  }

  // Ends the connection abruptly (timeout, I/O error, server stop): both directions shut down,
  // pending operations cancelled. The descriptor is closed when the Session is destroyed.
  void Terminate() {
    MarkClosed();
    if (terminated_) return;
    terminated_ = true;
    DisarmTimer();
    error_code ec;
    if (!aborted_) socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.cancel(ec);
  }

  void WaitForRequest(bool first) {
    if (closed_ || server_.stopping_) {
      Terminate();
      return;
    }
    header_parser_.emplace();
    header_parser_->header_limit(static_cast<uint32_t>(server_.options_.max_header_bytes));
    // Per route, checked in OnHeader. (Not boost::none: Beast 1.74 compares a length with an
    // empty optional as "above the limit".)
    header_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    body_parser_.reset();
    if (first || buffer_.size() > 0) {
      ReadHeader();
      return;
    }
    // Keep-alive: the idle timeout runs until the next request's first byte, then the header
    // timeout. Idle connections hold no more than this small read.
    buffer_.shrink_to_fit();
    ArmTimer(server_.options_.idle_timeout);
    WithStream([&](auto& stream) {
      stream.async_read_some(buffer_.prepare(1024),
                             [self = shared_from_this()](error_code ec, size_t n) {
                               self->DisarmTimer();
                               if (ec) {
                                 self->Terminate();
                                 return;
                               }
                               self->buffer_.commit(n);
                               self->ReadHeader();
                             });
    });
  }

  void ReadHeader() {
    ArmTimer(server_.options_.header_timeout);
    WithStream([&](auto& stream) {
      bhttp::async_read_header(stream, buffer_, *header_parser_,
                               [self = shared_from_this()](error_code ec, size_t) {
                                 self->DisarmTimer();
                                 self->OnHeader(ec);
                               });
    });
  }

  static bool IsParseError(const error_code& ec) {
    return ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
           ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
  }

  void OnHeader(const error_code& ec) {
    if (ec) {
      if (terminated_ || !IsParseError(ec)) {
        Terminate();  // timeout, reset, or the peer closed (between requests or mid-header)
      } else if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
        Reject(431, "request header fields too large\n");
      } else {
        Reject(400, "malformed request\n");
      }
      return;
    }
    const auto& msg = header_parser_->get();
    version_ = msg.version();
    if (version_ != 10 && version_ != 11) return Reject(505, "HTTP version not supported\n");
    // Framing Beast accepts but a proxy in front of us might read differently: refuse it.
    const size_t lengths = msg.count(bhttp::field::content_length);
    if (lengths > 1) return Reject(400, "more than one Content-Length\n");
    if (lengths == 1) {
      beast::string_view v = msg[bhttp::field::content_length];
      if (v.empty() || v.find_first_not_of("0123456789") != beast::string_view::npos) {
        return Reject(400, "invalid Content-Length\n");
      }
    }
    const size_t encodings = msg.count(bhttp::field::transfer_encoding);
    if (encodings > 0) {
      beast::string_view v = msg[bhttp::field::transfer_encoding];
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
      if (encodings > 1 || lengths > 0 || version_ == 10 || !beast::iequals(v, "chunked")) {
        return Reject(400, "unsupported Transfer-Encoding\n");
      }
    }
    if (msg.count(bhttp::field::trailer) > 0) return Reject(400, "trailers are not accepted\n");
    const size_t hosts = msg.count(bhttp::field::host);
    if (hosts > 1 || (version_ == 11 && hosts == 0))
      return Reject(400, "missing or repeated Host\n");
    beast::string_view target = msg.target();
    std::string_view t(target.data(), target.size());
    // Absolute form ("GET http://host/path", what proxies receive): its authority replaces the
    // Host header (RFC 9112 3.2.2). Anything else but origin form is refused.
    std::optional<std::string> authority;
    for (std::string_view scheme : {"http://", "https://"}) {
      if (t.size() > scheme.size() && EqualsIgnoreCase(t.substr(0, scheme.size()), scheme)) {
        std::string_view rest = t.substr(scheme.size());
        size_t end = rest.find_first_of("/?");
        authority = std::string(rest.substr(0, end));
        t = end == std::string_view::npos ? std::string_view("/") : rest.substr(end);
        break;
      }
    }
    if (t.empty() || t.front() != '/' || (authority && authority->empty())) {
      return Reject(400, "invalid request target\n");
    }
    if (msg.count(bhttp::field::expect) > 0 &&
        !beast::iequals(msg[bhttp::field::expect], "100-continue")) {
      return Reject(417, "unsupported expectation\n");
    }

    HttpRequest req;
    req.method = std::string(msg.method_string());
    size_t q = t.find('?');
    req.path = PercentDecode(t.substr(0, q), false);
    if (q != std::string_view::npos) {
      req.raw_query = std::string(t.substr(q + 1));
      req.query = ParseQuery(req.raw_query);
    }
    for (const auto& field : msg) {
      std::string name(field.name_string());
      auto [it, inserted] = req.headers.emplace(name, std::string(field.value()));
      if (!inserted) it->second += ", " + std::string(field.value());  // a list, RFC 9110 5.3
    }
    if (authority) req.headers["Host"] = *authority;
    req.remote_address = remote_;
    keep_alive_ = msg.keep_alive();
    const bool chunked = header_parser_->chunked();
    const uint64_t length = header_parser_->content_length().value_or(0);
    const bool has_body = chunked || length > 0;
    expect_continue_ = version_ == 11 && has_body && msg.count(bhttp::field::expect) > 0;

    PathParams params;
    int status = 0;
    const RouteEntry* route = server_.Find(req.method, req.path, params, status);
    if (route == nullptr) {
      // Answered without reading a body; a connection with an unread body cannot be reused.
      RespondDirect(status == 405 ? HttpResponse::Text(405, "method not allowed\n")
                                  : HttpResponse::Text(404, "404 page not found\n"),
                    req.method == "HEAD", keep_alive_ && !has_body);
      return;
    }
    if (route->options.before_body) {
      // The hook sees the head first (a request without a valid token is refused as such, not
      // as too large); the declared length is checked before the body is read.
      Dispatch(std::move(req), route, std::move(params), has_body);
    } else if (length > route->options.max_body_bytes) {
      return RejectTooLarge(route->options, req);
    } else if (has_body) {
      ReadBody(std::move(req), route->options,
               [self = shared_from_this(), route,
                params = std::move(params)](std::optional<HttpRequest> full) mutable {
                 if (full) self->Dispatch(std::move(*full), route, std::move(params), false);
               });
    } else {
      Dispatch(std::move(req), route, std::move(params), false);
    }
  }

  using BodyCallback = std::function<void(std::optional<HttpRequest>)>;

  void ReadBody(HttpRequest head, const RouteOptions& route, BodyCallback done) {
    if (closed_ || !header_parser_) {
      Terminate();
      done(std::nullopt);
      return;
    }
    const size_t max_body = route.max_body_bytes;
    if (header_parser_->content_length().value_or(0) > max_body) {
      RejectTooLarge(route, head);
      done(std::nullopt);
      return;
    }
    if (expect_continue_) {
      expect_continue_ = false;
      ArmTimer(server_.options_.write_timeout);
      WithStream([&](auto& stream) {
        asio::async_write(stream, asio::buffer(ContinueBytes()),
                          [self = shared_from_this(), head = std::move(head), &route,
                           done = std::move(done)](error_code ec, size_t) mutable {
                            self->DisarmTimer();
                            if (ec) {
                              self->Terminate();
                              done(std::nullopt);
                              return;
                            }
                            self->ReadBody(std::move(head), route, std::move(done));
                          });
      });
      return;
    }
    body_parser_.emplace(std::move(*header_parser_));
    header_parser_.reset();
    body_parser_->body_limit(max_body);
    const auto& m = body_parser_->get();
    const auto fields_before = std::distance(m.begin(), m.end());
    ArmTimer(server_.options_.body_timeout);
    WithStream([&](auto& stream) {
      bhttp::async_read(stream, buffer_, *body_parser_,
                        [self = shared_from_this(), head = std::move(head), done = std::move(done),
                         fields_before, &route](error_code ec, size_t) mutable {
                          self->DisarmTimer();
                          if (ec) {
                            if (self->terminated_ || !IsParseError(ec)) {
                              self->Terminate();
                            } else if (ec == bhttp::error::body_limit) {
                              self->RejectTooLarge(route, head);
                            } else {
                              self->RejectRouted(route, head, 400, "malformed request body\n");
                            }
                            done(std::nullopt);
                            return;
                          }
                          auto& msg = self->body_parser_->get();
                          // Trailer fields land among the headers; a chunked body that carries any
                          // is refused (a proxy might have applied them differently).
                          if (std::distance(msg.begin(), msg.end()) != fields_before) {
                            self->RejectRouted(route, head, 400, "trailers are not accepted\n");
                            done(std::nullopt);
                            return;
                          }
                          head.body = std::move(msg.body());
                          done(std::move(head));
                        });
    });
  }

  // A response from the strand itself (no handler): routing failures and refusals.
  void RespondDirect(const HttpResponse& response, bool head, bool keep_alive) {
    keep_alive = keep_alive && !server_.stopping_;
    Enqueue(SerializeResponse(response, head, version_ == 10 ? 10 : 11, keep_alive, nullptr),
            false);
    RequestDone(keep_alive);
  }

  // Refuses the request and closes the connection once the answer is out.
  void Reject(int status, const char* text) {
    RespondDirect(HttpResponse::Text(status, text), false, false);
  }
  // The same for a request already routed: the route hears of it (RouteOptions::on_refused).
  void RejectRouted(const RouteOptions& route, const HttpRequest& head, int status,
                    const char* text) {
    if (route.on_refused) route.on_refused(head, status);
    Reject(status, text);
  }
  void RejectTooLarge(const RouteOptions& route, const HttpRequest& head) {
    if (route.on_refused) route.on_refused(head, 413);
    RespondDirect(
        route.too_large ? *route.too_large : HttpResponse::Text(413, "request body too large\n"),
        false, false);
  }

  void Dispatch(HttpRequest req, const RouteEntry* route, PathParams params, bool body_pending);
  void RunRequest(HttpRequest& req, const RouteEntry& route, const PathParams& params,
                  bool body_pending, unsigned version, bool keep_alive);

  void ScheduleWriteLocked() {
    if (write_scheduled_) return;
    write_scheduled_ = true;
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->DoWrite(); });
  }

  void DoWrite() {
    bool finish = false;
    {
      std::lock_guard<std::mutex> lock(out_mu_);
      out_inflight_.clear();
      if (!closed_) out_inflight_.swap(out_pending_);
      out_pending_.clear();
      if (out_inflight_.empty()) {
        write_scheduled_ = false;
        finish = finish_requested_;
        finish_requested_ = false;
      }
    }
    out_cv_.notify_all();
    if (finish) {
      OnRequestDone();
      return;
    }
    if (out_inflight_.empty()) return;
    written_ = 0;
    WriteSome();
  }

  // Writes out_inflight_ piece by piece; the write timeout restarts with every piece, so a slow
  // but reading peer gets a large answer and a peer that stopped reading is cut.
  void WriteSome() {
    ArmTimer(server_.options_.write_timeout);
    WithStream([&](auto& stream) {
      stream.async_write_some(
          asio::buffer(out_inflight_.data() + written_, out_inflight_.size() - written_),
          [self = shared_from_this()](error_code ec, size_t n) {
            self->DisarmTimer();
            self->written_ += n;
            if (ec) {
              self->Terminate();
            } else if (self->written_ < self->out_inflight_.size()) {
              self->WriteSome();
              return;
            }
            self->DoWrite();
          });
    });
  }

  void OnRequestDone() {
    bool keep_alive;
    {
      std::lock_guard<std::mutex> lock(out_mu_);
      keep_alive = finish_keep_alive_;
    }
    if (aborted_) {
      // Linger 0 is set, so closing sends the reset. Explicitly: Asio clears linger when a
      // socket is closed by its destructor. The handler is done, so the descriptor can go.
      Terminate();
      error_code ec;
      socket_.close(ec);
      return;
    }
    if (closed_ || server_.stopping_) {
      Terminate();
      return;
    }
    if (keep_alive) {
      WaitForRequest(false);
    } else {
      LingeringClose();
    }
  }

  // Half-close after the last answer, then drop whatever the client still sends for a moment.
  void LingeringClose() {
    MarkClosed();
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    ArmTimer(std::chrono::duration_cast<std::chrono::milliseconds>(kLingerTimeout));
    drain_buffer_ = std::make_unique<char[]>(4096);
    Drain();
  }

  void Drain() {
    socket_.async_read_some(asio::buffer(drain_buffer_.get(), 4096),
                            [self = shared_from_this()](error_code ec, size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > kLingerBytes) {
                                self->Terminate();
                                return;
                              }
                              self->Drain();
                            });
  }

  HttpServer::Impl& server_;
  tcp::socket socket_;
  const int fd_;
  asio::steady_timer timer_;
  uint64_t timer_gen_ = 0;
  std::shared_ptr<ssl::context> tls_ctx_;
  std::optional<ssl::stream<tcp::socket&>> tls_;
  const std::string remote_;
  std::list<Session*>::iterator registration_;

  // Strand state.
  beast::flat_buffer buffer_{kReadBufferLimit};
  std::optional<bhttp::request_parser<bhttp::empty_body>> header_parser_;
  std::optional<bhttp::request_parser<bhttp::string_body>> body_parser_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool expect_continue_ = false;
  bool terminated_ = false;
  std::unique_ptr<char[]> drain_buffer_;
  size_t drained_ = 0;
  std::string out_inflight_;
  size_t written_ = 0;

  // Shared with the handler thread.
  std::atomic<bool> closed_{false};
  std::atomic<bool> aborted_{false};
  std::mutex out_mu_;
  std::condition_variable out_cv_;
  std::string out_pending_;
  bool write_scheduled_ = false;
  bool finish_requested_ = false;
  bool finish_keep_alive_ = false;
};

// The ResponseWriter of one request, used on its handler thread.
class Writer : public ResponseWriter {
 public:
  Writer(Session& session, bool head, unsigned version, bool keep_alive)
      : session_(session), head_(head), version_(version), keep_alive_(keep_alive) {}

  void Send(const HttpResponse& response) override {
    if (responded_) return;
    responded_ = true;
    std::string refused;
    std::string bytes = SerializeResponse(response, head_, version_, KeepAlive(), &refused);
    if (!refused.empty()) {
      session_.server().Log(LogLevel::kError, "refused an invalid response header",
                            {{"header", refused}});
    }
    session_.Enqueue(std::move(bytes), false);
  }

  bool StartStream(int status, const Headers& headers) override {
    if (responded_) return false;
    responded_ = true;
    streaming_ = true;
    for (const auto& [k, v] : headers) {
      if (!IsValidHeaderName(k) || !IsValidHeaderValue(v)) {
        session_.server().Log(LogLevel::kError, "refused an invalid response header",
                              {{"header", k}});
        streaming_ = false;
        session_.Enqueue(SerializeResponse(HttpResponse::Text(500, "internal server error\n"),
                                           head_, version_, KeepAlive(), nullptr),
                         true);
        return false;
      }
    }
    if (status < 200 || status > 599) status = 500;
    bhttp::response<bhttp::empty_body> r;
    r.version(version_);
    r.result(static_cast<unsigned>(status));
    r.reason(ReasonPhrase(status));
    for (const auto& [k, v] : headers) {
      if (!IsFramingHeader(k)) r.insert(k, v);
    }
    // HTTP/1.0 has no chunked encoding: the body ends when the connection does.
    if (version_ == 11) r.chunked(true);
    r.keep_alive(version_ == 11 && KeepAlive());
    return session_.Enqueue(Serialize(r, true), true) && !head_;
  }

  bool WriteChunk(std::string_view data) override {
    if (!streaming_ || head_) return false;
    if (data.empty()) return !session_.Closed();
    if (version_ == 10) return session_.Enqueue(std::string(data), true);
    return session_.Enqueue(
        beast::buffers_to_string(bhttp::make_chunk(asio::const_buffer(data.data(), data.size()))),
        true);
  }

  bool Closed() override { return session_.Closed(); }

  void Abort() override {
    responded_ = true;
    aborted_ = true;
    session_.Abort();
  }

  bool responded() const { return responded_; }
  // The body was never read: the connection cannot carry another request.
  void CloseAfterResponse() { close_after_ = true; }

  // After the handler returned.
  void End() {
    if (streaming_ && !head_ && version_ == 11 && !aborted_) {
      session_.Enqueue(beast::buffers_to_string(bhttp::make_chunk_last()), false);
    }
    session_.RequestDone(KeepAlive() && !aborted_ && !(streaming_ && version_ == 10));
  }

 private:
  bool KeepAlive() const { return keep_alive_ && !close_after_ && !session_.server().stopping_; }

  Session& session_;
  const bool head_;
  const unsigned version_;
  const bool keep_alive_;
  bool responded_ = false;
  bool streaming_ = false;
  bool close_after_ = false;
  bool aborted_ = false;
};

void Session::Dispatch(HttpRequest req, const RouteEntry* route, PathParams params,
                       bool body_pending) {
  server_.workers_.Run([self = shared_from_this(), req = std::move(req), route,
                        params = std::move(params), body_pending, version = version_,
                        keep_alive = keep_alive_]() mutable {
    self->RunRequest(req, *route, params, body_pending, version, keep_alive);
  });
}

void Session::RunRequest(HttpRequest& req, const RouteEntry& route, const PathParams& params,
                         bool body_pending, unsigned version, bool keep_alive) {
  Writer writer(*this, req.method == "HEAD", version, keep_alive);
  auto internal_error = [&](const char* what) {
    server_.Log(LogLevel::kError, "HTTP handler failed",
                {{"error", what}, {"method", req.method}, {"path", req.path}});
    if (!writer.responded()) {
      writer.CloseAfterResponse();
      writer.Send(HttpResponse::Text(500, "internal server error\n"));
    } else {
      writer.Abort();  // a stream cut short must not look complete
    }
  };
  if (route.options.before_body) {
    std::optional<HttpResponse> refusal;
    try {
      refusal = route.options.before_body(req);
    } catch (const std::exception& e) {
      refusal = HttpResponse::Text(500, "internal server error\n");
      server_.Log(LogLevel::kError, "HTTP before_body hook failed", {{"error", e.what()}});
    }
    if (refusal) {
      if (body_pending) writer.CloseAfterResponse();
      writer.Send(*refusal);
      writer.End();
      return;
    }
    if (body_pending) {
      std::optional<HttpRequest> full = ReadBodyBlocking(std::move(req), route.options);
      if (!full) return;  // answered (413/400) or gone; the strand ended the request
      req = std::move(*full);
    }
  }
  try {
    route.handler(req, params, writer);
  } catch (const std::exception& e) {
    internal_error(e.what());
  } catch (...) {
    internal_error("unknown exception");
  }
  if (!writer.responded()) {
    writer.Send(HttpResponse::Text(500, "handler sent no response\n"));
  }
  writer.End();
}

// Answers 503 to a connection over the cap and closes it.
class Rejector : public std::enable_shared_from_this<Rejector> {
 public:
  Rejector(HttpServer::Impl& server, tcp::socket socket)
      : server_(server), socket_(std::move(socket)), timer_(socket_.get_executor()) {}
  ~Rejector() {
    std::lock_guard<std::mutex> lock(server_.mu_);
    --server_.rejecting_;
    server_.gone_cv_.notify_all();
  }

  asio::any_io_executor executor() { return socket_.get_executor(); }

  void Start() {
    timer_.expires_after(kLingerTimeout);
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (ec) return;
      error_code ignored;
      self->socket_.shutdown(tcp::socket::shutdown_both, ignored);
      self->socket_.cancel(ignored);
    });
    asio::async_write(socket_, asio::buffer(ConnectionCapBytes()),
                      [self = shared_from_this()](error_code ec, size_t) {
                        if (ec) return self->Finish();
                        error_code ignored;
                        self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
                        self->Drain();
                      });
  }

 private:
  void Drain() {
    socket_.async_read_some(asio::buffer(scratch_),
                            [self = shared_from_this()](error_code ec, size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > sizeof(self->scratch_) * 4)
                                return self->Finish();
                              self->Drain();
                            });
  }
  void Finish() { timer_.cancel(); }

  HttpServer::Impl& server_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  char scratch_[1024];
  size_t drained_ = 0;
};

bool IsResourceExhaustion(const error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory || ec == boost::system::errc::too_many_files_open_in_system;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

const HttpServer::Impl::RouteEntry* HttpServer::Impl::Find(const std::string& method,
                                                           const std::string& path,
                                                           PathParams& params, int& status) const {
  std::vector<std::string> segments = SplitPath(path);
  bool path_matched = false;
  for (const auto& route : routes_) {
    if (!MatchRoute(route.segments, segments, params)) continue;
    path_matched = true;
    if (route.method == "*" || route.method == method ||
        (method == "HEAD" && route.method == "GET")) {
      return &route;
    }
  }
  params.clear();
  status = path_matched ? 405 : 404;
  return nullptr;
}

Status HttpServer::Impl::Start(const std::string& host_in, int port) {
  if (started_) return Status(StatusCode::kFailedPrecondition, "server already started");
  std::string host = host_in;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  error_code ec;
  asio::ip::address address = asio::ip::make_address(host, ec);
  if (ec) {
    return InvalidArgumentError("listen address must be an IPv4 or IPv6 literal, got \"" + host_in +
                                "\"");
  }
  if (port < 0 || port > 65535) {
    return InvalidArgumentError("listen port must be 0-65535, got " + std::to_string(port));
  }
  if (options_.tls) {
    auto ctx = LoadTlsContext(*options_.tls);
    if (!ctx.ok()) return ctx.status();
    tls_ctx_ = *ctx;
    cert_stamp_ = StampOf(options_.tls->cert_file);
    key_stamp_ = StampOf(options_.tls->key_file);
    next_tls_check_ = std::chrono::steady_clock::now() + options_.tls->reload_check_interval;
  }
  tcp::endpoint endpoint(address, static_cast<uint16_t>(port));
  acceptor_.emplace(acceptor_strand_);
  auto fail = [&](const char* what) {
    acceptor_.reset();
    return UnavailableError(std::string(what) + " " + host_in + ":" + std::to_string(port) + ": " +
                            ec.message());
  };
  acceptor_->open(endpoint.protocol(), ec);
  if (ec) return fail("open");
  acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
  acceptor_->bind(endpoint, ec);
  if (ec) return fail("bind");
  acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen");
  port_ = acceptor_->local_endpoint(ec).port();
  started_ = true;
  work_.emplace(ioc_.get_executor());
  for (int i = 0; i < std::max(1, options_.io_threads); ++i) {
    io_threads_.emplace_back([this] {
      for (;;) {
        try {
          ioc_.run();
          return;
        } catch (const std::exception& e) {
          Log(LogLevel::kError, "HTTP server I/O thread caught an exception",
              {{"error", e.what()}});
        }
      }
    });
  }
  asio::post(acceptor_strand_, [this] { DoAccept(); });
  return Status::Ok();
}

void HttpServer::Impl::DoAccept() {
  if (stopping_ || !acceptor_ || !acceptor_->is_open()) return;
  acceptor_->async_accept(
      asio::make_strand(ioc_),
      asio::bind_executor(acceptor_strand_, [this](const error_code& ec, tcp::socket socket) {
        OnAccept(ec, std::move(socket));
      }));
}

void HttpServer::Impl::OnAccept(const error_code& ec, tcp::socket socket) {
  if (stopping_) return;
  if (ec) {
    if (ec == asio::error::operation_aborted) return;
    if (IsResourceExhaustion(ec)) {
      // Out of descriptors or memory: back off (5 ms doubling to 1 s) and try again, never stop
      // accepting. Connections wait in the listen backlog meanwhile.
      backoff_ = std::min<std::chrono::milliseconds>(
          std::chrono::seconds(1),
          backoff_.count() == 0 ? std::chrono::milliseconds(5) : backoff_ * 2);
      if (backoff_ == std::chrono::milliseconds(5)) {
        Log(LogLevel::kWarn, "accept failed; backing off", {{"error", ec.message()}});
      }
      accept_backoff_.expires_after(backoff_);
      accept_backoff_.async_wait([this](const error_code& wait_ec) {
        if (!wait_ec) DoAccept();
      });
      return;
    }
    DoAccept();  // the peer gave up before we accepted, and the like
    return;
  }
  backoff_ = std::chrono::milliseconds(0);
  ++accepted_;
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  std::string remote = FormatEndpoint(socket.remote_endpoint(ignored));
  bool over_cap = false;
  bool answer_503 = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (sessions_.size() >= options_.max_connections) {
      over_cap = true;
      // A TLS client cannot read a plain answer; it is closed. So is everything beyond a few
      // dozen answers in flight.
      if (!tls_ctx_ && rejecting_ < kMaxRejecting) {
        answer_503 = true;
        ++rejecting_;
      }
    }
  }
  if (over_cap) {
    if (answer_503) {
      auto r = std::make_shared<Rejector>(*this, std::move(socket));
      asio::post(r->executor(), [r] { r->Start(); });
    } else {
      socket.close(ignored);
    }
    DoAccept();
    return;
  }
  auto session = std::make_shared<Session>(*this, std::move(socket), CurrentTlsContext(), remote);
  asio::post(session->executor(), [session] { session->Start(); });
  DoAccept();
}

std::shared_ptr<ssl::context> HttpServer::Impl::CurrentTlsContext() {
  if (!tls_ctx_) return nullptr;
  auto now = std::chrono::steady_clock::now();
  if (now < next_tls_check_) return tls_ctx_;
  next_tls_check_ = now + options_.tls->reload_check_interval;
  FileStamp cert = StampOf(options_.tls->cert_file);
  FileStamp key = StampOf(options_.tls->key_file);
  if ((cert == cert_stamp_ && key == key_stamp_) ||
      (cert == failed_cert_stamp_ && key == failed_key_stamp_)) {
    return tls_ctx_;
  }
  auto loaded = LoadTlsContext(*options_.tls);
  if (!loaded.ok()) {
    // Mid-rotation (the key written, the certificate not yet) or broken: keep serving the old
    // pair, report once per state of the files, try again when they change.
    failed_cert_stamp_ = cert;
    failed_key_stamp_ = key;
    Log(LogLevel::kError, "TLS certificate reload failed; serving the previous one",
        {{"error", loaded.status().message()}});
    return tls_ctx_;
  }
  tls_ctx_ = *loaded;
  cert_stamp_ = cert;
  key_stamp_ = key;
  Log(LogLevel::kInfo, "TLS certificate reloaded", {{"cert", options_.tls->cert_file}});
  return tls_ctx_;
}

void HttpServer::Impl::CloseAll() {
  std::vector<std::shared_ptr<Session>> open;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (Session* s : sessions_) {
      if (auto p = s->weak_from_this().lock()) open.push_back(std::move(p));
    }
  }
  for (auto& s : open) s->CloseFromOutside();
}

void HttpServer::Impl::Stop() {
  if (stopping_.exchange(true)) return;
  if (!started_) return;
  std::promise<void> closed;
  asio::post(acceptor_strand_, [this, &closed] {
    error_code ec;
    if (acceptor_) acceptor_->close(ec);
    accept_backoff_.cancel();
    closed.set_value();
  });
  closed.get_future().wait();
  CloseAll();
  {
    // Handlers see Closed() and their writes fail; the I/O threads keep running until every
    // connection (and the handler thread holding it) is gone.
    std::unique_lock<std::mutex> lock(mu_);
    gone_cv_.wait(lock, [&] { return sessions_.empty() && rejecting_ == 0; });
  }
  workers_.Shutdown();
  work_.reset();
  ioc_.stop();
  for (auto& t : io_threads_) t.join();
  io_threads_.clear();
}

// ---------------------------------------------------------------------------------------------

HttpServer::HttpServer() : HttpServer(HttpServerOptions{}) {}
HttpServer::HttpServer(HttpServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
HttpServer::~HttpServer() { Stop(); }

void HttpServer::Route(std::string method, std::string pattern, Handler handler,
                       RouteOptions options) {
  // Sessions hold references into the route table: growing it while serving would move them.
  if (impl_->started_) {
    std::fprintf(stderr, "HttpServer::Route(%s %s) after Start(): routes are fixed once serving\n",
                 method.c_str(), pattern.c_str());
    std::abort();
  }
  impl_->routes_.push_back(
      {std::move(method), SplitPath(pattern), std::move(handler), std::move(options)});
}

Status HttpServer::Start(const std::string& host, int port) { return impl_->Start(host, port); }
int HttpServer::port() const { return impl_->port_; }
bool HttpServer::tls() const { return impl_->options_.tls.has_value(); }
void HttpServer::Stop() { impl_->Stop(); }
void HttpServer::CloseAllConnections() { impl_->CloseAll(); }
uint64_t HttpServer::connections_accepted() const { return impl_->accepted_; }
size_t HttpServer::open_connections() const {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  return impl_->sessions_.size();
}

}  // namespace cte::http
