// A deliberately dumb HTTP/1.1 client over a blocking socket for tests of our servers: it sends
// exactly the bytes the test wrote, so tests can exercise keep-alive, chunked bodies and streams.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

namespace cte::testing {

class SocketClient {
 public:
  explicit SocketClient(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~SocketClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  SocketClient(const SocketClient&) = delete;
  SocketClient& operator=(const SocketClient&) = delete;

  bool connected() const { return connected_; }

  bool Send(const std::string& data) {
    return ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
  }

  // Reads until `needle` has been received, the peer closes, or the deadline passes. Returns
  // everything received so far on this connection that has not been consumed.
  std::string ReadUntil(const std::string& needle,
                        std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (buffer_.find(needle) == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[8192];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      buffer_.append(buf, static_cast<size_t>(n));
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

  // Reads one complete response with a Content-Length body.
  std::string ReadResponse() {
    std::string head = ReadUntil("\r\n\r\n");
    size_t cl = head.find("Content-Length: ");
    if (cl == std::string::npos) return head;
    size_t n = std::stoul(head.substr(cl + 16));
    while (buffer_.size() < n && !closed_) {
      char buf[8192];
      ssize_t got = ::recv(fd_, buf, sizeof(buf), 0);
      if (got <= 0) break;
      buffer_.append(buf, static_cast<size_t>(got));
    }
    std::string body = buffer_.substr(0, n);
    buffer_.erase(0, std::min(n, buffer_.size()));
    return head + body;
  }

  bool closed() const { return closed_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string buffer_;
};

}  // namespace cte::testing
