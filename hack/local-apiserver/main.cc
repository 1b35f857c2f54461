// local-apiserver: a Kubernetes API server for development and tests. Prints the URL it serves
// on (first line of stdout) and optionally writes a kubeconfig, then serves until SIGINT/SIGTERM.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>

#include "hack/local-apiserver/api_server.h"

namespace {

void Usage() {
  std::cerr << "usage: local-apiserver [--listen 127.0.0.1:0] [--kubeconfig-out FILE]\n"
               "                      [--bookmark-interval-ms N] [--history-limit N]\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:0";
  std::string kubeconfig_out;
  cte::apiserver::ApiServerOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "local-apiserver: " << arg << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--listen") {
      listen = value();
    } else if (arg == "--kubeconfig-out") {
      kubeconfig_out = value();
    } else if (arg == "--bookmark-interval-ms") {
      options.bookmark_interval = std::chrono::milliseconds(std::stoll(value()));
    } else if (arg == "--history-limit") {
      options.history_limit = std::stoull(value());
    } else if (arg == "-h" || arg == "--help") {
      Usage();
      return 0;
    } else {
      std::cerr << "local-apiserver: unknown flag " << arg << "\n";
      Usage();
      return 2;
    }
  }
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    std::cerr << "local-apiserver: --listen must be HOST:PORT, got " << listen << "\n";
    return 2;
  }
  // Block the stop signals in every thread; the main thread waits for them below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  cte::apiserver::ApiServer server(options);
  if (auto s = server.Start(listen.substr(0, colon), std::stoi(listen.substr(colon + 1)));
      !s.ok()) {
    std::cerr << "local-apiserver: " << s.ToString() << "\n";
    return 1;
  }
  if (!kubeconfig_out.empty()) {
    if (auto s = server.WriteKubeconfig(kubeconfig_out); !s.ok()) {
      std::cerr << "local-apiserver: " << s.ToString() << "\n";
      return 1;
    }
  }
  std::cout << server.url() << std::endl;
  int sig = 0;
  sigwait(&signals, &sig);
  server.Stop();
  return 0;
}
