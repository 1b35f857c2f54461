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

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

namespace cte::http {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

struct Url {
  bool tls = false;
  std::string host;
  int port = 0;
  std::string target;  // path?query
};

bool ParseUrl(const std::string& url, Url& out) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return false;
  std::string scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return false;
  out.tls = scheme == "https";
  size_t host_start = scheme_end + 3;
  size_t path = url.find('/', host_start);
  std::string authority =
      url.substr(host_start, (path == std::string::npos ? url.size() : path) - host_start);
  out.target = path == std::string::npos ? "/" : url.substr(path);
  std::string port;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) return false;
    out.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':')
      port = authority.substr(close + 2);
  } else {
    size_t colon = authority.rfind(':');
    out.host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
  }
  out.port = port.empty() ? (out.tls ? 443 : 80) : std::atoi(port.c_str());
  return !out.host.empty() && out.port > 0 && out.port < 65536;
}

std::string SslError() {
  unsigned long e = ERR_get_error();
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return e ? buf : "TLS error";
}

// One TCP (optionally TLS) connection. Not thread-safe; owned by one request at a time.
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

class SocketTransport : public HttpTransport {
 public:
  explicit SocketTransport(TransportOptions options) : options_(std::move(options)) {}
  ~SocketTransport() override {
    pool_.clear();
    if (ctx_) SSL_CTX_free(ctx_);
  }

  StatusOr<ClientResponse> Send(const ClientRequest& request) override {
    ClientResponse response;
    std::string body;
    Status s = Exchange(request, nullptr, nullptr, &response, &body);
    if (!s.ok()) return s;
    response.body = std::move(body);
    return response;
  }

  Status Stream(const ClientRequest& request, CancelToken& cancel,
                const std::function<void(const ClientResponse& head)>& on_head,
                const std::function<bool(std::string_view data)>& on_data) override {
    Status s = Exchange(request, &cancel, &on_head, nullptr, nullptr, &on_data);
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
    } else {
      SSL_CTX_set_default_verify_paths(ctx);
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
    if (idle.size() < 16) idle.push_back(std::move(c));
  }

  Status Open(const Url& url, SteadyTime deadline, std::unique_ptr<Conn>& out) {
    auto c = std::make_unique<Conn>();
    bool via_proxy = !options_.proxy_url.empty() && !HostBypassesProxy(url.host, options_.no_proxy);
    if (via_proxy) {
      Url proxy;
      if (!ParseUrl(options_.proxy_url, proxy) || proxy.tls) {
        return InvalidArgumentError("proxy URL must be http://host:port, got " +
                                    options_.proxy_url);
      }
      if (Status s = c->Connect(proxy.host, proxy.port, deadline); !s.ok()) return s;
      std::string authority = url.host + ":" + std::to_string(url.port);
      if (Status s = c->WriteAll(
              "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n", deadline);
          !s.ok()) {
        return s;
      }
      size_t end;
      while ((end = c->buf_.find("\r\n\r\n")) == std::string::npos) {
        auto n = c->ReadSome(deadline);
        if (!n.ok()) return n.status();
        if (*n == 0) return UnavailableError("proxy closed the connection during CONNECT");
      }
      if (c->buf_.compare(0, 12, "HTTP/1.1 200") != 0 &&
          c->buf_.compare(0, 12, "HTTP/1.0 200") != 0) {
        return UnavailableError("proxy refused CONNECT: " +
                                c->buf_.substr(0, c->buf_.find("\r\n")));
      }
      c->buf_.erase(0, end + 4);
    } else if (Status s = c->Connect(url.host, url.port, deadline); !s.ok()) {
      return s;
    }
    if (url.tls) {
      auto ctx = TlsContext();
      if (!ctx.ok()) return ctx.status();
      if (Status s = c->StartTls(*ctx, url.host, !options_.tls.insecure_skip_verify, deadline);
          !s.ok())
        return s;
    }
    out = std::move(c);
    return Status::Ok();
  }

  // One request/response exchange; for a stream, body pieces go to on_data as they arrive.
  Status Exchange(const ClientRequest& request, CancelToken* cancel,
                  const std::function<void(const ClientResponse&)>* on_head,
                  ClientResponse* response, std::string* body,
                  const std::function<bool(std::string_view)>* on_data = nullptr) {
    Url url;
    if (!ParseUrl(request.url, url))
      return InvalidArgumentError("not an absolute http(s) URL: " + request.url);
    const bool streaming = on_data != nullptr;
    auto now = std::chrono::steady_clock::now();
    // Send: a whole-request deadline. Stream: the timeout bounds silence between bytes.
    SteadyTime deadline = request.timeout.count() > 0 ? now + request.timeout : SteadyTime::max();
    const std::string key =
        std::string(url.tls ? "https://" : "http://") + url.host + ":" + std::to_string(url.port);
    std::unique_ptr<Conn> conn = streaming ? nullptr : TakeIdle(key);
    if (!conn) {
      if (Status s = Open(url, deadline, conn); !s.ok()) return s;
    }
    if (cancel) {
      Conn* raw = conn.get();
      cancel->OnCancel([raw] { raw->Abort(); });
    }
    struct Unhook {
      CancelToken* c;
      ~Unhook() {
        if (c) c->OnCancel(nullptr);
      }
    } unhook{cancel};

    bool via_proxy_plain =
        !url.tls && !options_.proxy_url.empty() && !HostBypassesProxy(url.host, options_.no_proxy);
    std::string head =
        request.method + " " + (via_proxy_plain ? request.url : url.target) + " HTTP/1.1\r\n";
    const bool default_port = (url.tls && url.port == 443) || (!url.tls && url.port == 80);
    head += "Host: ";
    head += url.host;
    if (!default_port) {
      head += ':';
      head += std::to_string(url.port);
    }
    head += "\r\n";
    bool has_length = false;
    for (const auto& [k, v] : request.headers) {
      if (CaseInsensitiveLess{}(k, "Host") == CaseInsensitiveLess{}("Host", k))
        continue;  // we set it
      has_length = has_length || (!CaseInsensitiveLess{}(k, "Content-Length") &&
                                  !CaseInsensitiveLess{}("Content-Length", k));
      head += k + ": " + v + "\r\n";
    }
    if (!has_length && (!request.body.empty() || request.method == "POST" ||
                        request.method == "PUT" || request.method == "PATCH")) {
      head += "Content-Length: " + std::to_string(request.body.size()) + "\r\n";
    }
    head += "\r\n";
    head += request.body;
    if (Status s = conn->WriteAll(head, deadline); !s.ok()) return s;

    // Status line and headers.
    auto read_more = [&]() -> Status {
      SteadyTime d = streaming && request.timeout.count() > 0
                         ? std::chrono::steady_clock::now() + request.timeout
                         : deadline;
      auto n = conn->ReadSome(d);
      if (!n.ok()) return n.status();
      if (*n == 0) return UnavailableError("connection closed by " + url.host);
      return Status::Ok();
    };
    size_t header_end;
    while ((header_end = conn->buf_.find("\r\n\r\n")) == std::string::npos) {
      if (Status s = read_more(); !s.ok()) return s;
      if (conn->buf_.size() > (1 << 20)) return UnavailableError("response headers too large");
    }
    ClientResponse head_out;
    std::string head_text = conn->buf_.substr(0, header_end);
    conn->buf_.erase(0, header_end + 4);
    size_t line_end = head_text.find("\r\n");
    std::string status_line = head_text.substr(0, line_end);
    if (status_line.size() < 12 || status_line.compare(0, 5, "HTTP/") != 0) {
      return UnavailableError("malformed HTTP status line from " + url.host);
    }
    head_out.status = std::atoi(status_line.c_str() + 9);
    size_t pos = line_end == std::string::npos ? head_text.size() : line_end + 2;
    while (pos < head_text.size()) {
      size_t eol = head_text.find("\r\n", pos);
      if (eol == std::string::npos) eol = head_text.size();
      std::string line = head_text.substr(pos, eol - pos);
      pos = eol + 2;
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string v = line.substr(colon + 1);
      v.erase(0, v.find_first_not_of(" \t"));
      head_out.headers[line.substr(0, colon)] = v;
    }
    if (on_head) (*on_head)(head_out);

    auto deliver = [&](std::string_view piece) -> bool {
      if (streaming) return (*on_data)(piece);
      body->append(piece);
      return true;
    };
    bool keep_alive = head_out.Header("Connection").find("close") == std::string::npos;
    const bool chunked = head_out.Header("Transfer-Encoding").find("chunked") != std::string::npos;
    std::string length_header = head_out.Header("Content-Length");
    if (request.method == "HEAD" || head_out.status == 204 || head_out.status == 304) {
      // no body
    } else if (chunked) {
      for (;;) {
        size_t eol;
        while ((eol = conn->buf_.find("\r\n")) == std::string::npos) {
          if (Status s = read_more(); !s.ok()) return s;
        }
        size_t n = std::strtoul(conn->buf_.c_str(), nullptr, 16);
        while (conn->buf_.size() < eol + 2 + n + 2) {
          if (Status s = read_more(); !s.ok()) return s;
        }
        if (n == 0) {
          conn->buf_.erase(0, eol + 4);
          break;
        }
        if (!deliver(std::string_view(conn->buf_).substr(eol + 2, n))) return Status::Ok();
        conn->buf_.erase(0, eol + 2 + n + 2);
      }
    } else if (!length_header.empty()) {
      size_t want = std::strtoull(length_header.c_str(), nullptr, 10);
      while (conn->buf_.size() < want) {
        if (streaming && !conn->buf_.empty()) {
          if (!deliver(conn->buf_)) return Status::Ok();
          want -= conn->buf_.size();
          conn->buf_.clear();
        }
        if (Status s = read_more(); !s.ok()) return s;
      }
      if (!deliver(std::string_view(conn->buf_).substr(0, want))) return Status::Ok();
      conn->buf_.erase(0, want);
    } else {
      keep_alive = false;  // body runs to the end of the connection
      for (;;) {
        if (!conn->buf_.empty()) {
          if (!deliver(conn->buf_)) return Status::Ok();
          conn->buf_.clear();
        }
        SteadyTime d = streaming && request.timeout.count() > 0
                           ? std::chrono::steady_clock::now() + request.timeout
                           : deadline;
        auto n = conn->ReadSome(d);
        if (!n.ok()) return n.status();
        if (*n == 0) break;
      }
    }
    if (response) {
      response->status = head_out.status;
      response->headers = std::move(head_out.headers);
    }
    if (keep_alive && !streaming && conn->buf_.empty()) PutIdle(key, std::move(conn));
    return Status::Ok();
  }

  TransportOptions options_;
  std::mutex mu_;
  SSL_CTX* ctx_ = nullptr;
  std::map<std::string, std::vector<std::unique_ptr<Conn>>> pool_;
};

}  // namespace

std::unique_ptr<HttpTransport> NewSocketTransport(TransportOptions options) {
  return std::make_unique<SocketTransport>(std::move(options));
}

}  // namespace cte::http
