#include "operator/http/socket_transport.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <vector>

#include "operator/http/beast_util.h"
#include "operator/http/url.h"

namespace cte::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using error_code = boost::system::error_code;
using SteadyTime = std::chrono::steady_clock::time_point;

// Response header blocks above this are refused (Beast's own default is 8 KiB).
constexpr uint32_t kMaxResponseHeaderBytes = 64 * 1024;
// Idle connections kept per origin.
constexpr size_t kMaxIdlePerOrigin = 16;

std::string SslError() {
  unsigned long e = ERR_get_error();
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return e ? buf : "TLS error";
}

// A Beast body that hands each piece of the body to a sink as the parser produces it: nothing is
// buffered beyond what arrived, and a Content-Length the server announces reserves nothing. The
// sink returns false to stop reading.
struct SinkBody {
  using Sink = std::function<bool(std::string_view)>;
  struct value_type {
    const Sink* sink = nullptr;
    bool stopped = false;
  };
  class reader {
   public:
    template <bool kIsRequest, class Fields>
    reader(bhttp::header<kIsRequest, Fields>&, value_type& body) : body_(body) {}
    void init(const boost::optional<std::uint64_t>&, error_code& ec) { ec = {}; }
    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, error_code& ec) {
      ec = {};
      size_t n = 0;
      for (const auto b : beast::buffers_range_ref(buffers)) {
        n += b.size();
        if (!(*body_.sink)(std::string_view(static_cast<const char*>(b.data()), b.size()))) {
          body_.stopped = true;
          ec = make_error_code(boost::system::errc::operation_canceled);
          break;
        }
      }
      return n;
    }
    void finish(error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

// One TCP (optionally TLS) connection. Not thread-safe; owned by one request at a time, except
// Abort(), which a cancel hook may call from another thread.
class Conn {
 public:
  ~Conn() { Close(); }

  Status Connect(const std::string& host, int port, SteadyTime deadline) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res); rc != 0) {
      return UnavailableError("cannot resolve " + host + ": " + gai_strerror(rc));
    }
    Status last = UnavailableError("no address for " + host);
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
      fd_ =
          ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
      if (fd_ < 0) continue;
      int rc = ::connect(fd_, ai->ai_addr, ai->ai_addrlen);
      if (rc != 0 && errno == EINPROGRESS) {
        if (!Wait(POLLOUT, deadline)) {
          last = Status(StatusCode::kDeadlineExceeded, "connect to " + host + " timed out");
          Close();
          continue;
        }
        int err = 0;
        socklen_t len = sizeof(err);
        ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
        rc = err == 0 ? 0 : -1;
        errno = err;
      }
      if (rc != 0) {
        last = UnavailableError("connect to " + host + ":" + std::to_string(port) + ": " +
                                std::strerror(errno));
        Close();
        continue;
      }
      int one = 1;
      ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      freeaddrinfo(res);
      return Status::Ok();
    }
    freeaddrinfo(res);
    return last;
  }

  Status StartTls(SSL_CTX* ctx, const std::string& host, bool verify, SteadyTime deadline) {
    ssl_ = SSL_new(ctx);
    SSL_set_fd(ssl_, fd_);
    SSL_set_tlsext_host_name(ssl_, host.c_str());
    if (verify) {
      SSL_set_verify(ssl_, SSL_VERIFY_PEER, nullptr);
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
      // An IP literal is checked against the certificate's IP SANs, a name against DNS SANs.
      if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1) {
        X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
      }
    } else {
      SSL_set_verify(ssl_, SSL_VERIFY_NONE, nullptr);
    }
    for (;;) {
      int rc = SSL_connect(ssl_);
      if (rc == 1) return Status::Ok();
      int err = SSL_get_error(ssl_, rc);
      if (err == SSL_ERROR_WANT_READ && Wait(POLLIN, deadline)) continue;
      if (err == SSL_ERROR_WANT_WRITE && Wait(POLLOUT, deadline)) continue;
      long verify_result = SSL_get_verify_result(ssl_);
      if (verify_result != X509_V_OK) {
        return UnavailableError(std::string("TLS certificate verification failed for ") + host +
                                ": " + X509_verify_cert_error_string(verify_result));
      }
      return UnavailableError("TLS handshake with " + host + " failed: " + SslError());
    }
  }

  // Writes everything or fails.
  Status WriteAll(std::string_view data, SteadyTime deadline) {
    while (!data.empty()) {
      ssize_t n;
      if (ssl_) {
        int rc = SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
        if (rc <= 0) {
          int err = SSL_get_error(ssl_, rc);
          if ((err == SSL_ERROR_WANT_WRITE && Wait(POLLOUT, deadline)) ||
              (err == SSL_ERROR_WANT_READ && Wait(POLLIN, deadline))) {
            continue;
          }
          return UnavailableError("TLS write failed: " + SslError());
        }
        n = rc;
      } else {
        n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0) {
          if (errno == EAGAIN && Wait(POLLOUT, deadline)) continue;
          if (errno == EINTR) continue;
          return UnavailableError(std::string("write failed: ") + std::strerror(errno));
        }
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return Status::Ok();
  }

  // Reads some bytes into buf_. Returns bytes read, 0 on EOF; a Status on error or deadline.
  StatusOr<size_t> ReadSome(SteadyTime deadline) {
    char tmp[16384];
    for (;;) {
      ssize_t n;
      if (ssl_) {
        int rc = SSL_read(ssl_, tmp, sizeof(tmp));
        if (rc > 0) {
          n = rc;
        } else {
          int err = SSL_get_error(ssl_, rc);
          if (err == SSL_ERROR_ZERO_RETURN) return size_t{0};
          if (err == SSL_ERROR_WANT_READ) {
            if (!Wait(POLLIN, deadline)) return Timeout();
            continue;
          }
          if (err == SSL_ERROR_WANT_WRITE) {
            if (!Wait(POLLOUT, deadline)) return Timeout();
            continue;
          }
          if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) return size_t{0};
          return UnavailableError("TLS read failed: " + SslError());
        }
      } else {
        n = ::recv(fd_, tmp, sizeof(tmp), 0);
        if (n < 0) {
          if (errno == EINTR) continue;
          if (errno == EAGAIN) {
            if (!Wait(POLLIN, deadline)) return Timeout();
            continue;
          }
          return UnavailableError(std::string("read failed: ") + std::strerror(errno));
        }
      }
      buf_.append(tmp, static_cast<size_t>(n));
      return static_cast<size_t>(n);
    }
  }

  // True when an idle pooled connection was closed by the peer (readable with nothing to read).
  bool StaleWhileIdle() {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, 0) != 0;  // idle connections must not have data pending
  }

  // From a cancel hook (another thread): breaks the blocking read. The descriptor stays open
  // until Close(), which runs only after the hook has been cleared.
  void Abort() {
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
  }

  void Close() {
    if (ssl_) {
      SSL_free(ssl_);
      ssl_ = nullptr;
    }
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  std::string buf_;  // received, not yet consumed

 private:
  static Status Timeout() { return Status(StatusCode::kDeadlineExceeded, "request timed out"); }

  bool Wait(short events, SteadyTime deadline) {
    for (;;) {
      int ms = -1;
      if (deadline != SteadyTime::max()) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        ms = static_cast<int>(std::min<int64_t>(left.count(), 1 << 30));
      }
      pollfd p{fd_, events, 0};
      int rc = ::poll(&p, 1, ms);
      if (rc > 0) return true;
      if (rc == 0) return false;
      if (errno != EINTR) return false;
    }
  }

  int fd_ = -1;
  SSL* ssl_ = nullptr;
};

// While alive, a Cancel() on `token` aborts `conn`. The destructor clears the hook and, by the
// CancelToken contract, waits for a hook that is running: the connection may be freed after it.
class CancelHook {
 public:
  CancelHook(CancelToken* token, Conn* conn) : token_(token) {
    if (token_) token_->OnCancel([conn] { conn->Abort(); });
  }
  ~CancelHook() {
    if (token_) token_->OnCancel(nullptr);
  }
  CancelHook(const CancelHook&) = delete;
  CancelHook& operator=(const CancelHook&) = delete;

 private:
  CancelToken* token_;
};

class SocketTransport : public HttpTransport {
 public:
  explicit SocketTransport(TransportOptions options) : options_(std::move(options)) {
    if (!options_.proxy_url.empty()) proxy_ = ParseUrl(options_.proxy_url);
  }
  ~SocketTransport() override {
    pool_.clear();
    if (ctx_) SSL_CTX_free(ctx_);
  }

  StatusOr<ClientResponse> Send(const ClientRequest& request) override {
    ClientResponse response;
    const SinkBody::Sink sink = [&response](std::string_view piece) {
      response.body.append(piece);
      return true;
    };
    Status s = Exchange(request, nullptr, nullptr, sink, &response);
    if (!s.ok()) return s;
    return response;
  }

  Status Stream(const ClientRequest& request, CancelToken& cancel,
                const std::function<void(const ClientResponse& head)>& on_head,
                const std::function<bool(std::string_view data)>& on_data) override {
    Status s = Exchange(request, &cancel, &on_head, on_data, nullptr);
    if (cancel.cancelled()) return Status::Ok();
    return s;
  }

 private:
  StatusOr<SSL_CTX*> TlsContext() {
    std::lock_guard<std::mutex> lock(mu_);
    if (ctx_) return ctx_;
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) return UnavailableError("cannot create a TLS context: " + SslError());
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    const TlsOptions& tls = options_.tls;
    if (tls.ca_bundle_pem.empty() || tls.ca_bundle_adds_to_system_roots) {
      SSL_CTX_set_default_verify_paths(ctx);
    }
    if (!tls.ca_bundle_pem.empty()) {
      BIO* bio =
          BIO_new_mem_buf(tls.ca_bundle_pem.data(), static_cast<int>(tls.ca_bundle_pem.size()));
      X509_STORE* store = SSL_CTX_get_cert_store(ctx);
      int added = 0;
      while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
        added += X509_STORE_add_cert(store, cert) == 1;
        X509_free(cert);
      }
      BIO_free(bio);
      ERR_clear_error();
      if (added == 0) {
        SSL_CTX_free(ctx);
        return InvalidArgumentError("the CA bundle holds no PEM certificate");
      }
    }
    if (!tls.client_cert_pem.empty()) {
      BIO* cb =
          BIO_new_mem_buf(tls.client_cert_pem.data(), static_cast<int>(tls.client_cert_pem.size()));
      X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
      BIO_free(cb);
      BIO* kb =
          BIO_new_mem_buf(tls.client_key_pem.data(), static_cast<int>(tls.client_key_pem.size()));
      EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
      BIO_free(kb);
      bool ok = cert && key && SSL_CTX_use_certificate(ctx, cert) == 1 &&
                SSL_CTX_use_PrivateKey(ctx, key) == 1;
      X509_free(cert);
      EVP_PKEY_free(key);
      if (!ok) {
        SSL_CTX_free(ctx);
        return InvalidArgumentError("the client certificate or key is not valid PEM");
      }
    }
    ctx_ = ctx;
    return ctx_;
  }

  std::unique_ptr<Conn> TakeIdle(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& idle = pool_[key];
    while (!idle.empty()) {
      std::unique_ptr<Conn> c = std::move(idle.back());
      idle.pop_back();
      if (!c->StaleWhileIdle()) return c;
    }
    return nullptr;
  }

  void PutIdle(const std::string& key, std::unique_ptr<Conn> c) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& idle = pool_[key];
    if (idle.size() < kMaxIdlePerOrigin) idle.push_back(std::move(c));
  }

  bool ViaProxy(const Url& url) const {
    return proxy_.has_value() && !HostBypassesProxy(url.host, options_.no_proxy);
  }

  Status Open(const Url& url, SteadyTime deadline, std::unique_ptr<Conn>& out) {
    auto c = std::make_unique<Conn>();
    if (ViaProxy(url)) {
      if (!proxy_->ok()) return proxy_->status();
      const Url& proxy = proxy_->value();
      if (proxy.tls()) {
        return InvalidArgumentError("proxy URL must be http://[user:pass@]host:port, got " +
                                    RedactUrl(options_.proxy_url));
      }
      if (Status s = c->Connect(proxy.host, proxy.port, deadline); !s.ok()) return s;
      if (url.tls()) {
        if (Status s = Tunnel(*c, url, proxy, deadline); !s.ok()) return s;
      }
    } else if (Status s = c->Connect(url.host, url.port, deadline); !s.ok()) {
      return s;
    }
    if (url.tls()) {
      auto ctx = TlsContext();
      if (!ctx.ok()) return ctx.status();
      if (Status s = c->StartTls(*ctx, url.host, !options_.tls.insecure_skip_verify, deadline);
          !s.ok())
        return s;
    }
    out = std::move(c);
    return Status::Ok();
  }

  // CONNECT through the proxy for an https URL; the proxy's answer is read with Beast.
  static Status Tunnel(Conn& c, const Url& url, const Url& proxy, SteadyTime deadline) {
    bhttp::request<bhttp::empty_body> req{bhttp::verb::connect, url.Authority(), 11};
    req.set(bhttp::field::host, url.Authority());
    if (proxy.has_credentials)
      req.set(bhttp::field::proxy_authorization, BasicAuthorization(proxy));
    if (Status s = c.WriteAll(internal::Serialize(req, false), deadline); !s.ok()) return s;
    bhttp::response_parser<bhttp::empty_body> parser;
    parser.header_limit(kMaxResponseHeaderBytes);
    parser.skip(true);  // a 2xx answer to CONNECT has no body; the tunnel follows
    while (!parser.is_header_done()) {
      if (!c.buf_.empty()) {
        error_code ec;
        size_t n = parser.put(boost::asio::buffer(c.buf_), ec);
        c.buf_.erase(0, n);
        if (ec && ec != bhttp::error::need_more) {
          return UnavailableError("malformed answer from the proxy to CONNECT: " + ec.message());
        }
        if (parser.is_header_done()) break;
      }
      auto n = c.ReadSome(deadline);
      if (!n.ok()) return n.status();
      if (*n == 0) return UnavailableError("proxy closed the connection during CONNECT");
    }
    unsigned status = parser.get().result_int();
    if (status / 100 != 2) {
      return UnavailableError("proxy refused CONNECT to " + url.Authority() + ": " +
                              std::to_string(status) + " " + std::string(parser.get().reason()));
    }
    return Status::Ok();
  }

  static std::string SerializeRequest(const ClientRequest& request, const Url& url,
                                      const std::optional<Url>& plain_proxy) {
    bhttp::request<bhttp::string_body> req;
    req.version(11);
    req.method_string(request.method);
    // Through a proxy, plain http names the whole URL; https goes through a CONNECT tunnel.
    req.target(plain_proxy ? url.scheme + "://" + url.HostHeader() + url.target : url.target);
    req.set(bhttp::field::host, url.HostHeader());
    for (const auto& [k, v] : request.headers) {
      if (internal::EqualsIgnoreCase(k, "Host") || internal::IsFramingHeader(k)) continue;
      req.insert(k, v);
    }
    if (plain_proxy && plain_proxy->has_credentials) {
      req.set(bhttp::field::proxy_authorization, BasicAuthorization(*plain_proxy));
    }
    req.body() = request.body;
    req.prepare_payload();
    return internal::Serialize(req, false);
  }

  // One request/response exchange. The body goes to `sink` piece by piece. A pooled connection
  // that the server closed while it sat idle is retried once on a new connection, for idempotent
  // methods only: a POST or PATCH that may have been processed is never sent twice.
  Status Exchange(const ClientRequest& request, CancelToken* cancel,
                  const std::function<void(const ClientResponse&)>* on_head,
                  const SinkBody::Sink& sink, ClientResponse* response) {
    auto parsed = ParseUrl(request.url);
    if (!parsed.ok()) return parsed.status();
    const Url& url = *parsed;
    for (const auto& [k, v] : request.headers) {
      if (!IsValidHeaderName(k) || !IsValidHeaderValue(v)) {
        return InvalidArgumentError("request header \"" + k +
                                    "\" has an invalid name or a control character in its value");
      }
    }
    const bool streaming = cancel != nullptr;
    // Send: a whole-request deadline. Stream: the timeout bounds silence between bytes.
    const auto now = std::chrono::steady_clock::now();
    const SteadyTime deadline =
        request.timeout.count() > 0 ? now + request.timeout : SteadyTime::max();
    std::optional<Url> plain_proxy;
    if (!url.tls() && ViaProxy(url)) {
      if (!proxy_->ok()) return proxy_->status();
      plain_proxy = proxy_->value();
    }
    const std::string wire = SerializeRequest(request, url, plain_proxy);
    const std::string key = url.Origin();
    for (int attempt = 0;; ++attempt) {
      // A request marked unrepeatable never rides a pooled connection (ClientRequest::repeatable).
      const bool fresh = streaming || attempt > 0 || request.repeatable == false;
      std::unique_ptr<Conn> conn = fresh ? nullptr : TakeIdle(key);
      const bool reused = conn != nullptr;
      if (!conn) {
        if (Status s = Open(url, deadline, conn); !s.ok()) return s;
      }
      bool answered = false;
      bool keep_alive = false;
      Status s;
      {
        CancelHook hook(cancel, conn.get());
        s = RoundTrip(*conn, wire, request, url, deadline, on_head, sink, response, answered,
                      keep_alive);
      }
      if (s.ok()) {
        if (keep_alive && !streaming) PutIdle(key, std::move(conn));
        return s;
      }
      if (cancel && cancel->cancelled()) return s;
      if (reused && !answered && attempt == 0 && s.code() == StatusCode::kUnavailable &&
          IsRepeatable(request)) {
        continue;  // the server had closed the pooled connection; try once on a new one
      }
      return s;
    }
  }

  // Writes the request and reads the response with Beast's parser. `answered`: a byte of the
  // response arrived (so the request reached a live server). `keep_alive`: the connection is
  // clean and may carry another request.
  Status RoundTrip(Conn& conn, const std::string& wire, const ClientRequest& request,
                   const Url& url, SteadyTime deadline,
                   const std::function<void(const ClientResponse&)>* on_head,
                   const SinkBody::Sink& sink, ClientResponse* response, bool& answered,
                   bool& keep_alive) {
    const bool streaming = on_head != nullptr;
    if (Status s = conn.WriteAll(wire, deadline); !s.ok()) return s;
    auto read_deadline = [&] {
      return streaming && request.timeout.count() > 0
                 ? std::chrono::steady_clock::now() + request.timeout
                 : deadline;
    };
    std::optional<bhttp::response_parser<SinkBody>> parser;
    auto fresh_parser = [&] {
      parser.emplace();
      parser->header_limit(kMaxResponseHeaderBytes);
      parser->body_limit(streaming ? std::numeric_limits<std::uint64_t>::max()
                                   : static_cast<std::uint64_t>(options_.max_response_bytes));
      parser->skip(request.method == "HEAD");
      parser->eager(false);  // stop after the header, so the head is delivered before the body
      parser->get().body().sink = &sink;
    };
    fresh_parser();
    bool head_delivered = false;
    for (;;) {
      if (!conn.buf_.empty()) {
        error_code ec;
        size_t n = parser->put(boost::asio::buffer(conn.buf_), ec);
        conn.buf_.erase(0, n);
        if (parser->get().body().stopped) return Status::Ok();  // the caller had enough
        if (ec == bhttp::error::body_limit) {
          return Status(StatusCode::kResourceExhausted,
                        "response from " + url.Origin() + " is larger than " +
                            std::to_string(options_.max_response_bytes) + " bytes");
        }
        if (ec && ec != bhttp::error::need_more) {
          return UnavailableError("malformed response from " + url.Origin() + ": " + ec.message());
        }
        if (parser->is_header_done() && !head_delivered) {
          const auto& msg = parser->get();
          unsigned status = msg.result_int();
          if (status >= 100 && status < 200 && status != 101) {
            fresh_parser();  // an interim answer (100 Continue): the real one follows
            continue;
          }
          ClientResponse head;
          head.status = static_cast<int>(status);
          for (const auto& field : msg) {
            auto [it, inserted] =
                head.headers.emplace(std::string(field.name_string()), std::string(field.value()));
            if (!inserted) it->second += ", " + std::string(field.value());
          }
          if (on_head) (*on_head)(head);
          if (response) {
            response->status = head.status;
            response->headers = std::move(head.headers);
          }
          head_delivered = true;
          if (parser->is_done()) break;  // no body (HEAD, 204, Content-Length: 0)
          parser->eager(true);
          continue;
        }
        if (parser->is_done()) break;
        if (!ec && !conn.buf_.empty()) continue;
      }
      auto n = conn.ReadSome(read_deadline());
      if (!n.ok()) return n.status();
      if (*n == 0) {
        // The server closed: the end of a body that runs to the close, or a truncated answer.
        error_code ec;
        if (answered && parser->is_header_done()) parser->put_eof(ec);
        if (!answered || !parser->is_header_done() || ec) {
          return UnavailableError("connection closed by " + url.Origin() +
                                  (answered ? " before the response ended" : ""));
        }
        break;
      }
      answered = true;
    }
    keep_alive = parser->get().keep_alive() && !parser->need_eof() && conn.buf_.empty();
    return Status::Ok();
  }

  TransportOptions options_;
  std::optional<StatusOr<Url>> proxy_;
  std::mutex mu_;
  SSL_CTX* ctx_ = nullptr;
  std::map<std::string, std::vector<std::unique_ptr<Conn>>> pool_;
};

}  // namespace

std::unique_ptr<HttpTransport> NewSocketTransport(TransportOptions options) {
  return std::make_unique<SocketTransport>(std::move(options));
}

}  // namespace cte::http
