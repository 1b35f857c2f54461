// A deliberately dumb HTTP/1.1 client over a blocking socket for tests of our servers: it sends
// exactly the bytes the test wrote, so tests can exercise keep-alive, chunked bodies, streams and
// malformed framing.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

namespace cte::testing {

class SocketClient {
 public:
  // Connects to 127.0.0.1:port, or to `host` (an IPv4 or IPv6 literal).
  explicit SocketClient(int port, const std::string& host = "127.0.0.1") {
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (host.find(':') != std::string::npos) {
      auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
      a6->sin6_family = AF_INET6;
      a6->sin6_port = htons(static_cast<uint16_t>(port));
      ::inet_pton(AF_INET6, host.c_str(), &a6->sin6_addr);
      len = sizeof(sockaddr_in6);
    } else {
      auto* a4 = reinterpret_cast<sockaddr_in*>(&ss);
      a4->sin_family = AF_INET;
      a4->sin_port = htons(static_cast<uint16_t>(port));
      ::inet_pton(AF_INET, host.c_str(), &a4->sin_addr);
      len = sizeof(sockaddr_in);
    }
    fd_ = ::socket(ss.ss_family, SOCK_STREAM, 0);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&ss), len) == 0;
  }
  ~SocketClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  SocketClient(const SocketClient&) = delete;
  SocketClient& operator=(const SocketClient&) = delete;

  bool connected() const { return connected_; }
  int fd() const { return fd_; }

  bool Send(const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
      ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  // Reads until `needle` has been received, the peer closes, or the deadline passes. Returns
  // everything received so far on this connection that has not been consumed.
  std::string ReadUntil(const std::string& needle,
                        std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (buffer_.find(needle) == std::string::npos) {
      if (!Fill(deadline)) break;
    }
    std::string out = buffer_;
    size_t at = buffer_.find(needle);
    if (at != std::string::npos) {
      out = buffer_.substr(0, at + needle.size());
      buffer_.erase(0, at + needle.size());
    } else {
      buffer_.clear();
    }
    return out;
  }

  // Reads until the peer closes (or the deadline passes); returns what arrived.
  std::string ReadToClose(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!closed_ && Fill(deadline)) {
    }
    std::string out;
    out.swap(buffer_);
    return out;
  }

  // Reads one complete response with a Content-Length body.
  std::string ReadResponse() {
    std::string head = ReadUntil("\r\n\r\n");
    size_t cl = head.find("Content-Length: ");
    if (cl == std::string::npos) return head;
    size_t n = std::stoul(head.substr(cl + 16));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (buffer_.size() < n && !closed_ && Fill(deadline)) {
    }
    std::string body = buffer_.substr(0, n);
    buffer_.erase(0, std::min(n, buffer_.size()));
    return head + body;
  }

  bool closed() const { return closed_; }
  // True when the connection was reset (RST) rather than closed in order.
  bool reset() const { return reset_; }

 private:
  // Reads once; false on close, error or deadline.
  bool Fill(std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[8192];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) {
      closed_ = true;
      reset_ = n < 0 && errno == ECONNRESET;
      return false;
    }
    buffer_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  bool reset_ = false;
  std::string buffer_;
};

}  // namespace cte::testing
