// tenant-simulator: a Netskope tenant for development and tests (docs/tenant-simulator.md).
// Prints the URL it serves on as the first line of stdout, then serves until SIGINT/SIGTERM.
#include <cstdlib>
#include <iostream>
#include <string>

#include "hack/tenant-simulator/tenant_simulator.h"
#include "operator/core/json_util.h"
#include "operator/core/stop_signals.h"
#include "operator/http/http_types.h"

namespace {

void Usage() {
  std::cerr << "usage: tenant-simulator [--listen 127.0.0.1:0] [--v1-token T] [--v2-token T]\n"
               "                        [--config FILE] [--tls-cert FILE --tls-key FILE]\n";
}

}  // namespace

int main(int argc, char** argv) {
  using cte::tenantsim::TokenApi;
  std::string listen = "127.0.0.1:0";
  std::string config_path;
  std::string tls_cert, tls_key;
  cte::tenantsim::SimulatorOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "tenant-simulator: " << arg << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--listen") {
      listen = value();
    } else if (arg == "--v1-token") {
      options.tokens.push_back(cte::tenantsim::FullAccessToken(value(), TokenApi::kV1));
    } else if (arg == "--v2-token") {
      options.tokens.push_back(cte::tenantsim::FullAccessToken(value(), TokenApi::kV2));
    } else if (arg == "--config") {
      config_path = value();
    } else if (arg == "--tls-cert") {
      tls_cert = value();
    } else if (arg == "--tls-key") {
      tls_key = value();
    } else if (arg == "-h" || arg == "--help") {
      Usage();
      return 0;
    } else {
      std::cerr << "tenant-simulator: unknown flag " << arg << "\n";
      Usage();
      return 2;
    }
  }
  if (!config_path.empty()) {
    auto text = cte::ReadFile(config_path);
    if (!text.ok()) {
      std::cerr << "tenant-simulator: " << text.status().ToString() << "\n";
      return 2;
    }
    // YAML is a superset of JSON, so one parser reads both.
    auto docs = cte::ParseYamlDocuments(*text);
    if (!docs.ok()) {
      std::cerr << "tenant-simulator: " << config_path << ": " << docs.status().ToString() << "\n";
      return 2;
    }
    for (const auto& doc : *docs) {
      auto applied = cte::tenantsim::ApplyConfig(doc, options);
      if (!applied.ok()) {
        std::cerr << "tenant-simulator: " << config_path << ": " << applied.status().ToString()
                  << "\n";
        return 2;
      }
      options = *applied;
    }
  }
  if (tls_cert.empty() != tls_key.empty()) {
    std::cerr << "tenant-simulator: --tls-cert and --tls-key go together\n";
    return 2;
  }
  if (!tls_cert.empty()) options.tls = cte::http::TlsServerOptions{tls_cert, tls_key};
  auto bind = cte::http::ParseBindAddress("--listen", listen);
  if (!bind.ok() || bind->disabled) {
    std::cerr << "tenant-simulator: "
              << (bind.ok() ? "--listen: cannot be disabled" : bind.status().message()) << "\n";
    return 2;
  }
  const cte::StopSignals signals;  // before any thread starts

  cte::RealClock clock;
  cte::tenantsim::TenantSimulator simulator(options, clock);
  if (auto s = simulator.Start(bind->host, bind->port); !s.ok()) {
    std::cerr << "tenant-simulator: " << s.ToString() << "\n";
    return 1;
  }
  std::cout << simulator.url() << std::endl;
  signals.Wait();
  simulator.Stop();
  return 0;
}
