// Serves a Registry as GET /metrics on one of our HttpServers (the `--metrics-bind-address`
// one in main.cc), in the text format Prometheus scrapes.
#pragma once

#include <string_view>

#include "operator/http/http_server.h"
#include "operator/metrics/registry.h"

namespace cte::metrics {

// The Content-Type of a text exposition.
inline constexpr std::string_view kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

// Adds the GET /metrics route; call before server.Start(). `registry` must outlive the server.
// Each scrape renders on the connection's thread; recording continues meanwhile.
void InstallMetricsHandler(http::HttpServer& server, Registry& registry);

}  // namespace cte::metrics
