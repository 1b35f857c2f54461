// local-apiserver: a Kubernetes API server for development and tests. Prints the URL it serves
// on (first line of stdout) and optionally writes a kubeconfig, then serves until SIGINT/SIGTERM.
#include <cstdlib>
#include <iostream>
#include <string>

#include "hack/local-apiserver/api_server.h"
#include "operator/core/stop_signals.h"
#include "operator/http/http_types.h"

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
    } else if (arg == "--bookmark-interval-ms" || arg == "--history-limit") {
      std::string v = value();
      char* end = nullptr;
      long long n = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 1) {
        std::cerr << "local-apiserver: " << arg << " must be a positive integer, got \"" << v
                  << "\"\n";
        return 2;
      }
      if (arg == "--bookmark-interval-ms") {
        options.bookmark_interval = std::chrono::milliseconds(n);
      } else {
        options.history_limit = static_cast<size_t>(n);
      }
    } else if (arg == "-h" || arg == "--help") {
      Usage();
      return 0;
    } else {
      std::cerr << "local-apiserver: unknown flag " << arg << "\n";
      Usage();
      return 2;
    }
  }
  auto bind = cte::http::ParseBindAddress("--listen", listen);
  if (!bind.ok() || bind->disabled) {
    std::cerr << "local-apiserver: "
              << (bind.ok() ? "--listen: cannot be disabled" : bind.status().message()) << "\n";
    return 2;
  }
  const cte::StopSignals signals;  // before any thread starts

  cte::apiserver::ApiServer server(options);
  if (auto s = server.Start(bind->host, bind->port); !s.ok()) {
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
  signals.Wait();
  server.Stop();
  return 0;
}
