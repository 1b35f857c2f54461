// A TCP server on 127.0.0.1:0 whose every connection runs a test's script: for client tests that
// need a server to misbehave exactly (close while idle, send trailers, announce a huge body, act
// as a proxy). Each connection gets its own thread; the destructor closes everything and joins.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cte::testing {

// A listening TCP socket on 127.0.0.1 with a free port; sets `port`.
inline int ListenOnLoopback(int& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::listen(fd, 64);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  return fd;
}

class ScriptedServer {
 public:
  // `script(fd, index)` runs once per accepted connection (index counts from 0); the connection is
  // closed when it returns.
  explicit ScriptedServer(std::function<void(int fd, int index)> script)
      : script_(std::move(script)) {
    listen_fd_ = ListenOnLoopback(port_);
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~ScriptedServer() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    accept_thread_.join();
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    for (auto& t : threads_) t.join();
    for (int fd : fds_) ::close(fd);
    ::close(listen_fd_);
  }
  ScriptedServer(const ScriptedServer&) = delete;
  ScriptedServer& operator=(const ScriptedServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int connections() const { return accepted_; }

  // Reads one request (headers and a Content-Length body); "" when the peer closed first.
  static std::string ReadRequest(int fd, std::string& carry) {
    for (;;) {
      size_t end = carry.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t want = end + 4;
        size_t cl = carry.find("Content-Length: ");
        if (cl != std::string::npos && cl < end) want += std::stoul(carry.substr(cl + 16));
        if (carry.size() >= want) {
          std::string request = carry.substr(0, want);
          carry.erase(0, want);
          return request;
        }
      }
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 10000) <= 0) return "";
      char buf[8192];
      ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) return "";
      carry.append(buf, static_cast<size_t>(n));
    }
  }

  static void Write(int fd, const std::string& data) {
    ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
  }

 private:
  void AcceptLoop() {
    while (!stopping_) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      int index = accepted_++;
      std::lock_guard<std::mutex> lock(mu_);
      fds_.push_back(fd);
      threads_.emplace_back([this, fd, index] {
        script_(fd, index);
        ::shutdown(fd, SHUT_RDWR);
      });
    }
  }

  std::function<void(int, int)> script_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::thread accept_thread_;
  std::mutex mu_;
  std::vector<int> fds_;
  std::vector<std::thread> threads_;
};

}  // namespace cte::testing
