#include "operator/http/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>

namespace cte::http {
namespace {

constexpr size_t kMaxHeaderBytes = 64 * 1024;
constexpr size_t kMaxBodyBytes = 64 * 1024 * 1024;

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

}  // namespace

struct HttpServer::Connection : ResponseWriter {
  int fd = -1;
  std::atomic<bool> done{false};
  std::atomic<bool> closed{false};
  std::atomic<bool>* stopping = nullptr;
  std::thread thread;
  std::string in;          // bytes read but not yet consumed
  bool responded = false;  // the current request has been answered
  bool streaming = false;
  bool keep_alive = true;

  bool SendAll(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        closed = true;
        return false;
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  static std::string HeaderBlock(int status, const Headers& headers) {
    std::ostringstream out;
    out << "HTTP/1.1 " << status << ' ' << ReasonPhrase(status) << "\r\n";
    for (const auto& [k, v] : headers) out << k << ": " << v << "\r\n";
    return out.str();
  }

  void Send(const HttpResponse& response) override {
    if (responded) return;
    responded = true;
    // One buffer, one send: separate writes for head and body cost a syscall and, with delayed
    // ACKs on the peer, latency.
    std::string out = HeaderBlock(response.status, response.headers);
    out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
    if (!keep_alive) out += "Connection: close\r\n";
    out += "\r\n";
    out += response.body;
    SendAll(out);
  }

  bool StartStream(int status, const Headers& headers) override {
    if (responded) return false;
    responded = true;
    streaming = true;
    std::string head = HeaderBlock(status, headers);
    head += "Transfer-Encoding: chunked\r\n\r\n";
    return SendAll(head);
  }

  bool WriteChunk(std::string_view data) override {
    if (Closed() || data.empty()) return !Closed();
    char size[24];
    int n = std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
    std::string chunk;
    chunk.reserve(static_cast<size_t>(n) + data.size() + 2);
    chunk.append(size, static_cast<size_t>(n)).append(data).append("\r\n");
    return SendAll(chunk);
  }

  bool Closed() override {
    if (closed || stopping->load()) return true;
    // A readable socket with nothing to read (or an error) means the peer went away.
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 0) > 0) {
      if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) {
        closed = true;
      } else if (p.revents & POLLIN) {
        char c;
        ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0) closed = true;
      }
    }
    return closed;
  }

  void Abort() override {
    linger l{1, 0};  // RST instead of FIN
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    ::shutdown(fd, SHUT_RDWR);
    closed = true;
    responded = true;
  }

  // Reads until `in` holds at least `want` bytes; false on EOF or error.
  bool ReadMore() {
    char buf[16384];
    for (;;) {
      ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      in.append(buf, static_cast<size_t>(n));
      return true;
    }
  }
};

HttpServer::HttpServer() = default;
HttpServer::~HttpServer() { Stop(); }

void HttpServer::Route(std::string method, std::string pattern, Handler handler) {
  routes_.push_back({std::move(method), SplitPath(pattern), std::move(handler)});
}

Status HttpServer::Start(const std::string& host, int port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return UnavailableError(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return InvalidArgumentError("listen address must be an IPv4 address, got \"" + host + "\"");
  }
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return UnavailableError("bind " + host + ":" + std::to_string(port) + ": " +
                            std::strerror(errno));
  }
  if (::listen(listen_fd_, 128) != 0)
    return UnavailableError(std::string("listen: ") + std::strerror(errno));
  socklen_t len = sizeof(addr);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  accept_thread_ = std::thread([this] { AcceptLoop(); });
  return Status::Ok();
}

void HttpServer::Stop() {
  if (stopping_.exchange(true)) return;
  if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
  if (accept_thread_.joinable()) accept_thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
  std::list<std::shared_ptr<Connection>> conns;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& c : connections_) ::shutdown(c->fd, SHUT_RDWR);
    conns.swap(connections_);
  }
  for (auto& c : conns) {
    if (c->thread.joinable()) c->thread.join();
    ::close(c->fd);
  }
}

void HttpServer::CloseAllConnections() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& c : connections_) {
    c->closed = true;
    ::shutdown(c->fd, SHUT_RDWR);
  }
}

void HttpServer::ReapFinished() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = connections_.begin(); it != connections_.end();) {
    if ((*it)->done) {
      (*it)->thread.join();
      ::close((*it)->fd);
      it = connections_.erase(it);
    } else {
      ++it;
    }
  }
}

void HttpServer::AcceptLoop() {
  while (!stopping_) {
    sockaddr_in peer{};
    socklen_t len = sizeof(peer);
    int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      break;
    }
    ++accepted_;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ReapFinished();
    auto conn = std::make_shared<Connection>();
    conn->fd = fd;
    conn->stopping = &stopping_;
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      ::close(fd);
      break;
    }
    connections_.push_back(conn);
    conn->thread = std::thread([this, conn] { Serve(conn); });
  }
}

void HttpServer::Serve(const std::shared_ptr<Connection>& conn) {
  Connection& c = *conn;
  while (!stopping_ && !c.closed) {
    size_t header_end;
    while ((header_end = c.in.find("\r\n\r\n")) == std::string::npos) {
      if (c.in.size() > kMaxHeaderBytes || !c.ReadMore()) {
        c.done = true;
        return;
      }
    }
    HttpRequest req;
    std::istringstream head(c.in.substr(0, header_end));
    c.in.erase(0, header_end + 4);
    std::string line;
    std::getline(head, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::istringstream request_line(line);
    std::string target, version;
    request_line >> req.method >> target >> version;
    while (std::getline(head, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string value = line.substr(colon + 1);
      size_t b = value.find_first_not_of(" \t");
      value = b == std::string::npos ? "" : value.substr(b);
      req.headers[line.substr(0, colon)] = value;
    }
    size_t q = target.find('?');
    req.path = PercentDecode(target.substr(0, q), false);
    if (q != std::string::npos) {
      req.raw_query = target.substr(q + 1);
      req.query = ParseQuery(req.raw_query);
    }
    // Body: Content-Length or chunked.
    bool bad = false;
    if (req.Header("Transfer-Encoding").find("chunked") != std::string::npos) {
      for (;;) {
        size_t eol;
        while ((eol = c.in.find("\r\n")) == std::string::npos) {
          if (!c.ReadMore()) {
            c.done = true;
            return;
          }
        }
        size_t n = std::strtoul(c.in.substr(0, eol).c_str(), nullptr, 16);
        while (c.in.size() < eol + 2 + n + 2) {
          if (!c.ReadMore()) {
            c.done = true;
            return;
          }
        }
        req.body.append(c.in, eol + 2, n);
        c.in.erase(0, eol + 2 + n + 2);
        if (n == 0) break;
        if (req.body.size() > kMaxBodyBytes) {
          bad = true;
          break;
        }
      }
    } else if (std::string cl = req.Header("Content-Length"); !cl.empty()) {
      size_t n = std::strtoull(cl.c_str(), nullptr, 10);
      if (n > kMaxBodyBytes) {
        bad = true;
      } else {
        while (c.in.size() < n) {
          if (!c.ReadMore()) {
            c.done = true;
            return;
          }
        }
        req.body = c.in.substr(0, n);
        c.in.erase(0, n);
      }
    }
    std::string connection = req.Header("Connection");
    c.keep_alive = version != "HTTP/1.0" && connection != "close" && !bad;
    c.responded = false;
    c.streaming = false;
    if (bad) {
      c.Send(HttpResponse::Text(413, "request body too large\n"));
    } else {
      Dispatch(req, c);
      if (!c.responded) c.Send(HttpResponse::Text(500, "handler sent no response\n"));
    }
    if (c.streaming) {
      if (!c.closed) c.SendAll("0\r\n\r\n");
      // A stream ends the exchange; clients reconnect for the next one.
      c.keep_alive = c.keep_alive && !c.closed;
    }
    if (!c.keep_alive || c.closed) break;
  }
  ::shutdown(c.fd, SHUT_RDWR);
  c.done = true;
}

void HttpServer::Dispatch(const HttpRequest& req, ResponseWriter& writer) {
  std::vector<std::string> segments = SplitPath(req.path);
  PathParams params;
  bool path_matched = false;
  for (const auto& route : routes_) {
    if (!MatchRoute(route.segments, segments, params)) continue;
    path_matched = true;
    if (route.method != "*" && route.method != req.method) continue;
    try {
      route.handler(req, params, writer);
    } catch (const std::exception& e) {
      writer.Send(HttpResponse::Text(500, std::string("internal error: ") + e.what() + "\n"));
    }
    return;
  }
  writer.Send(path_matched ? HttpResponse::Text(405, "method not allowed\n")
                           : HttpResponse::Text(404, "404 page not found\n"));
}

}  // namespace cte::http
